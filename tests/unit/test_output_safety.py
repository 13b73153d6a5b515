"""What planflow writes for spreadsheets and terminals cannot be run by them: CSV cells that
start like a formula are neutralised (numbers are left numbers) and every CSV starts with a
UTF-8 byte-order mark; control and bidirectional characters are shown, not obeyed."""

from __future__ import annotations

import csv
import io
import json

import pytest

from workflow.cli.terminal import json_visible, visible
from workflow.documents import audit_export
from workflow.documents.spreadsheet import BOM, SafeWriter, safe_cell

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_text_cell_that_starts_like_a_formula_gets_a_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


def test_numbers_and_plain_text_are_left_as_they_are() -> None:
    # A count or a rate typed as a number cannot be a formula: it stays one a sheet adds up.
    for value in (-5, 0, 3.5, -0.25, None, "Công ty TNHH Hoa Sen", "a=b", "", "'=quoted"):
        assert safe_cell(value) == value
    assert safe_cell("-5") == "'-5"  # text that looks like a number is text: neutralised


def test_a_safe_csv_starts_with_a_bom_and_reads_back_with_the_quotes() -> None:
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(["name", "count"])
    writer.writerow(["=cmd|' /C calc'!A0", -3])
    writer.writerow(["Nguyễn Văn Được", 4])
    text = out.getvalue()
    assert text.startswith(BOM) and text.count(BOM) == 1
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert rows == [["name", "count"], ["'=cmd|' /C calc'!A0", "-3"], ["Nguyễn Văn Được", "4"]]
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")  # what Excel looks for


def test_the_audit_csv_export_is_neutralised_and_its_jsonl_is_exactly_as_hashed() -> None:
    entry = {"seq": 1, "actor": "=evil()", "action": "task.create", "data": '{"a":1}'}
    out = io.StringIO()
    assert audit_export.csv([entry], out) == 1
    read = list(csv.DictReader(io.StringIO(out.getvalue().removeprefix(BOM))))
    assert read[0]["actor"] == "'=evil()" and read[0]["seq"] == "1"
    lines = io.StringIO()
    audit_export.jsonl([entry], lines)
    assert '"actor":"=evil()"' in lines.getvalue()  # JSON lines: untouched, as hashed


HIDDEN = {
    "\x1b[2J": "\\x1b[2J",
    "a\nb": "a\\nb",
    "tab\there": "tab\\there",
    "\x7f": "\\x7f",
    "\x9b31m": "\\x9b31m",
    "exe.\u202etxt": "exe.\\u202etxt",
    "\u2066x\u2069": "\\u2066x\\u2069",
    "\u200e\u200f\u061c": "\\u200e\\u200f\\u061c",
    "\u202a\u202b\u202c\u202d": "\\u202a\\u202b\\u202c\\u202d",
}


@pytest.mark.parametrize("raw", list(HIDDEN))
def test_control_and_bidi_characters_are_shown_as_escapes(raw: str) -> None:
    assert visible(raw) == HIDDEN[raw]


def test_vietnamese_and_ordinary_text_are_shown_as_they_are() -> None:
    text = "Phiếu xin lỗi và hẹn lại ngày trả kết quả — 15/06 (Đã bổ sung) «ok» ‘x’"
    assert visible(text) == text


def test_json_keeps_the_value_and_escapes_what_a_terminal_obeys() -> None:
    value = {"name": "a\u202eb\x7fc\x85d Đ\x1b"}
    text = json_visible(json.dumps(value, ensure_ascii=False))
    assert all(c not in text for c in "\u202e\x7f\x85\x1b")
    assert "Đ" in text and json.loads(text) == value
