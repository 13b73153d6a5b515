"""The inspection conclusion notice: its sections, tables and wording in HTML and DOCX, the
escaping of what users typed, and the same bytes for the same fields."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zipfile

import docx
import pytest
from docx.document import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

from workflow.documents.conclusion import (
    ConclusionFields,
    FindingLine,
    FixLine,
    period_label,
    render_docx,
    render_html,
)

FIELDS = ConclusionFields(
    agency="Ban Quản lý các Khu kinh tế và Khu công nghiệp tỉnh Quảng Nam",
    governing_body="UBND tỉnh Quảng Nam",
    place="Quảng Nam",
    number="12/TB-KKTCN",
    issued_on=dt.date(2024, 5, 20),
    period_label="quý II năm 2024",
    unit_name="Phòng Quản lý Doanh nghiệp",
    team_name="Đoàn kiểm tra cải cách hành chính của Ban Quản lý",
    report_to="Phòng Hành chính và Tổng hợp",
    inspected_on=dt.date(2024, 5, 6),
    inspectors=("Nguyễn Văn An", "Trần Thị Bình"),
    basis="Kế hoạch kiểm tra công tác cải cách hành chính năm 2024",
    findings=(
        FindingLine("A.I.3", "Niêm yết đầy đủ TTHC mới", True, "Đúng hạn"),
        FindingLine("A.II.1", "Cập nhật số liệu quý I", False, "Thiếu <script>alert(1)</script>"),
        FindingLine("B.1", "Số hóa hồ sơ & kết quả", True, ""),
    ),
    strengths=("Chủ động triển khai kế hoạch",),
    shortcomings=("Báo cáo chậm so với quy định", "Chưa cập nhật số liệu"),
    fixes=(
        FixLine("Cập nhật số liệu quý I", dt.date(2024, 6, 30), "A.II.1"),
        FixLine("Rà soát quy trình nội bộ", dt.date(2024, 7, 5), None),
    ),
    signer_title="Phó Trưởng Ban",
    signer_authority="KT. Trưởng Ban",
    signer_name="Thiều Viết Dũng",
    recipients=("Phòng Quản lý Doanh nghiệp", "Lãnh đạo Ban (b/c);", "Lưu: VT, DKT"),
)

OPENING = (
    "Thực hiện Kế hoạch kiểm tra công tác cải cách hành chính năm 2024, ngày 06/05/2024 "
    "Đoàn kiểm tra cải cách hành chính của Ban Quản lý đã tiến hành kiểm tra công tác cải cách "
    "hành chính quý II năm 2024 tại Phòng Quản lý Doanh nghiệp. Căn cứ Biên bản kiểm tra ngày "
    "06/05/2024 do Nguyễn Văn An và Trần Thị Bình ký, Ban Quản lý các Khu kinh tế và Khu công "
    "nghiệp tỉnh Quảng Nam thông báo kết luận kiểm tra như sau:"
)
REQUEST = (
    "Yêu cầu Phòng Quản lý Doanh nghiệp thực hiện các nội dung khắc phục nêu trên đúng thời "
    "hạn và báo cáo kết quả về Phòng Hành chính và Tổng hợp."
)
KEY_LINES = [
    "UBND TỈNH QUẢNG NAM",
    "BAN QUẢN LÝ CÁC KHU KINH TẾ VÀ KHU CÔNG NGHIỆP TỈNH QUẢNG NAM",
    "Số: 12/TB-KKTCN",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Quảng Nam, ngày 20 tháng 5 năm 2024",
    "THÔNG BÁO",
    "Kết luận kiểm tra công tác cải cách hành chính quý II năm 2024 đối với Phòng Quản lý Doanh nghiệp",
    OPENING,
    "I. Ưu điểm",
    "- Chủ động triển khai kế hoạch",
    "II. Tồn tại, hạn chế",
    "- Báo cáo chậm so với quy định",
    "- Chưa cập nhật số liệu",
    "III. Kết quả kiểm tra việc thực hiện nhiệm vụ",
    "Đạt 2/3 nhiệm vụ.",
    "IV. Yêu cầu khắc phục",
    REQUEST,
    "Nơi nhận:",
    "- Phòng Quản lý Doanh nghiệp;",
    "- Lãnh đạo Ban (b/c);",
    "- Lưu: VT, DKT.",
    "KT. TRƯỞNG BAN",
    "PHÓ TRƯỞNG BAN",
    "Thiều Viết Dũng",
]


def _docx(fields: ConclusionFields) -> Document:
    return docx.Document(io.BytesIO(render_docx(fields)))


def _docx_lines(document: Document) -> list[str]:
    """Every paragraph's text, in the body's order, the layout tables' cells included."""
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        if child.tag.endswith("}p"):
            lines.append(Paragraph(child, document).text)
        elif child.tag.endswith("}tbl"):
            table = Table(child, document)
            for row in table.rows:
                for cell in row.cells:
                    lines.extend(p.text for p in cell.paragraphs)
    return lines


