"""A plan's task table(s) in a Word (.docx) or Excel (.xlsx) file, read into a RawPlan.

The header row is found by its headings, in the spellings and orders agencies use (TT /
Nội dung / Đơn vị chủ trì / Đơn vị phối hợp / Thời gian thực hiện / Sản phẩm), matched
without case, diacritics or line breaks; a heading over two rows ("Đơn vị" merged over
"Chủ trì | Phối hợp") is read as one. Merged cells give their text once. Group rows (A, I.,
II, or a title spanning the row) become sections and give the rows below them their
hierarchical codes (A.I.2; a sub-number 2.1 under 2 keeps its number: A.IV.2.1). Every other
row with words in it that is neither a task nor a group is kept in `skipped`, with why.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.definitions.plan_import.rows import Place, RawItem, RawPlan, RawSection
from workflow.definitions.plan_import.schedules import plain

FIELDS = ("number", "title", "lead", "cooperating", "schedule", "deliverable")
VALUES = ("lead", "cooperating", "schedule", "deliverable")  # what a group row leaves empty


class Unreadable(Exception):
    """The file cannot be read as a plan: one line for the person, what is wrong."""


@dataclass
class Cell:
    text: str
    span: int = 1  # columns this cell covers (a horizontal merge)
    merged: bool = False  # covered by a merged cell to its left (or above, in a header)
    # The lower part of a vertical merge: the text above, repeated (one unit merged down over
    # several task rows leads each of them).
    down: bool = False
    # Excel: what the reader had to guess about the value (a float, a formula), in Vietnamese.
    note: str | None = None


Grid = list[list[Cell]]


@dataclass
class Table:
    rows: Grid
    first_row: int = 1  # the number a person sees for rows[0] (Excel's row number)
    table: int | None = None  # Word: the table's number in the document
    sheet: str | None = None  # Excel: the sheet's name
    above: list[str] = field(default_factory=list)  # Excel: texts above the header
    hidden: set[int] = field(default_factory=set)  # Excel: rows (indexes into rows) hidden
    hidden_columns: list[str] = field(default_factory=list)  # Excel: letters, with words in them


def field_of(heading: str) -> str | None:
    """What a column holds, from its heading: one of FIELDS, "unit" for a heading over two
    columns ("Đơn vị" over "Chủ trì | Phối hợp"), or None."""
    words = re.sub(r"[^a-z0-9 ]+", " ", plain(heading))
    words = " ".join(words.split())
    if words in ("tt", "stt", "so tt", "so thu tu", "muc"):
        return "number"
    if "chu tri" in words:
        return "lead"
    if "phoi hop" in words:
        return "cooperating"
    if re.search(r"\b(thoi gian|tien do|thoi han|thoi diem)\b", words):
        return "schedule"
    if re.search(r"\b(san pham|ket qua|hinh thuc)\b", words):
        return "deliverable"
    # One column for the units ("Đơn vị thực hiện"): before the title's words, for "Cơ quan
    # thực hiện nhiệm vụ".
    if re.match(r"(co quan|don vi|phong|bo phan)\b.*\bthuc hien\b", words):
        return "unit"
    if re.search(r"\b(noi dung|nhiem vu|giai phap|cong viec|ten nhiem vu)\b", words):
        return "title"
    if words in ("don vi", "co quan", "phong don vi", "don vi thuc hien", "co quan don vi"):
        return "unit"
    return None


# ---------------------------------------------------------------- files into grids


def read_tables(path: Path) -> RawPlan:
    """The plan in `path` (.docx or .xlsx); Unreadable when it cannot be read or holds no
    task table."""
    suffix = path.suffix.lower()
    if suffix not in (".docx", ".xlsx"):
        raise Unreadable(
            f"{path}: cannot read a {path.suffix or 'suffix-less'} file; give a Word .docx or "
            "an Excel .xlsx file (or a text file with --from-text)"
        )
    if not path.is_file():
        raise Unreadable(f"{path}: no such file")
    if suffix == ".docx":
        tables, title, number = _docx(path)
    else:
        tables, title, number = _xlsx(path)
    plan = RawPlan(source=path.name, title=title, number=number)
    _Reader(plan).read(tables)
    if not plan.items:
        raise Unreadable(
            f"{path}: no task table found: no table has a header row with the headings TT, "
            "Nội dung (nhiệm vụ), Đơn vị chủ trì, Đơn vị phối hợp, Thời gian thực hiện"
        )
    return plan


def _docx(path: Path) -> tuple[list[Table], str | None, str | None]:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # the library's own errors for a damaged file are many
        raise _damaged(path, "Word", exc) from None
    tables: list[Table] = []
    for n, tbl in enumerate(_word_tables(document.element.body), start=1):
        tables.append(Table(_padded(_docx_grid(tbl)), table=n))
    heading = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    # The number ("Số: 215/KH-SCT") is usually in the two-cell layout table above the text.
    layout = [
        line.strip()
        for table in tables[:2]
        for row in table.rows[:4]
        for cell in row
        for line in cell.text.splitlines()
        if line.strip()
    ]
    return tables, _title(heading) or _title(layout), _number(heading) or _number(layout)


# Word's tables are read from the document's XML (WordprocessingML, through the public
# `Document.element`), not through python-docx's cell objects: which grid columns a cell spans
# (w:gridSpan), where a vertical merge goes on (w:vMerge) and the blank columns a row starts
# or ends with (w:gridBefore, w:gridAfter) are all written there, and python-docx offers no
# public way to tell that two of its cell objects are the same merged cell.


def _word(name: str) -> str:
    from docx.oxml.ns import qn

    return str(qn(name))


def _children(element: Any, name: str) -> list[Any]:
    """`element`'s children called `name`, looking inside content controls (w:sdt), which
    wrap rows, cells or whole tables in documents made from forms."""
    tag, sdt, content = _word(name), _word("w:sdt"), _word("w:sdtContent")
    found: list[Any] = []
    for child in element.iterchildren():
        if child.tag == tag:
            found.append(child)
        elif child.tag == sdt:
            for inner in child.iterchildren(content):
                found += _children(inner, name)
    return found


def _word_tables(container: Any) -> list[Any]:
    """The tables of the body and, after each, the tables nested in its cells (a task table
    put inside a one-cell layout table), in document order."""
    out: list[Any] = []
    for tbl in _children(container, "w:tbl"):
        out.append(tbl)
        for tr in _children(tbl, "w:tr"):
            for tc in _children(tr, "w:tc"):
                out += _word_tables(tc)
    return out


def _number_of(properties: Any, name: str, default: int) -> int:
    if properties is None:
        return default
    found = properties.find(_word(name))
    if found is None:
        return default
    try:
        return max(0, int(found.get(_word("w:val"), default)))
    except ValueError:
        return default


def _docx_grid(tbl: Any) -> Grid:
    """The table's rows on its layout grid: a horizontally merged cell once, then a covered
    blank per further column it spans; the lower part of a vertical merge repeats the text
    above (marked `down`); a row that starts late or ends early (gridBefore/gridAfter) gets
    blanks there, so that every value stays under its heading."""
    rows: Grid = []
    for tr in _children(tbl, "w:tr"):
        properties = tr.find(_word("w:trPr"))
        row: list[Cell] = [Cell("") for _ in range(_number_of(properties, "w:gridBefore", 0))]
        for tc in _children(tr, "w:tc"):
            cell_properties = tc.find(_word("w:tcPr"))
            span = max(1, _number_of(cell_properties, "w:gridSpan", 1))
            merge = None if cell_properties is None else cell_properties.find(_word("w:vMerge"))
            continues = merge is not None and merge.get(_word("w:val"), "continue") == "continue"
            column = len(row)
            above = rows[-1][column] if continues and rows and column < len(rows[-1]) else None
            text = above.text if above is not None else _cell_text(tc)
            row.append(Cell(text, span, down=above is not None))
            row += [Cell("", 1, True) for _ in range(span - 1)]
        row += [Cell("") for _ in range(_number_of(properties, "w:gridAfter", 0))]
        rows.append(row)
    return rows


def _cell_text(tc: Any) -> str:
    """A Word cell's own paragraphs (not those of a table nested in it), one a line: bullets
    and numbered lines kept apart."""
    lines = (str(p.text).strip() for p in _children(tc, "w:p"))  # CT_P.text: runs, tabs, breaks
    return "\n".join(line for line in lines if line)


def _damaged(path: Path, kind: str, exc: Exception) -> Unreadable:
    why = " ".join(str(exc).split())[:120] or type(exc).__name__
    return Unreadable(
        f"{path}: not a readable {kind} file ({why}); open it in {kind} and save it again "
        f"as {path.suffix.lower()}"
    )


def _padded(rows: Grid) -> Grid:
    width = max((len(r) for r in rows), default=0)
    return [r + [Cell("", 1, True) for _ in range(width - len(r))] for r in rows]


def _title(lines: list[str]) -> str | None:
    """`KẾ HOẠCH` and the line after it (the plan's subject), or a line `Kế hoạch ...`."""
    for i, line in enumerate(lines[:40]):
        words = plain(line)
        if words == "ke hoach" and i + 1 < len(lines):
            subject = " ".join(lines[i + 1].split())
            if plain(subject).startswith("ke hoach"):
                return subject  # "KẾ HOẠCH" over "Kế hoạch cải thiện ...": said once
            first, _, rest = subject.partition(" ")
            if rest and first[:1].isupper() and first[1:].islower():
                # "Cải cách hành chính năm 2024" begins a line, not a name: "Kế hoạch cải
                # cách ..." (a name in capitals, "Khánh Hòa", comes later in the subject).
                subject = first.lower() + " " + rest
            return "Kế hoạch " + subject
        if words.startswith("ke hoach ") and len(words) > 20:
            return " ".join(line.split())
    return None


def _number(lines: list[str]) -> str | None:
    for line in lines[:40]:
        found = re.search(r"\bS[ốoô]\s*:?\s*(\d+\s*/\s*[\w\-Đđ]+)", line)
        if found:
            return found.group(1).replace(" ", "")
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return f"{value.day}/{value.month}/{value.year}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx(path: Path) -> tuple[list[Table], str | None, str | None]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(str(path), data_only=True)
        # The formulas themselves: a file written by a program (not saved by Excel) keeps no
        # calculated value, and "=A7+1" in the TT column is how agencies number rows.
        formulas = openpyxl.load_workbook(str(path), data_only=False)
    except Exception as exc:  # the library's own errors for a damaged file are many
        raise _damaged(path, "Excel", exc) from None
    tables: list[Table] = []
    title: str | None = None
    number: str | None = None
    for sheet in book.worksheets:
        tables.append(_sheet(sheet, formulas[sheet.title]))
        texts = [c.text for row in tables[-1].rows[:15] for c in row if c.text]
        title = title or _title(texts)
        number = number or _number(texts)
    return tables, title, number


def _sheet(sheet: Any, formulas: Any) -> Table:
    covered: dict[tuple[int, int], Cell] = {}
    spans: dict[tuple[int, int], int] = {}
    for merged in sheet.merged_cells.ranges:
        width = merged.max_col - merged.min_col + 1
        spans[(merged.min_row, merged.min_col)] = width
        text = _text(sheet.cell(merged.min_row, merged.min_col).value)
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                if c > merged.min_col:
                    covered[(r, c)] = Cell("", 1, True)
                elif r > merged.min_row:
                    covered[(r, c)] = Cell(text, width, down=True)
    # Hidden columns are not read (what a person sees printed is the plan); a dimension can
    # cover several columns (min..max).
    hidden_columns = {
        c
        for dim in sheet.column_dimensions.values()
        if dim.hidden and dim.min is not None and dim.max is not None
        for c in range(dim.min, dim.max + 1)
    }
    rows: Grid = []
    hidden_rows: set[int] = set()
    hidden_with_words: set[int] = set()
    first = sheet.min_row
    computed: dict[tuple[int, int], str] = {}
    for r, values in enumerate(sheet.iter_rows(values_only=True), start=first):
        if sheet.row_dimensions[r].hidden:
            hidden_rows.add(len(rows))
        row: list[Cell] = []
        for c, value in enumerate(values, start=sheet.min_column):
            if c in hidden_columns:
                if value is not None and str(value).strip():
                    hidden_with_words.add(c)
                continue
            cell = covered.get((r, c))
            if cell is None:
                cell = _excel_cell(value, formulas.cell(r, c).value, computed, r, c)
                cell.span = spans.get((r, c), 1)
            computed[(r, c)] = cell.text
            row.append(cell)
        rows.append(row)
    from openpyxl.utils import get_column_letter

    return Table(
        _padded(rows),
        first_row=first,
        sheet=sheet.title,
        hidden=hidden_rows,
        hidden_columns=[get_column_letter(c) for c in sorted(hidden_with_words)],
    )


_NEXT = re.compile(r"^=\s*\$?([A-Z]{1,3})\$?(\d+)\s*\+\s*(\d+)\s*$")


def _excel_cell(
    value: Any, formula: Any, computed: dict[tuple[int, int], str], r: int, c: int
) -> Cell:
    """One Excel cell as read. A float keeps what Excel shows (2.1 -> "2.1"), but a number
    typed 1.10 in a number cell is the float 1.1, its zero gone: the reader puts it back when
    the row before was 1.9 (see _Reader._lost_zero) and says so. A formula without a value (a
    file written by a program, never opened in Excel) is calculated when it is the row
    counter "=A7+1", else read as empty and said."""
    if value is None and isinstance(formula, str) and formula.startswith("="):
        counter = _NEXT.match(formula.upper())
        if counter:
            from openpyxl.utils import column_index_from_string

            ref = (int(counter.group(2)), column_index_from_string(counter.group(1)))
            before = computed.get(ref, "")
            if before.isdigit():
                return Cell(str(int(before) + int(counter.group(3))))
        return Cell("", note=f"ô có công thức «{formula}» chưa được tính (tệp chưa mở bằng Excel)")
    if isinstance(value, float) and not value.is_integer():
        return Cell(_text(value), note="float")
    if isinstance(value, dt.datetime | dt.date):
        # Excel turns "1.10" typed in a cell into the date 1 October: in the TT column that is
        # the number 1.10 (see _Reader._rows); in the schedule column it is a date.
        return Cell(_text(value), note=f"date:{value.day}.{value.month}")
    return Cell(_text(value))


# ---------------------------------------------------------------- grids into rows


@dataclass
class Header:
    columns: dict[str, int]  # field -> column
    headings: dict[str, str]  # field -> the heading as written, for places
    width: int
    # Further columns of a field ("Sản phẩm đầu ra" and "Hình thức văn bản"): read when the
    # first is empty in a row.
    more: dict[str, list[int]] = field(default_factory=dict)


_LETTER = re.compile(r"^([A-HJ-UWYZ])[.)]?$")
_ROMAN = re.compile(r"^([IVX]+)[.)]?$")
_ARABIC = re.compile(r"^(\d+(?:\.\d+)*)\.?$")
_SUBLETTER = re.compile(r"^([a-zđ])[.)]$")
_MARKED = re.compile(
    r"^(?:PHẦN\s+|Phần\s+)?([A-HJ-UWYZ]|[IVX]+|\d+(?:\.\d+)*)[.)]?\s+(\S.*)$", re.S
)


@dataclass
class _Row:
    place: Place
    values: dict[str, str]
    cells: dict[str, Place]
    spanning: str | None  # the text of a cell spanning the row (a group title), if any
    notes: dict[str, str] = field(default_factory=dict)  # field -> Cell.note


class _Reader:
    def __init__(self, plan: RawPlan) -> None:
        self.plan = plan
        self.letter: str | None = None
        self.roman: str | None = None
        self.arabic: list[str] = []  # numbers of the numbered sections open
        self.sections: dict[str, str] = {}  # code -> title
        self.last_item: str | None = None
        self.last_number: str | None = None  # the last arabic number of an item, as read
        self.auto: dict[str, int] = {}
        self.used: set[str] = set()

    def read(self, tables: list[Table]) -> None:
        rows: list[_Row] = []
        header: Header | None = None
        for table in tables:
            at = self._header(table)
            if not table.rows:
                continue
            # A Word table continued without its header takes the last one's columns; an Excel
            # sheet without a header (notes, a list of recipients) is never a continuation.
            if (
                at is None
                and header is not None
                and table.sheet is None
                and len(table.rows[0]) == header.width
            ):
                start = 0
            elif at is None:
                continue
            else:
                header, start = at
                for letter in table.hidden_columns:
                    self.plan.skipped.append(
                        (Place(sheet=table.sheet), f"cột {letter} bị ẩn trong Excel: không đọc")
                    )
                if table.sheet is not None and not self.plan.title:
                    self.plan.title = _title([c.text for r in table.rows[:15] for c in r if c.text])
            rows += self._rows(table, header, start)
        self._classify(rows)

    def _header(self, table: Table) -> tuple[Header, int] | None:
        for i in range(min(40, len(table.rows))):
            found = self._header_at(table.rows, i)
            if found is not None:
                return found
        return None

    def _header_at(self, rows: Grid, i: int) -> tuple[Header, int] | None:
        top = _spread(rows[i])
        kinds = [field_of(t) for t in top]
        if "title" not in kinds or len({k for k in kinds if k}) < 3:
            return None
        under = _spread(rows[i + 1]) if i + 1 < len(rows) else []
        # A second header row: sub-headings ("Chủ trì | Phối hợp") and nothing else.
        two_rows = any(field_of(t) in ("lead", "cooperating") for t in under) and all(
            field_of(t) is not None or _sub_heading(t) for t in under if t
        )
        two_rows = two_rows or (
            any(_sub_heading(t) for t in under) and all(_sub_heading(t) for t in under if t)
        )
        headings = [
            " ".join(f"{a} {b}".split()) if two_rows and b and b != a else a
            for a, b in zip(top, under if two_rows else [""] * len(top), strict=False)
        ]
        columns: dict[str, int] = {}
        written: dict[str, str] = {}
        more: dict[str, list[int]] = {}
        for c, heading in enumerate(headings):
            kind = field_of(heading)
            if (
                kind == "schedule"
                and kind in columns
                and _ends(heading)
                and not _ends(written[kind])
            ):
                # "Thời gian | Bắt đầu, Hoàn thành": the date a task is due is the end.
                more.setdefault(kind, []).append(columns[kind])
                columns[kind], written[kind] = c, heading
            elif kind in FIELDS and kind not in columns:
                columns[kind] = c
                written[kind] = heading
            elif kind in FIELDS and kind != "title" and c > 0 and heading != headings[c - 1]:
                more.setdefault(kind, []).append(c)
        if "title" not in columns:
            return None
        units = [c for c, h in enumerate(headings) if field_of(h) == "unit"]
        if "lead" not in columns and units:
            # One column for the units ("Đơn vị thực hiện"): the first unit of a cell leads,
            # the others cooperate (build.py says so on each task that names several).
            columns["lead"] = units[0]
            written["lead"] = headings[units[0]]
        return Header(columns, written, len(rows[i]), more), i + (2 if two_rows else 1)

    def _rows(self, table: Table, header: Header, start: int) -> list[_Row]:
        out: list[_Row] = []
        for i in range(start, len(table.rows)):
            row = table.rows[i]
            place = Place(row=table.first_row + i, table=table.table, sheet=table.sheet)
            values = {
                f: row[c].text if c < len(row) and not row[c].merged else ""
                for f, c in header.columns.items()
            }
            for f, others in header.more.items():
                if not values.get(f):
                    values[f] = next((row[c].text for c in others if row[c].text), "")
            notes = {
                f: row[c].note or ""
                for f, c in header.columns.items()
                if c < len(row) and row[c].note and not row[c].merged
            }
            typed = notes.get("number", "")
            if typed.startswith("date:"):
                values["number"] = typed.removeprefix("date:")
                notes["number"] = (
                    f"ô số thứ tự là ngày {row[header.columns['number']].text} (Excel đổi số "
                    f"«{values['number']}» gõ vào thành ngày); đọc là «{values['number']}»"
                )
            if self._repeated_header(row):
                continue
            if i in table.hidden and any(c.text for c in row):
                self.plan.skipped.append((place, "hàng bị ẩn trong Excel: không nhập"))
                continue
            cells = {
                f: Place(
                    row=place.row, column=header.headings[f], table=table.table, sheet=table.sheet
                )
                for f in header.columns
            }
            own = [c for c in row if c.text and not c.merged and not c.down]
            texts = [c.text for c in own]
            wide = [c for c in own if c.span >= max(2, len(row) // 2)]
            spanning = wide[0].text if len(texts) == 1 and wide else None
            if not texts:
                continue  # an empty row: nothing in it to keep
            out.append(_Row(place, values, cells, spanning, notes))
        return out

    def _repeated_header(self, row: list[Cell]) -> bool:
        """The header typed again where a page breaks: its first row (the title's heading
        and two others), or its second ("Chủ trì | Phối hợp"), every word a heading."""
        texts = [c.text for c in row if c.text and not c.down]
        kinds = [field_of(t) for t in texts]
        if "title" in kinds and len({k for k in kinds if k}) >= 3:
            return True
        return (
            len(texts) >= 2
            and all(k or _sub_heading(t) for k, t in zip(kinds, texts, strict=True))
            and ({"lead", "cooperating"} <= set(kinds) or any(_sub_heading(t) for t in texts))
        )

    # ------------------------------------------------------------ rows into the plan

    def _classify(self, rows: list[_Row]) -> None:
        for k, row in enumerate(rows):
            values = row.values
            number = values.get("number", "").strip()
            title = " ".join(values.get("title", "").split())
            others = [values.get(f, "") for f in VALUES]
            spanning = row.spanning
            if spanning is not None:  # one cell across the row: its words say it all
                marked = _MARKED.match(spanning.strip())
                if marked:
                    number, title = marked.group(1), " ".join(marked.group(2).split())
                else:
                    number, title = "", " ".join(spanning.split())
            if _numbering_row([*values.values()]):
                self.plan.skipped.append((row.place, "hàng đánh số cột (1), (2), ...: bỏ qua"))
                continue
            if not number and title and not any(others):
                marked = _MARKED.match(title)
                if marked and not _ARABIC.match(marked.group(1)):
                    number, title = marked.group(1), " ".join(marked.group(2).split())
            group_like = spanning is not None or not any(others)
            if group_like and (_LETTER.match(number) or _ROMAN.match(number)) and title:
                self._group(number.rstrip(".)"), title, row.place)
                continue
            if not title:
                why = "không có nội dung nhiệm vụ (cột nội dung trống)"
                if number:
                    why += f"; số thứ tự «{number}»"
                self.plan.skipped.append((row.place, why))
                continue
            arabic = _ARABIC.match(number)
            if arabic and group_like and _opens(arabic.group(1), rows[k + 1 :]):
                self._numbered_section(arabic.group(1), title, row.place)
                continue
            if spanning is not None and not number:
                self.plan.skipped.append(
                    (row.place, f"một ô trải cả hàng, không số thứ tự: «{title[:80]}»")
                )
                continue
            self._item(number, title, row)

    def _base(self) -> str:
        return ".".join(p for p in (self.letter, self.roman) if p)

    def _add_section(self, code: str, title: str, place: Place) -> None:
        self.sections[code] = title
        self.plan.sections.append(RawSection(code=code, title=title, place=place))

    def _group(self, mark: str, title: str, place: Place) -> None:
        if _ROMAN.match(mark):
            self.roman = mark
        else:
            self.letter, self.roman = mark, None
        self.arabic = []
        self._add_section(self._base(), title, place)

    def _numbered_section(self, number: str, title: str, place: Place) -> None:
        self.arabic = [n for n in self.arabic if number.startswith(n + ".")] + [number]
        self._add_section(_join(self._base(), number), title, place)

    def _section_of(self, number: str | None) -> str | None:
        if number is not None:
            for n in reversed(self.arabic):
                if number.startswith(n + "."):
                    return _join(self._base(), n)
        if self.arabic and number is None:
            return _join(self._base(), self.arabic[-1])
        return self._base() or None

    def _lost_zero(self, number: str, row: _Row, notes: list[str]) -> str:
        """An Excel number cell 1.10 holds the float 1.1: after 1.9 (its code taken), the
        number is 1.10. Only then: a lone float 1.1 may as well be 1.1, and a sheet holding
        1.1 after 1.9 as text means what it says."""
        if row.notes.get("number") != "float" or self.last_number is None:
            return number
        widened = number + "0"
        head, _, tail = widened.rpartition(".")
        last_head, _, last_tail = self.last_number.rpartition(".")
        taken = _join(self._base(), number) in self.used
        if taken and head == last_head and last_tail.isdigit() and int(last_tail) + 1 == int(tail):
            notes.append(
                f"ĐOÁN: số thứ tự «{number}» là số trong ô Excel (kiểu số làm mất số 0 cuối); "
                f"sau «{self.last_number}» nên đọc là «{widened}»: kiểm tra lại"
            )
            return widened
        return number

    def _item(self, number: str, title: str, row: _Row) -> None:
        notes = [
            f"ĐOÁN: {text}"
            for f, text in row.notes.items()
            if text != "float" and not (f != "number" and text.startswith("date:"))
        ]
        number = self._lost_zero(number, row, notes)
        arabic = _ARABIC.match(number)
        sub = _SUBLETTER.match(number)
        if arabic:
            own = arabic.group(1)
            self.arabic = [n for n in self.arabic if own.startswith(n + ".")]
            code, section = _join(self._base(), own), self._section_of(own)
        elif sub and self.last_item:
            code, section = f"{self.last_item}.{sub.group(1).replace('đ', 'd')}", None
        else:
            section = self._section_of(None)
            parent = section or self.last_item or ""
            self.auto[parent] = self.auto.get(parent, 0) + 1
            code = _join(parent, str(self.auto[parent]))
            # A row without its number among numbered ones (Word's automatic numbering, a
            # row missing its first cell) takes the next number free, not a taken one.
            while code in self.used:
                self.auto[parent] += 1
                code = _join(parent, str(self.auto[parent]))
        if section is None and sub:
            section = self._section_of(None)
        if code in self.used:
            taken = code
            while code in self.used:
                code += "b"  # two rows of one number: the person picks the right one
            notes.append(
                f"ĐOÁN: mã «{taken}» đã có ở một hàng trước (số thứ tự trùng, hoặc một bảng, "
                f"trang tính khác đánh số lại từ đầu); ghi «{code}»: đặt lại mã cho đúng"
            )
        self.used.add(code)
        if arabic:
            self.last_item = code
            self.last_number = arabic.group(1)
        values = row.values
        places = {f: p for f, p in row.cells.items() if f in VALUES}
        self.plan.items.append(
            RawItem(
                code=code,
                number=number,
                title=title,
                place=row.place,
                section=section,
                lead=_value(values.get("lead")),
                cooperating=_value(values.get("cooperating")),
                schedule=_value(values.get("schedule")),
                deliverable=_value(values.get("deliverable")),
                places=places,
                notes=tuple(notes),
            )
        )


def _value(text: str | None) -> str | None:
    if text is None:
        return None
    lines = [" ".join(line.split()) for line in text.splitlines()]
    joined = "\n".join(line for line in lines if line)
    return joined or None


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


def _spread(row: list[Cell]) -> list[str]:
    """Each column's text, a merged cell's text given to every column it covers."""
    out: list[str] = []
    for cell in row:
        if cell.merged and out and not cell.text:
            out.append(out[-1] if _covers(row, len(out)) else "")
        else:
            out.append(" ".join(cell.text.split()))
    return out


def _covers(row: list[Cell], column: int) -> bool:
    """Whether column `column` is inside a horizontal merge starting to its left."""
    for c in range(column - 1, -1, -1):
        if not row[c].merged:
            return row[c].span > column - c
    return False


def _sub_heading(text: str) -> bool:
    """A heading of a second header row under "Thời gian": "Bắt đầu", "Hoàn thành"."""
    words = plain(text)
    return bool(re.fullmatch(r"(thoi gian |ngay )?(bat dau|hoan thanh|ket thuc|tu|den)", words))


def _ends(heading: str) -> bool:
    return bool(re.search(r"\b(hoan thanh|ket thuc|den)\b", plain(heading)))


def _numbering_row(texts: list[str]) -> bool:
    """The row under the header numbering its columns: "(1) (2) (3)", "1 2 3", "A B 1 2"."""
    filled = [t for t in texts if t]
    return (
        len(filled) >= 3
        and all(re.fullmatch(r"\(?(\d{1,2}|[A-Z])\)?", t) for t in filled)
        and sum(any(ch.isdigit() for ch in t) for t in filled) >= 2
    )


def _opens(number: str, rest: list[_Row]) -> bool:
    """Whether a numbered row with no unit or date opens a section: the next numbered row
    is one of its sub-numbers ("2" then "2.1")."""
    for row in rest[:3]:
        following = row.values.get("number", "").strip()
        if following:
            return following.rstrip(".").startswith(number + ".")
    return False
