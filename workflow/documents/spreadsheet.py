"""The one rule of every CSV planflow writes (listings, the audit export, report files): it
opens safely in a spreadsheet.

- A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to
  Excel and LibreOffice (OWASP "CSV injection": an applicant named `=HYPERLINK(...)`), so it
  is written with a single quote before it, which spreadsheets show as text. Only text is
  neutralised: an int or a float (a count, a rate, a negative figure) cannot be a formula
  and stays a number a spreadsheet can add up.
- The file starts with a UTF-8 byte-order mark: without it Excel reads a CSV in the
  system's code page and shows Vietnamese as mojibake ("Ä'Æ°á»£c" for "được").

A CSV is for reading; what is verified byte for byte is the JSON (the audit export's JSON
lines, the report's JSON), never a CSV.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """`value` as a CSV cell a spreadsheet will not run: text starting like a formula gets a
    leading `'`; numbers, None and everything not text are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` that writes the byte-order mark first and neutralises every row's cells."""

    def __init__(self, out: IO[str], *, bom: bool = True) -> None:
        self._writer = csv.writer(out, lineterminator="\n")
        if bom:
            out.write(BOM)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])