def _grids(document: Document) -> list[list[list[str]]]:
    """The bordered tables (those with an STT column), as rows of cell texts."""
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    return [t for t in tables if t[0][0] == "STT"]


# ----------------------------------------------------------------------------- HTML


def test_the_html_has_the_heading_the_sections_and_the_signature() -> None:
    html = render_html(FIELDS)
    for text in [
        "UBND TỈNH QUẢNG NAM<br><strong>BAN QUẢN LÝ CÁC KHU KINH TẾ VÀ KHU CÔNG NGHIỆP TỈNH "
        "QUẢNG NAM</strong>",
        "Số: 12/TB-KKTCN",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Quảng Nam, ngày 20 tháng 5 năm 2024",
        "<h1>THÔNG BÁO</h1>",
        "Kết luận kiểm tra công tác cải cách hành chính quý II năm 2024 đối với Phòng Quản lý Doanh nghiệp",
        f"<p>{OPENING}</p>",
        "<h2>I. Ưu điểm</h2>",
        "<li>- Chủ động triển khai kế hoạch</li>",
        "<h2>II. Tồn tại, hạn chế</h2>",
        "<li>- Chưa cập nhật số liệu</li>",
        "<h2>III. Kết quả kiểm tra việc thực hiện nhiệm vụ</h2>",
        "<p>Đạt 2/3 nhiệm vụ.</p>",
        "<h2>IV. Yêu cầu khắc phục</h2>",
        f"<p>{REQUEST}</p>",
        "<p>- Lãnh đạo Ban (b/c);</p><p>- Lưu: VT, DKT.</p>",
        "KT. TRƯỞNG BAN<br>PHÓ TRƯỞNG BAN",
        "<strong>Thiều Viết Dũng</strong>",
    ]:
        assert text in html, text
    assert "Không có." not in html and "Không có nội dung phải khắc phục." not in html


def test_the_html_tables_list_each_task_and_each_fix() -> None:
    html = render_html(FIELDS)
    assert (
        '<tr><td class="c">1</td><td>A.I.3</td><td>Niêm yết đầy đủ TTHC mới</td>'
        '<td class="c">Đạt</td><td>Đúng hạn</td></tr>'
    ) in html
    assert '<td>A.II.1</td><td>Cập nhật số liệu quý I</td><td class="c">Chưa đạt</td>' in html
    assert "<td>Số hóa hồ sơ &amp; kết quả</td>" in html
    assert (
        '<tr><td class="c">1</td><td>Cập nhật số liệu quý I</td><td class="c">30/06/2024</td>'
        '<td class="c">A.II.1</td></tr>'
    ) in html
    assert (
        '<tr><td class="c">2</td><td>Rà soát quy trình nội bộ</td><td class="c">05/07/2024</td>'
        '<td class="c"></td></tr>'
    ) in html
    assert html.count("<tr>") == 1 + 3 + 1 + 2 + 2  # two header rows; the head and the foot


