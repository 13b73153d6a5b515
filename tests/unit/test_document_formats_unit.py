"""XLSX bytes that depend on the content alone; text typed as text (a cell starting with `=`
is never a formula); a PDF's font by path, a missing one named with its Debian package."""

from __future__ import annotations

import datetime as dt
import io
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from workflow.documents import fonts, workbook
from workflow.documents.spreadsheet import SafeWriter
from workflow.errors import InvalidInput

ROWS = [[1, '=HYPERLINK("http://x")', 2.5], [-3, "Độc lập - Tự do", None], [0, "+84 912", True]]


def test_the_same_rows_give_the_same_bytes_whenever_they_are_written() -> None:
    when = dt.datetime(2024, 6, 20, 2, 15, tzinfo=dt.UTC)
    first = workbook.workbook([workbook.Sheet("bao-cao", ["a", "b", "c"], ROWS)], when)
    time.sleep(1.1)  # zip entries and core properties would carry the second of writing
    assert workbook.workbook([workbook.Sheet("bao-cao", ["a", "b", "c"], ROWS)], when) == first
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        assert {i.date_time for i in package.infolist()} == {workbook.ZIP_TIME}
        core = package.read("docProps/core.xml").decode()
    assert "2024-06-20T02:15:00Z" in core
    book = load_workbook(io.BytesIO(first))
    assert book.properties.created == book.properties.modified == dt.datetime(2024, 6, 20, 2, 15)
    sheet = book.active
    assert sheet is not None
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["a", "b", "c"],
        [1, '=HYPERLINK("http://x")', 2.5],
        [-3, "Độc lập - Tự do", None],
        [0, "+84 912", "true"],
    ]
    assert {c.data_type for c in sheet["B"]} == {"s"}  # text, never a formula
    other = workbook.workbook([workbook.Sheet("bao-cao", ["a", "b", "c"], ROWS[:2])], when)
    assert other != first


def test_a_csv_planflow_wrote_reads_back_as_typed_cells() -> None:
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(["unit", "tasks", "rate", "note"])
    writer.writerow(["=cmd()", 3, 50.0, ""])
    header, rows = workbook.from_csv(out.getvalue())
    assert header == ["unit", "tasks", "rate", "note"]
    assert rows == [["=cmd()", 3, 50.0, None]]  # the CSV's `'` taken off: the cell is text


def test_a_missing_font_is_named_with_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(fonts.FONT_DIR_ENV, str(tmp_path))
    with pytest.raises(InvalidInput, match="apt-get install fonts-noto-core"):
        fonts.font_face_css()
    monkeypatch.delenv(fonts.FONT_DIR_ENV)
    css = fonts.font_face_css()
    assert css.count("@font-face") == 4 and "file:///" in css and "NotoSerif-Bold.ttf" in css
