"""What a reader takes from a source document, before anything is mapped.

Readers (`tables.py` for Word and Excel task tables, `text.py` for pasted or OCR'd text) only
find the plan's structure and keep each cell's words as written; mapping those words to unit
codes, schedules and categories, and writing the plan file with a comment on every guess, is
`build.py`'s, the same for every reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Place:
    """Where a value came from, as a person finds it in the source document."""

    row: int | None = None  # the table's row, counted from 1 at the table's first row
    column: str | None = None  # the column's heading, as written
    line: int | None = None  # a text source's line, from 1
    table: int | None = None  # the document's table, from 1 (Word files hold several)
    sheet: str | None = None  # an Excel sheet's name

    def describe(self) -> str:
        """`table 2, row 7, column "Đơn vị chủ trì"` / `line 42`: for one-line problems."""
        parts: list[str] = []
        if self.sheet is not None:
            parts.append(f'sheet "{self.sheet}"')
        if self.table is not None:
            parts.append(f"table {self.table}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column is not None:
            parts.append(f'column "{self.column}"')
        return ", ".join(parts) or "the document"


@dataclass(frozen=True)
class RawSection:
    """A group row (`A CHỈ SỐ CẢI CÁCH HÀNH CHÍNH`, `I. | CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO`) or a
    numbered heading of a text: it names the items under it."""

    code: str  # hierarchical, e.g. "A.I"
    title: str
    place: Place


@dataclass(frozen=True)
class RawItem:
    """One task row, each value as the source wrote it (None: the source has no such value)."""

    code: str  # hierarchical code built from the groups above it, e.g. "A.I.2" or "II.3"
    number: str  # the row's own number as written ("2", "2.1.", "a)", "-")
    title: str
    place: Place
    section: str | None = None  # code of the innermost RawSection it falls under
    lead: str | None = None  # "Phòng HC&TH"
    cooperating: str | None = None  # "Các phòng, đơn vị"
    schedule: str | None = None  # "Trong năm 2023", "Quý II/2024", "Thường xuyên"
    deliverable: str | None = None
    places: dict[str, Place] = field(default_factory=dict)  # "lead", "schedule", ...: the cell
    # What the reader had to guess about the row itself (Vietnamese, each written as a comment
    # on the task): a number Excel stored as a float, a formula never calculated.
    notes: tuple[str, ...] = ()


@dataclass
class RawPlan:
    """A whole source document as read."""

    source: str  # the file's name, for comments and messages
    title: str | None = None  # the document's heading (KẾ HOẠCH ...), when found
    number: str | None = None  # "105/KH-UBND" when found in the header
    sections: list[RawSection] = field(default_factory=list)
    items: list[RawItem] = field(default_factory=list)
    # Rows or lines the reader could not take as a section or an item, each with why:
    # reported to the person, never dropped silently.
    skipped: list[tuple[Place, str]] = field(default_factory=list)