def test_the_html_escapes_what_users_typed() -> None:
    html = render_html(FIELDS)
    assert "<script>" not in html
    assert "Thiếu &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_empty_lists_and_no_fixes_are_said_so() -> None:
    html = render_html(
        dataclasses.replace(FIELDS, strengths=(), shortcomings=(), fixes=(), signer_name=None)
    )
    assert html.count("<p>Không có.</p>") == 2
    assert "<p>Không có nội dung phải khắc phục.</p>" in html
    assert "Yêu cầu Phòng Quản lý Doanh nghiệp" not in html and "Thời hạn" not in html
    assert '<p class="name"><strong></strong></p>' in html


# ----------------------------------------------------------------------------- DOCX


def test_the_docx_is_a_word_document_with_the_same_lines() -> None:
    raw = render_docx(FIELDS)
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["[Content_Types].xml", "_rels/.rels", "word/document.xml"]
    lines = _docx_lines(_docx(FIELDS))
    for text in KEY_LINES:
        assert text in lines, text
    assert lines.index("- Lưu: VT, DKT.") == lines.index("- Lãnh đạo Ban (b/c);") + 1
    assert lines.index("UBND TỈNH QUẢNG NAM") + 1 == lines.index(KEY_LINES[1])
    assert "<script>" not in raw.decode("utf-8", "replace")  # escaped in the XML too


def test_the_docx_tables_have_a_row_per_task_and_per_fix() -> None:
    findings, fixes = _grids(_docx(FIELDS))
    assert findings == [
        ["STT", "Mã nhiệm vụ", "Nội dung nhiệm vụ", "Kết quả", "Ghi chú"],
        ["1", "A.I.3", "Niêm yết đầy đủ TTHC mới", "Đạt", "Đúng hạn"],
        ["2", "A.II.1", "Cập nhật số liệu quý I", "Chưa đạt", "Thiếu <script>alert(1)</script>"],
        ["3", "B.1", "Số hóa hồ sơ & kết quả", "Đạt", ""],
    ]
    assert fixes == [
        ["STT", "Nội dung khắc phục", "Thời hạn", "Nhiệm vụ liên quan"],
        ["1", "Cập nhật số liệu quý I", "30/06/2024", "A.II.1"],
        ["2", "Rà soát quy trình nội bộ", "05/07/2024", ""],
    ]


def test_the_docx_without_fixes_has_one_table_and_says_so() -> None:
    document = _docx(
        dataclasses.replace(FIELDS, strengths=(), shortcomings=(), fixes=(), signer_name=None)
    )
    grids = _grids(document)
    assert len(grids) == 1 and len(grids[0]) == 1 + 3
    lines = _docx_lines(document)
    assert lines.count("Không có.") == 2
    assert "Không có nội dung phải khắc phục." in lines
    assert REQUEST not in lines
    assert lines[-1] == ""  # the signer's name line, left blank to be written in


def test_the_same_fields_give_the_same_bytes() -> None:
    assert render_docx(FIELDS) == render_docx(dataclasses.replace(FIELDS))
    assert render_html(FIELDS) == render_html(dataclasses.replace(FIELDS))
    assert render_docx(FIELDS) != render_docx(dataclasses.replace(FIELDS, number="13/TB-KKTCN"))


# ----------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("2024", "năm 2024"),
        ("2024H1", "6 tháng đầu năm 2024"),
        ("2024H2", "6 tháng cuối năm 2024"),
        ("2024Q1", "quý I năm 2024"),
        ("2024Q2", "quý II năm 2024"),
        ("2024Q3", "quý III năm 2024"),
        ("2025Q4", "quý IV năm 2025"),
    ],
)
def test_period_labels(key: str, label: str) -> None:
    assert period_label(key) == label


@pytest.mark.parametrize(
    "key", ["", "24", "2024Q5", "2024Q0", "2024H3", "2024-Q2", "2024q2", " 2024"]
)
def test_other_period_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="period"):
        period_label(key)
