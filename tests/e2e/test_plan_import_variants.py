"""`planflow plans import` on plans laid out the ways other agencies lay out their "Phụ lục"
task tables (issue 18, item 1): Excel quirks (numbers and dates typed as such, merged cells,
a title block, a column-number row, hidden columns, several sheets, formulas), Word quirks
(a layout table above the task table, the header repeated, nested tables, several lines in a
cell, rows that start late), the headings, unit names and schedule words agencies write.

Each variant is a small document built here with python-docx or openpyxl and imported through
the CLI in-process, in a folder of its own; each asserts what the person importing would see:
the tasks and their codes, units and schedules, and problems as single lines naming row and
column.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import docx
import openpyxl
import pytest
import yaml
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from workflow.cli.main import run

ORGANISATION = """\
kind: organisation
code: KHA-SCT
name: "Sở Công Thương tỉnh Khánh Hòa"
province: "Khánh Hòa"
office_unit: VP
units:
  - {code: VP, name: "Văn phòng Sở"}
  - {code: TTR, name: "Thanh tra Sở"}
  - {code: KHTC, name: "Phòng Kế hoạch - Tài chính"}
  - {code: QLCN, name: "Phòng Quản lý công nghiệp"}
  - {code: QLTM, name: "Phòng Quản lý thương mại"}
  - {code: BGD, name: "Ban Giám đốc Sở"}
groups:
  - {code: CPCM, name: "Các phòng chuyên môn", units: [KHTC, QLCN, QLTM]}
  - {code: CPDV, name: "Các phòng, đơn vị thuộc Sở", units: all}
people:
  - {id: kha-sct.vp.nguyen-thi-lan, name: "Nguyễn Thị Lan", unit: VP, roles: [office, unit_head]}
  - {id: kha-sct.vp.le-van-hung, name: "Lê Văn Hùng", unit: VP, roles: [office]}
