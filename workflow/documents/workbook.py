"""XLSX workbooks with the same bytes for the same content: what every CSV planflow writes
(listings, the audit export, report tables) also comes as a sheet Excel opens as it is.

openpyxl writes the time of saving into the package (`docProps/core.xml`'s created and
modified, every zip entry's date): here both properties are the content's own date (a
report's generation, an export's last entry; 2000-01-01 when it has none) and every zip entry
carries a fixed time, so the same rows give the same bytes.

Cells: numbers stay numbers; text is always stored as text (`t="inlineStr"`/shared string,
never a formula, even when it starts with `=`, `+`, `-` or `@`: OWASP "CSV injection" cannot
happen in a cell typed as text), so unlike the CSV no `'` is added: the cell holds what is
stored. Lists and mappings are written as in the CSV (comma-joined, JSON).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from workflow.documents.spreadsheet import BOM, FORMULA_STARTS

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_DATE = dt.datetime(2000, 1, 1)  # the properties' date when the content has none
ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # every zip entry's date
MAX_ROWS = 1_048_575  # Excel's sheet, less the header row
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True, slots=True)
class Sheet:
    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


def cell_value(value: Any) -> Any:
    """A value as a cell: numbers as numbers, None empty, the rest text."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def workbook(sheets: Sequence[Sheet], dated: dt.datetime | None = None) -> bytes:
    """The sheets as an .xlsx package; `dated`: the workbook's created and modified (UTC)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook(write_only=True)
    when = _naive_utc(dated)
    book.properties.created = when
    book.properties.modified = when
    book.properties.creator = "planflow"
    for spec in sheets:
        sheet = book.create_sheet(_SHEET_NAME.sub("-", spec.title)[:31] or "sheet")
        sheet.append(list(spec.header))
        for count, row in enumerate(spec.rows):
            if count >= MAX_ROWS:
                raise ValueError(f"sheet {spec.title!r} has more rows than Excel holds")
            cells = []
            for value in row:
                cell = WriteOnlyCell(sheet, value=cell_value(value))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text, never a formula
                cells.append(cell)
            sheet.append(cells)
    raw = io.BytesIO()
    # ExcelWriter, not book.save(): save() stamps `modified` with the time of saving.
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    return _fixed_times(raw.getvalue())


def from_csv(text: str) -> tuple[list[str], list[list[Any]]]:
    """A CSV planflow wrote (`spreadsheet.SafeWriter`) as a header and typed rows: the
    byte-order mark dropped, the `'` put before text that starts like a formula taken off
    (the cell is text anyway), numbers as numbers."""
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    if not rows:
        return [], []
    return rows[0], [[_typed(c) for c in row] for row in rows[1:]]


def _typed(cell: str) -> Any:
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    if re.fullmatch(r"-?(0|[1-9]\d{0,17})", cell):
        return int(cell)
    if re.fullmatch(r"-?(0|[1-9]\d*)\.\d+", cell):
        return float(cell)
    return cell or None


def _naive_utc(when: dt.datetime | None) -> dt.datetime:
    if when is None:
        return NO_DATE
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.replace(microsecond=0)


def _fixed_times(package: bytes) -> bytes:
    """The package again, every entry in the same order with a fixed date."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(package)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