"""

TITLE = "Kế hoạch cải cách hành chính năm 2024"
HEADINGS = ("TT", "Nội dung", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời gian thực hiện")
Row = Sequence[Any]
# The rows most variants share: a group row, three tasks.
ROWS: list[Row] = [
    ("I", "CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH", "", "", ""),
    (
        "1",
        "Ban hành kế hoạch cải cách hành chính",
        "Văn phòng Sở",
        "Các phòng chuyên môn",
        "Quý I/2024",
    ),
    ("2", "Kiểm tra công tác cải cách hành chính", "Thanh tra Sở", "Văn phòng Sở", "Quý III/2024"),
    ("3", "Báo cáo kết quả cải cách hành chính", "Văn phòng Sở", "", "Trước 15/12/2024"),
]
CODES = ["I.1", "I.2", "I.3"]


@dataclass
class Imported:
    code: int
    err: str
    text: str
    plan: dict[str, Any]

    @property
    def tasks(self) -> dict[str, dict[str, Any]]:
        return {t["code"]: t for t in self.plan.get("tasks", [])}

    @property
    def problems(self) -> list[str]:
        return [
            line for line in self.err.splitlines() if not line.startswith(("skipped", "planflow:"))
        ]


class Importer(Protocol):
    def __call__(self, document: Path, *extra: str) -> Imported: ...


@pytest.fixture
def imp(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Importer:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PLANFLOW_DB", raising=False)
    (tmp_path / "organisation.yaml").write_text(ORGANISATION, encoding="utf-8")

    def call(document: Path, *extra: str) -> Imported:
        out = tmp_path / f"{document.stem}.yaml"
        capsys.readouterr()
        code = run(
            ["plans", "import", str(document), "--org", "KHA-SCT", "--out", str(out), *extra]
        )
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        text = out.read_text(encoding="utf-8") if out.exists() else ""
        return Imported(code, captured.err, text, yaml.safe_load(text) if text else {})

    return call


# ---------------------------------------------------------------- building documents


def _xlsx(
    path: Path,
    rows: Sequence[Row],
    *,
    above: Sequence[Row] = (),
    merges: Sequence[str] = (),
    hidden: Sequence[str] = (),
    notes_sheet: bool = False,
) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Phụ lục"
    for row in above:
        sheet.append(list(row))
    for row in rows:
        sheet.append(list(row))
    for cells in merges:
        sheet.merge_cells(cells)
    for letter in hidden:
        sheet.column_dimensions[letter].hidden = True
    if notes_sheet:
        notes = book.create_sheet("Ghi chú")
        notes.append(
            ["Ghi chú", "Các đơn vị báo cáo", "trước ngày 15", "hằng tháng", "về Văn phòng"]
        )
        notes.append(["1", "Nội dung", "Đơn vị chủ trì", "x", "y"])
    book.save(str(path))
    return path


def _docx(
    path: Path,
    tables: Sequence[Sequence[Row]],
    *,
    paragraphs: Sequence[str] = ("KẾ HOẠCH", "Cải cách hành chính năm 2024"),
    layout: bool = False,
) -> docx.document.Document:
    document = docx.Document()
    if layout:  # the two-cell header every administrative document opens with
        top = document.add_table(rows=2, cols=2)
        top.cell(0, 0).text = "UBND TỈNH KHÁNH HÒA\nSỞ CÔNG THƯƠNG"
        top.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
        top.cell(1, 0).text = "Số: 215/KH-SCT"
        top.cell(1, 1).text = "Khánh Hòa, ngày 10 tháng 01 năm 2024"
    for line in paragraphs:
        document.add_paragraph(line)
    for rows in tables:
        table = document.add_table(rows=0, cols=max(len(r) for r in rows))
        for row in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, row, strict=False):
                cell.text = str(value)
    document.save(str(path))
    return document


def _titled(rows: Sequence[Row]) -> list[Row]:
    return [HEADINGS, *rows]


def _assert_base(done: Imported, codes: Sequence[str] = CODES) -> None:
    assert done.code == 0, done.err
    assert list(done.tasks) == list(codes)
    first, second, third = (done.tasks[c] for c in codes)
    assert first["title"] == "Ban hành kế hoạch cải cách hành chính"
    assert (first["lead_unit"], first["cooperating_units"]) == ("VP", ["CPCM"])
    assert first["schedule"] == {"by": dt.date(2024, 3, 31)}
    assert (second["lead_unit"], second["cooperating_units"]) == ("TTR", ["VP"])
    assert third["schedule"] == {"by": dt.date(2024, 12, 15)}
    assert "0 problems" in done.err


# ---------------------------------------------------------------- Excel


def test_excel_numbers_typed_as_numbers(imp: Importer, tmp_path: Path) -> None:
    rows: list[Row] = [
        ("I", "CÔNG TÁC CHỈ ĐẠO", None, None, None),
        (1, "Ban hành kế hoạch", "Văn phòng Sở", None, "Quý I/2024"),
        (2, "Triển khai", "Văn phòng Sở", None, "Quý II/2024"),
        (2.1, "Tập huấn", "Văn phòng Sở", None, "Quý II/2024"),
        (2.2, "Tuyên truyền", "Văn phòng Sở", None, "Quý II/2024"),
    ]
    done = imp(_xlsx(tmp_path / "so.xlsx", _titled(rows)))
    assert done.code == 0, done.err
    assert list(done.tasks) == ["I.1", "I.2", "I.2.1", "I.2.2"]


def test_excel_a_float_number_that_lost_its_zero_follows_its_siblings(
    imp: Importer, tmp_path: Path
) -> None:
    # 1.10 typed in a number cell is the float 1.1: after 1.9 it is read as 1.10, said so.
    rows: list[Row] = [(1, "Nhóm việc", None, None, None)]
    rows += [(float(f"1.{k}"), f"Việc {k}", "Văn phòng Sở", None, "Năm 2024") for k in range(1, 10)]
    rows += [(1.1, "Việc 10", "Văn phòng Sở", None, "Năm 2024")]
    done = imp(_xlsx(tmp_path / "muoi.xlsx", _titled(rows)))
    assert done.code == 0, done.err
    assert list(done.tasks)[-2:] == ["1.9", "1.10"]
    assert done.tasks["1.10"]["title"] == "Việc 10"
    assert "ĐOÁN: số thứ tự «1.1» là số trong ô Excel" in done.text


def test_excel_a_number_excel_made_a_date_is_read_back(imp: Importer, tmp_path: Path) -> None:
    rows: list[Row] = [
        HEADINGS,
        (1, "Nhóm việc", None, None, None),
        (dt.datetime(2024, 1, 1), "Việc một", "Văn phòng Sở", None, "Năm 2024"),
        (dt.datetime(2024, 10, 1), "Việc mười", "Văn phòng Sở", None, "Năm 2024"),
    ]
    done = imp(_xlsx(tmp_path / "ngay.xlsx", rows))
    assert done.code == 0, done.err
    assert list(done.tasks) == ["1.1", "1.10"]  # under the section "1"
    assert (
        "ĐOÁN: ô số thứ tự là ngày 1/10/2024 (Excel đổi số «1.10» gõ vào thành ngày)"
        in " ".join(line.strip(" #") for line in done.text.splitlines())
    )


def test_excel_dates_title_block_numbering_row_merges_hidden_and_notes(
    imp: Importer, tmp_path: Path
) -> None:
    above: list[Row] = [
        ("UBND TỈNH KHÁNH HÒA", None, None, None, None, None),
        ("SỞ CÔNG THƯƠNG", None, None, None, None, None),
        ("KẾ HOẠCH", None, None, None, None, None),
        ("Cải cách hành chính năm 2024", None, None, None, None, None),
        (None,) * 6,
    ]
    rows: list[Row] = [
        (
            "STT",
            "Nội dung công việc",
            "Đơn vị chủ trì",
            "Đơn vị phối hợp",
            "Ghi chú cũ",
            "Thời hạn hoàn thành",
        ),
        ("(1)", "(2)", "(3)", "(4)", "(5)", "(6)"),
        ("I", "CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH", None, None, None, None),
        (
            1,
            "Ban hành kế hoạch cải cách hành chính",
            "Văn phòng Sở",
            "Các phòng chuyên môn",
            "x",
            dt.datetime(2024, 3, 31),
        ),
        (
            2,
            "Kiểm tra công tác cải cách hành chính",
            "Thanh tra Sở",
            "Văn phòng Sở",
            "x",
            "Quý III/2024",
        ),
        (
            3,
            "Báo cáo kết quả cải cách hành chính",
            "Văn phòng Sở",
            None,
            "x",
            dt.date(2024, 12, 15),
        ),
        (4, "Rà soát thủ tục hành chính", "Văn phòng Sở", None, "x", None),
        (None,) * 6,
        (None,) * 6,
    ]
    path = _xlsx(
        tmp_path / "khoi.xlsx",
        rows,
        above=above,
        # the title block merged across; the group row across; a lead merged down over 3 and 4
        merges=("A1:F1", "A3:F3", "A4:F4", "B8:F8", "C11:C12"),
        hidden=("E",),
        notes_sheet=True,
    )
    done = imp(path)
    assert done.code == 0, done.err
    assert list(done.tasks) == ["I.1", "I.2", "I.3", "I.4"]
    assert done.plan["title"] == TITLE
    assert done.tasks["I.1"]["schedule"] == {"by": dt.date(2024, 3, 31)}
    assert done.tasks["I.3"]["schedule"] == {"by": dt.date(2024, 12, 15)}
    assert done.tasks["I.4"]["lead_unit"] == "VP"  # merged down from the row above
    assert "Ghi chú" not in done.err  # the notes sheet is no continuation of the table
    # The hidden column is not read, and said.
    assert "Ghi chú cũ" not in done.text
    assert 'skipped sheet "Phụ lục": cột E bị ẩn trong Excel: không đọc' in done.err


def test_excel_formulas_without_a_value_are_said(imp: Importer, tmp_path: Path) -> None:
    rows: list[Row] = [
        HEADINGS,
        (1, "Ban hành kế hoạch", "Văn phòng Sở", None, "Quý I/2024"),
        ("=A2+1", "Triển khai kế hoạch", "Văn phòng Sở", None, "Quý II/2024"),
        ("=ROW()-1", "Kiểm tra", "Văn phòng Sở", None, "Quý III/2024"),
    ]
    done = imp(_xlsx(tmp_path / "congthuc.xlsx", rows))
    assert done.code == 0, done.err
    # The row counter "=A2+1" a program wrote was never calculated: calculated here.
    assert list(done.tasks)[:2] == ["1", "2"]
    assert done.tasks["2"]["title"] == "Triển khai kế hoạch"
    third = done.text.split("title: Kiểm tra")[0].rsplit("- code:", 1)[1]
    assert "ĐOÁN: ô có công thức «=ROW()-1» chưa được tính" in " ".join(
        line.strip("# ") for line in third.splitlines()
    )


# ---------------------------------------------------------------- Word


def test_word_layout_table_first_header_repeated_bullets_and_extra_columns(
    imp: Importer, tmp_path: Path
) -> None:
    headings = (
        "STT",
        "NỘI DUNG NHIỆM VỤ",
        "Cơ quan,\nđơn vị chủ trì",
        "Cơ quan phối hợp",
        "Thời gian\nhoàn thành",
        "Kinh phí",
        "Kết quả đầu ra",
        "Ghi chú",
    )
    rows: list[Row] = [
        headings,
        ("1", "2", "3", "4", "5", "6", "7", "8"),
        ("I", "CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH", "", "", "", "", "", ""),
        (
            "1",
            "Ban hành kế hoạch cải cách hành chính",
            "Văn phòng Sở (chủ trì)",
            "- Phòng KH-TC\n- P. Quản lý công nghiệp",
            "Quý I/2024",
            "10 triệu",
            "Kế hoạch",
            "",
        ),
        headings,  # the header typed again where the page breaks
        (
            "2",
            "Kiểm tra công tác cải cách hành chính",
            "Thanh tra Sở",
            "VP Sở",
            "Quý III/2024",
            "",
            "Báo cáo",
            "Trình Giám đốc",
        ),
        (
            "3",
            "Báo cáo kết quả cải cách hành chính",
            "Văn phòng Sở",
            "",
            "Trước 15/12/2024",
            "",
            "",
            "",
        ),
    ]
    done = imp(_docx_path(tmp_path / "word.docx", [rows], layout=True))
    assert done.code == 0, done.err
    assert list(done.tasks) == CODES
    first = done.tasks["I.1"]
    assert (first["lead_unit"], first["cooperating_units"]) == ("VP", ["KHTC", "QLCN"])
    assert first["deliverable"] == "Kế hoạch"
    assert done.plan["number"] == "215/KH-SCT"  # from the layout table, not taken as the task table
    # The numbering row is said; the header typed again at the page break is not a row.
    assert [line for line in done.err.splitlines() if line.startswith("skipped")] == [
        "skipped table 2, row 2: hàng đánh số cột (1), (2), ...: bỏ qua"
    ]


def _docx_path(path: Path, tables: Sequence[Sequence[Row]], **kwargs: Any) -> Path:
    _docx(path, tables, **kwargs)
    return path


def test_word_task_table_nested_in_a_layout_cell(imp: Importer, tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph("Cải cách hành chính năm 2024")
    outer = document.add_table(rows=1, cols=1)
    inner = outer.cell(0, 0).add_table(rows=0, cols=5)
    for row in _titled(ROWS):
        for cell, value in zip(inner.add_row().cells, row, strict=True):
            cell.text = value
    path = tmp_path / "long.docx"
    document.save(str(path))
    _assert_base(imp(path))


def test_word_rows_that_start_late_are_not_misaligned(imp: Importer, tmp_path: Path) -> None:
    document = _docx(tmp_path / "grid.docx", [_titled(ROWS)])
    path = tmp_path / "grid.docx"
    table = document.tables[0]
    # Row 4 ("2 | Kiểm tra ...") loses its first cell and starts one grid column late.
    tr = table.rows[3]._tr
    tr.remove(tr.tc_lst[0])
    pr = tr.get_or_add_trPr()
    before = OxmlElement("w:gridBefore")
    before.set(qn("w:val"), "1")
    pr.insert(0, before)
    document.save(str(path))
    done = imp(path)
    assert done.code == 0, done.err
    second = done.tasks["I.2"]  # numbered by its place, its columns where they were
    assert second["title"] == "Kiểm tra công tác cải cách hành chính"
    assert second["lead_unit"] == "TTR"


# ---------------------------------------------------------------- headings


@pytest.mark.parametrize(
    "headings",
    [
        (
            "TT",
            "Nội dung công việc",
            "Cơ quan, đơn vị chủ trì",
            "Cơ quan phối hợp",
            "Thời gian hoàn thành",
        ),
        (
            "STT",
            "Tên nhiệm vụ",
            "Cơ quan chủ trì thực hiện",
            "Đơn vị phối hợp",
            "Tiến độ thực hiện",
        ),
        ("TT", "Nhiệm vụ/giải pháp", "Đơn vị chủ trì", "Đơn vị phối hợp", "Thời hạn hoàn thành"),
        ("TT", "NOI DUNG NHIEM VU", "DON VI CHU TRI", "DON VI PHOI HOP", "THOI GIAN THUC HIEN"),
        ("TT", "Nội dung\nnhiệm vụ", "Đơn vị\nchủ trì", "Đơn vị\nphối hợp", "Thời gian\nthực hiện"),
    ],
)
def test_headings_agencies_write(imp: Importer, tmp_path: Path, headings: tuple[str, ...]) -> None:
    _assert_base(imp(_xlsx(tmp_path / "h.xlsx", [headings, *ROWS])))


def test_one_unit_column_the_first_unit_leads(imp: Importer, tmp_path: Path) -> None:
    rows: list[Row] = [
        (
            "TT",
            "Nội dung",
            "Đơn vị thực hiện",
            "Thời gian thực hiện",
            "Sản phẩm đầu ra",
            "Hình thức văn bản",
        ),
        (
            "1",
            "Ban hành kế hoạch",
            "Văn phòng Sở; Các phòng chuyên môn",
            "Quý I/2024",
            "",
            "Kế hoạch",
        ),
        ("2", "Kiểm tra", "Thanh tra Sở, Văn phòng Sở", "Quý III/2024", "Báo cáo", "Báo cáo"),
    ]
    done = imp(_xlsx(tmp_path / "mot.xlsx", rows))
    assert done.code == 0, done.err
    assert (done.tasks["1"]["lead_unit"], done.tasks["1"]["cooperating_units"]) == ("VP", ["CPCM"])
    assert (done.tasks["2"]["lead_unit"], done.tasks["2"]["cooperating_units"]) == ("TTR", ["VP"])
    assert done.tasks["1"]["deliverable"] == "Kế hoạch"  # "Hình thức văn bản" when no product


# ---------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("lead", "cooperating", "want_lead", "want_cooperating"),
    [
        ("Văn phòng Sở (chủ trì)", "", "VP", []),
        ("VP Sở", "Các phòng chuyên môn", "VP", ["CPCM"]),
        ("P. KHTC", "Phòng KH-TC", "KHTC", []),
        ("phòng kế hoạch – tài chính", "THANH TRA SỞ", "KHTC", ["TTR"]),
        ("Phong Quan ly thuong mai", "Các phòng, đơn vị liên quan", "QLTM", ["CPDV"]),
        # One cell as a sentence: the role words part the names.
        ("Văn phòng Sở chủ trì, phối hợp với các phòng chuyên môn", "", "VP", ["CPCM"]),
        ("Phòng Quản lý\nthương mại", "Văn phòng Sở\nThanh tra Sở", "QLTM", ["VP", "TTR"]),
    ],
)
def test_unit_names_as_plans_write_them(
    imp: Importer,
    tmp_path: Path,
    lead: str,
    cooperating: str,
    want_lead: str,
    want_cooperating: list[str],
) -> None:
    rows = [HEADINGS, ("1", "Ban hành kế hoạch", lead, cooperating, "Năm 2024")]
    done = imp(_xlsx(tmp_path / "u.xlsx", rows))
    assert done.code == 0, done.err
    task = done.tasks["1"]
    assert (task["lead_unit"], task["cooperating_units"]) == (want_lead, want_cooperating)


def test_an_outside_body_cooperating_is_kept_in_a_comment(imp: Importer, tmp_path: Path) -> None:
    rows = [
        HEADINGS,
        (
            "1",
            "Ban hành kế hoạch",
            "Văn phòng Sở",
            "Sở Nội vụ; UBND các huyện, Thanh tra Sở",
            "Năm 2024",
        ),
    ]
    done = imp(_xlsx(tmp_path / "ngoai.xlsx", rows))
    assert done.code == 0, done.err
    assert done.tasks["1"]["cooperating_units"] == ["TTR"]
    assert "ĐOÁN: «Sở Nội vụ»: cơ quan ngoài Sở Công Thương tỉnh Khánh Hòa" in done.text
    assert "«UBND các huyện»" in done.text


def test_an_outside_body_leading_is_one_problem_line(imp: Importer, tmp_path: Path) -> None:
    rows = [HEADINGS, ("1", "Ban hành kế hoạch", "UBND các huyện", "Văn phòng Sở", "Năm 2024")]
    done = imp(_xlsx(tmp_path / "chutri.xlsx", rows))
    assert done.code == 2
    assert done.problems == [
        'sheet "Phụ lục", row 2, column "Đơn vị chủ trì": unknown unit "UBND các huyện"; '
        "the units of KHA-SCT: VP (Văn phòng Sở), TTR (Thanh tra Sở), KHTC (Phòng Kế hoạch - "
        "Tài chính), QLCN (Phòng Quản lý công nghiệp), QLTM (Phòng Quản lý thương mại), BGD "
        "(Ban Giám đốc Sở)"
    ]


# ---------------------------------------------------------------- schedules


@pytest.mark.parametrize(
    ("words", "schedule"),
    [
        ("Tháng 6/2024", {"by": dt.date(2024, 6, 30)}),
        ("Trước ngày 31/12", {"by": dt.date(2024, 12, 31)}),
        ("Quý I, II", {"by": dt.date(2024, 6, 30)}),
        ("Quý IV năm 2024", {"by": dt.date(2024, 12, 31)}),
        ("Định kỳ hằng quý", {"periodic": "quarterly"}),
        ("Hằng năm", {"periodic": "yearly"}),
        ("Theo yêu cầu", {"within_year": 2024}),
        ("Khi có phát sinh", "continuous"),
        ("30/06/2024", {"by": dt.date(2024, 6, 30)}),
        ("30.6.2024", {"by": dt.date(2024, 6, 30)}),
        ("Tháng 6", {"by": dt.date(2024, 6, 30)}),
        ("06/2024", {"by": dt.date(2024, 6, 30)}),
        ("Trước ngày 15 tháng 6 năm 2024", {"by": dt.date(2024, 6, 15)}),
        ("Quý II và quý III", {"by": dt.date(2024, 9, 30)}),
    ],
)
def test_schedule_words(imp: Importer, tmp_path: Path, words: str, schedule: Any) -> None:
    rows = [HEADINGS, ("1", "Ban hành kế hoạch", "Văn phòng Sở", "", words)]
    done = imp(_xlsx(tmp_path / "s.xlsx", rows), "--year", "2024")
    assert done.code == 0, done.err
    got = done.tasks["1"]["schedule"]
    assert (got if got != "within_year" else {"within_year": 2024}) == schedule
    assert "# KHÔNG HIỂU:" not in done.text


@pytest.mark.parametrize("words", ["Năm 2024-2025", "2024-2025"])
def test_a_span_of_years_makes_the_plan_span_them(
    imp: Importer, tmp_path: Path, words: str
) -> None:
    rows = [HEADINGS, ("1", "Ban hành kế hoạch", "Văn phòng Sở", "", words)]
    done = imp(_xlsx(tmp_path / "span.xlsx", rows))
    assert done.code == 0, done.err
    assert done.tasks["1"]["schedule"] == {"by": dt.date(2025, 12, 31)}
    assert done.plan["period"]["end"] == dt.date(2025, 12, 31)


def test_a_schedule_outside_the_plan_year_is_one_problem_line(
    imp: Importer, tmp_path: Path
) -> None:
    rows = [HEADINGS, ("1", "Ban hành kế hoạch", "Văn phòng Sở", "", "Quý II/2026")]
    done = imp(_xlsx(tmp_path / "ngoaiky.xlsx", rows), "--year", "2024")
    assert done.code == 2
    assert len(done.problems) == 1
    assert done.problems[0].startswith('sheet "Phụ lục", row 2, column "Thời gian thực hiện": '), (
        done.problems
    )
    assert "2026-06-30" in done.problems[0] and "2024" in done.problems[0]


# ---------------------------------------------------------------- size


def test_a_plan_of_300_rows(imp: Importer, tmp_path: Path) -> None:
    units = ("Văn phòng Sở", "Thanh tra Sở", "Phòng KH-TC", "P. Quản lý công nghiệp", "VP Sở")
    rows: list[Row] = [HEADINGS]
    for group, roman in enumerate(("I", "II", "III", "IV", "V", "VI"), start=1):
        rows.append((roman, f"NHÓM {group}", "", "", ""))
        for k in range(1, 51):
            rows.append(
                (
                    k,
                    f"Nhiệm vụ {group}.{k}",
                    units[k % 5],
                    "Các phòng chuyên môn",
                    f"Quý {1 + k % 4}/2024",
                )
            )
    path = _xlsx(tmp_path / "lon.xlsx", rows)
    started = time.perf_counter()
    done = imp(path)
    elapsed = time.perf_counter() - started
    assert done.code == 0, done.err
    assert len(done.tasks) == 300 and "VI.50" in done.tasks
    assert elapsed < 60  # generous: a bound against a runaway, not a benchmark


# ---------------------------------------------------------------- more layouts


def test_excel_a_hidden_row_is_said_not_imported(imp: Importer, tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "an.xlsx", _titled(ROWS))
    book = openpyxl.load_workbook(str(path))
    sheet = book.active
    assert sheet is not None
    sheet.row_dimensions[4].hidden = True  # "2 | Kiểm tra ..."
    book.save(str(path))
    done = imp(path)
    assert done.code == 0, done.err
    assert list(done.tasks) == ["I.1", "I.3"]
    assert 'skipped sheet "Phụ lục", row 4: hàng bị ẩn trong Excel: không nhập' in done.err


def test_excel_table_away_from_the_corner_with_start_and_end_dates(
    imp: Importer, tmp_path: Path
) -> None:
    # Column A empty, a two-row header "Thời gian" over "Bắt đầu | Hoàn thành", an "A B 1 2"
    # numbering row, empty columns formatted to the right.
    rows: list[Row] = [
        (
            None,
            "TT",
            "Nội dung",
            "Đơn vị chủ trì",
            "Đơn vị phối hợp",
            "Thời gian",
            None,
            None,
            None,
        ),
        (None, None, None, None, None, "Bắt đầu", "Hoàn thành", None, None),
        (None, "A", "B", "1", "2", "3", "4", None, None),
        (
            None,
            1,
            "Ban hành kế hoạch",
            "Văn phòng Sở",
            None,
            dt.datetime(2024, 1, 2),
            dt.datetime(2024, 1, 31),
            None,
            None,
        ),
        (None, 2, "Kiểm tra", "Thanh tra Sở", None, "Tháng 3/2024", "Tháng 9/2024", None, None),
    ]
    path = _xlsx(tmp_path / "goc.xlsx", rows, merges=("F1:G1", "B1:B2", "C1:C2", "D1:D2", "E1:E2"))
    done = imp(path)
    assert done.code == 0, done.err
    assert done.tasks["1"]["schedule"] == {"by": dt.date(2024, 1, 31)}
    assert done.tasks["2"]["schedule"] == {"by": dt.date(2024, 9, 30)}
    assert done.tasks["2"]["lead_unit"] == "TTR"
    # "A B 1 2 3 4" numbers the columns: said, not a task; the empty columns say nothing.
    assert [line for line in done.err.splitlines() if line.startswith("skipped")] == [
        'skipped sheet "Phụ lục", row 3: hàng đánh số cột (1), (2), ...: bỏ qua'
    ]


def test_two_sheets_numbered_again_are_both_imported_and_said(
    imp: Importer, tmp_path: Path
) -> None:
    path = _xlsx(tmp_path / "hai.xlsx", _titled(ROWS))
    book = openpyxl.load_workbook(str(path))
    second = book.create_sheet("Phụ lục II")
    for row in _titled(
        [
            ("I", "CÔNG TÁC TUYÊN TRUYỀN", "", "", ""),
            ("1", "Tuyên truyền", "Văn phòng Sở", "", "Năm 2024"),
        ]
    ):
        second.append(list(row))
    book.save(str(path))
    done = imp(path)
    assert done.code == 0, done.err
    assert list(done.tasks) == [*CODES, "I.1b"]
    assert done.tasks["I.1b"]["title"] == "Tuyên truyền"
    assert "ĐOÁN: mã «I.1» đã có ở một hàng trước" in done.text


def test_word_two_row_header_repeated_and_automatic_numbers(imp: Importer, tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("KẾ HOẠCH")
    document.add_paragraph("Cải cách hành chính năm 2024")
    table = document.add_table(rows=0, cols=5)
    top = ("STT", "Nội dung", "Cơ quan thực hiện", "", "Thời gian")
    under = ("", "", "Chủ trì", "Phối hợp", "")
    body: list[Row] = [
        ("", "Ban hành\nkế hoạch", "Văn phòng Sở", "- Phòng KH-TC\n- Thanh tra Sở", "Quý I/2024"),
        ("", "Kiểm tra", "Thanh tra Sở", "", "Quý III/2024"),
    ]
    for k, row in enumerate([top, under, body[0], top, under, body[1]]):
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value
        if row is top:
            cells[2].merge(cells[3])  # "Cơ quan thực hiện" over "Chủ trì | Phối hợp"
            cells[2].text = "Cơ quan thực hiện"
        del k
    path = tmp_path / "hai-hang.docx"
    document.save(str(path))
    done = imp(path)
    assert done.code == 0, done.err
    # Word's automatic numbering leaves the STT cells empty: numbered in order, said.
    assert list(done.tasks) == ["1", "2"]
    assert done.tasks["1"]["title"] == "Ban hành kế hoạch"
    assert (done.tasks["1"]["lead_unit"], done.tasks["1"]["cooperating_units"]) == (
        "VP",
        ["KHTC", "TTR"],
    )
    assert done.tasks["2"]["lead_unit"] == "TTR"
    assert "skipped" not in done.err  # the header typed again is no row of the plan


def test_a_lead_and_cooperating_column_named_thuc_hien(imp: Importer, tmp_path: Path) -> None:
    rows = [
        ("TT", "Nhiệm vụ", "Cơ quan thực hiện", "Cơ quan phối hợp", "Thời hạn"),
        ("1", "Ban hành kế hoạch", "Thanh tra Sở", "Văn phòng Sở", "Năm 2024"),
    ]
    done = imp(_xlsx(tmp_path / "th.xlsx", rows))
    assert done.code == 0, done.err
    assert (done.tasks["1"]["lead_unit"], done.tasks["1"]["cooperating_units"]) == ("TTR", ["VP"])


def test_problems_are_single_lines_naming_row_and_column(imp: Importer, tmp_path: Path) -> None:
    rows = [
        HEADINGS,
        (
            "1",
            "Ban hành kế hoạch",
            "- Phòng Kế toán\n- Văn phòng Sở",
            "Phòng\nPháp chế",
            "Năm 2024",
        ),
        ("2", "Kiểm tra", "Sở Nội vụ", "", "Năm 2024"),
    ]
    done = imp(_xlsx(tmp_path / "loi.xlsx", rows))
    assert done.code == 2
    assert [p.split(": unknown unit ")[0] for p in done.problems] == [
        'sheet "Phụ lục", row 2, column "Đơn vị chủ trì"',
        'sheet "Phụ lục", row 2, column "Đơn vị phối hợp"',
        'sheet "Phụ lục", row 3, column "Đơn vị chủ trì"',
    ]
    assert done.err.splitlines()[-1].startswith("planflow: error: imported 2 tasks")
    assert "3 problems" in done.err
