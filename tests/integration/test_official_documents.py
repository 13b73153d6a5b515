"""Letters and notices of two organisations planflow has never seen, on SQLite and PostgreSQL:
one with a `documents:` block (a governing body, a deputy signing "KT. GIÁM ĐỐC / PHÓ GIÁM
ĐỐC", its recipients), one without (the fallbacks). Every field of each document, in its HTML
and in its DOCX read back with python-docx.

Dates are June 2024: Mon 3/6 to Fri 7/6, Mon 10/6 to Fri 14/6.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.document import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

from workflow.clock import LOCAL_TZ
from workflow.definitions.checks import validate
from workflow.domain.lifecycle import Move
from workflow.services import Context, apology
from workflow.services import dossiers as dossier_service
from workflow.services import inspection_records as records
from workflow.services import inspections as draws
from workflow.services import plans as plan_service
from workflow.services import tasks as task_service

RULES = Path(__file__).resolve().parents[2] / "definitions" / "rules"

WITH_BLOCK = """\
kind: organisation
code: KHA-SCT
name: "Sở Công Thương tỉnh Khánh Hòa"
province: "Khánh Hòa"
office_unit: VP
units:
  - {code: VP, name: "Văn phòng Sở"}
  - {code: TTR, name: "Thanh tra Sở"}
  - {code: QLTM, name: "Phòng Quản lý thương mại"}
  - {code: BGD, name: "Ban Giám đốc Sở"}
people:
  - {id: kha-sct.giam-doc, name: "Trần Văn Dũng", unit: BGD, roles: [leader]}
  - {id: kha-sct.pho-giam-doc, name: "Lê Thị Hoa", unit: BGD, roles: [leader]}
  - {id: kha-sct.thanh-tra, name: "Phạm Văn Kiên", unit: TTR, roles: [inspector, staff]}
  - {id: kha-sct.vp-1, name: "Ngô Thị Mai", unit: VP, roles: [office, staff]}
  - {id: kha-sct.vp-2, name: "Đỗ Văn Nam", unit: VP, roles: [office]}
  - {id: kha-sct.qltm, name: "Vũ Thị Lan", unit: QLTM, roles: [staff, unit_head]}
inspection:
  unit: TTR
  units: all
  ratio: 1
documents:
  governing_body: "UBND TỈNH KHÁNH HÒA"
  abbreviation: "SCT"
  place: "Nha Trang"
  signers:
    apology_letter: {person: kha-sct.pho-giam-doc, title: "Phó Giám đốc", authority: "KT. GIÁM ĐỐC"}
    inspection_notice: {person: kha-sct.pho-giam-doc, title: "PHÓ GIÁM ĐỐC", authority: "KT. GIÁM ĐỐC"}
  recipients:
    apology_letter: ["Trung tâm Phục vụ hành chính công tỉnh (để cập nhật)"]
    inspection_notice:
      - "Giám đốc Sở (để b/c)"
      - "Văn phòng Sở;"
      - "Lưu: VT, TTR"
"""

WITHOUT_BLOCK = """\
kind: organisation
code: QNI-STP
name: "Sở Tư pháp tỉnh Quảng Ngãi"
province: "Quảng Ngãi"
office_unit: VP
units:
  - {code: VP, name: "Văn phòng Sở"}
  - {code: TTR, name: "Thanh tra Sở"}
  - {code: HCTP, name: "Phòng Hành chính tư pháp"}
  - {code: BGD, name: "Ban Giám đốc Sở"}
people:
  - {id: qni-stp.giam-doc, name: "Phan Văn Tú", unit: BGD, roles: [leader]}
  - {id: qni-stp.pho-giam-doc, name: "Huỳnh Thị Bích", unit: BGD, roles: [leader]}
  - {id: qni-stp.thanh-tra, name: "Tạ Văn Long", unit: TTR, roles: [inspector, staff]}
  - {id: qni-stp.vp-1, name: "Mai Thị Thu", unit: VP, roles: [office, staff]}
  - {id: qni-stp.vp-2, name: "Lý Văn Phúc", unit: VP, roles: [office]}
  - {id: qni-stp.hctp, name: "Châu Thị Ngọc", unit: HCTP, roles: [staff, unit_head]}
inspection:
  unit: TTR
  units: all
  ratio: 1
"""

PROCEDURES = """\
kind: procedures
organisation: {org}
procedures:
  - {{code: {org}-01, name: "Cấp giấy phép kinh doanh", working_days: 3, unit: {unit}}}
"""


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2024, 6, day, hour, tzinfo=LOCAL_TZ)


@pytest.fixture
def loaded(ctx: Context, tmp_path: Path) -> Context:
    folder = tmp_path / "definitions"
    for name, org, text, unit in (
        ("kha-sct", "KHA-SCT", WITH_BLOCK, "QLTM"),
        ("qni-stp", "QNI-STP", WITHOUT_BLOCK, "HCTP"),
    ):
        (folder / name).mkdir(parents=True)
        (folder / name / "organisation.yaml").write_text(text, encoding="utf-8")
        (folder / name / "procedures.yaml").write_text(
            PROCEDURES.format(org=org, unit=unit), encoding="utf-8"
        )
    found, problems = validate([folder, RULES])
    assert problems == []
    ctx.clock.set(at(3, 8))  # type: ignore[attr-defined]
    plan_service.load(ctx, found)
    return ctx


def lines_of(document: Document) -> list[str]:
    """Every paragraph's text in the body's order, the layout tables' cells included."""
    lines: list[str] = []
    for child in document.element.body.iterchildren():
        if child.tag.endswith("}p"):
            lines.append(Paragraph(child, document).text)
        elif child.tag.endswith("}tbl"):
            for row in Table(child, document).rows:
                for cell in row.cells:
                    lines.extend(p.text for p in cell.paragraphs)
    return lines


def read_docx(path: str) -> tuple[Document, list[str]]:
    document = docx.Document(io.BytesIO(Path(path).read_bytes()))
    return document, lines_of(document)


def issue_letters(ctx: Context, org: str, desk: str, out: Path) -> list[dict[str, Any]]:
    """A person's and a company's dossier, received Mon 3/6 (due Thu 6/6), both delayed with
    a reason; the letters of Wed 5/6."""
    ids = []
    for minute, name in ((0, "Nguyễn Văn An"), (5, "Công ty TNHH Biển Xanh")):
        ctx.clock.set(at(3, 9) + dt.timedelta(minutes=minute))  # type: ignore[attr-defined]
        applicant = dossier_service.Applicant(name, "12 Trần Phú", "0912 345 678")
        received = dossier_service.receive(
            ctx, dossier_service.NewDossier(f"{org}-01", applicant, ctx.clock.now()), desk
        )
        ids.append(int(received["id"]))
    ctx.clock.set(at(4, 9))  # type: ignore[attr-defined]
    dossier_service.delay(ctx, ids[0], "Chờ ý kiến của Sở Xây dựng", 2, desk)
    dossier_service.delay(ctx, ids[1], "Cần xác minh thông tin chủ sở hữu", 3, desk)
    ctx.clock.set(at(5, 7))  # type: ignore[attr-defined]
    done = apology.process_dossiers(ctx, dt.date(2024, 6, 5), ids, out)
    assert done.refused == []
    return sorted(done.letters, key=lambda letter: int(letter["dossier"]))


def test_the_letters_of_an_organisation_with_its_documents_block(
    loaded: Context, tmp_path: Path
) -> None:
    person, company = issue_letters(loaded, "KHA-SCT", "kha-sct.qltm", tmp_path)
    assert (person["number"], company["number"]) == ("01/PXL-SCT", "02/PXL-SCT")
    expected = {
        "header": [
            "UBND TỈNH KHÁNH HÒA",
            "SỞ CÔNG THƯƠNG TỈNH KHÁNH HÒA",
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "Nha Trang, ngày 05 tháng 6 năm 2024",
            "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        ],
        "body": [
            "Cơ quan giải quyết hồ sơ: Sở Công Thương tỉnh Khánh Hòa",
            "Địa chỉ: 12 Trần Phú",
            "Điện thoại / thư điện tử: 0912 345 678",
            "Thủ tục hành chính: Cấp giấy phép kinh doanh",
            "Thời gian hẹn trả kết quả: 06/06/2024",
        ],
        "foot": [
            "Nơi nhận:",
            "- Như trên;",
            "- Trung tâm Phục vụ hành chính công tỉnh (để cập nhật);",
            "- Lưu: VT, QLTM.",
            "KT. GIÁM ĐỐC",
            "PHÓ GIÁM ĐỐC",
            "Lê Thị Hoa",
        ],
    }
    for letter, number, to, received, reason, new_due in (
        (person, "01/PXL-SCT", "Kính gửi: Ông/Bà Nguyễn Văn An", "09 giờ 00 phút",
         "Chờ ý kiến của Sở Xây dựng", "10/06/2024"),
        (company, "02/PXL-SCT", "Kính gửi: Công ty TNHH Biển Xanh", "09 giờ 05 phút",
         "Cần xác minh thông tin chủ sở hữu", "11/06/2024"),
    ):  # fmt: skip
        document, lines = read_docx(letter["docx"])
        wanted = [
            *expected["header"],
            f"Số: {number}",
            to,
            f"Mã hồ sơ: {letter['code']}",
            f"Thời gian nhận hồ sơ: {received}, ngày 03 tháng 6 năm 2024",
            f"Lý do chậm trễ: {reason}",
            f"Thời gian hẹn lại trả kết quả: {new_due}",
            *expected["body"],
            *expected["foot"],
        ]
        for text in wanted:
            assert text in lines, text
        # The governing body over the agency, the number under it; the new date once.
        assert lines.index("UBND TỈNH KHÁNH HÒA") + 1 == lines.index(
            "SỞ CÔNG THƯƠNG TỈNH KHÁNH HÒA"
        )
        assert sum(new_due in line for line in lines) == 1
        assert lines.index("KT. GIÁM ĐỐC") + 1 == lines.index("PHÓ GIÁM ĐỐC")
        html = Path(letter["path"]).read_text(encoding="utf-8")
        for text in (
            "UBND TỈNH KHÁNH HÒA<br><strong>SỞ CÔNG THƯƠNG TỈNH KHÁNH HÒA</strong>",
            f"Số: {number}",
            "<em>Nha Trang, ngày 05 tháng 6 năm 2024</em>",
            f'<p class="to">{to}</p>',
            f"<dt>Lý do chậm trễ:</dt><dd>{reason}</dd>",
            f"<dt>Thời gian hẹn lại trả kết quả:</dt><dd>{new_due}</dd>",
            "<strong>KT. GIÁM ĐỐC<br>PHÓ GIÁM ĐỐC</strong>",
            "<strong>Lê Thị Hoa</strong>",
            "<p>- Như trên;</p>",
            "<p>- Lưu: VT, QLTM.</p>",
            "@page { size: A5; margin: 20mm 15mm 20mm 30mm; }",
        ):
            assert text in html, text
        assert html.count(new_due) == 1
        assert document.sections[0].page_width.mm == pytest.approx(148, abs=0.5)  # type: ignore[union-attr]
    company_html = Path(company["path"]).read_text(encoding="utf-8")
    assert "Ông/Bà" not in company_html and "Quý cơ quan, tổ chức" in company_html
    assert "Ông/Bà" in Path(person["path"]).read_text(encoding="utf-8")


def test_the_letters_of_an_organisation_without_one(loaded: Context, tmp_path: Path) -> None:
    person, company = issue_letters(loaded, "QNI-STP", "qni-stp.hctp", tmp_path)
    assert (person["number"], company["number"]) == ("01/PXL-QNI-STP", "02/PXL-QNI-STP")
    _, lines = read_docx(person["docx"])
    assert "SỞ TƯ PHÁP TỈNH QUẢNG NGÃI" in lines and "UBND TỈNH QUẢNG NGÃI" not in lines
    assert lines[:2] == ["Mẫu số 04 (Thông tư số 01/2018/TT-VPCP)", "SỞ TƯ PHÁP TỈNH QUẢNG NGÃI"]
    for text in (
        "Số: 01/PXL-QNI-STP",
        "Quảng Ngãi, ngày 05 tháng 6 năm 2024",  # the province is the place
        "Kính gửi: Ông/Bà Nguyễn Văn An",
        "THỦ TRƯỞNG CƠ QUAN",  # the head of the agency, as before
        "Huỳnh Thị Bích",  # the leader whose name sorts first
        "- Như trên;",
        "- Lưu: VT, HCTP.",
    ):
        assert text in lines, text
    assert not any(line.startswith("KT.") for line in lines)
    _, lines = read_docx(company["docx"])
    assert "Kính gửi: Công ty TNHH Biển Xanh" in lines


def conclude_office(ctx: Context, org: str, out: Path) -> records.Conclusion:
    """The inspection of the office itself: drawn with every unit, its record with one fix,
    verified, concluded."""
    prefix = org.lower()
    [checked] = task_service.create_tasks(
        ctx,
        [
            task_service.NewTask(
                organisation=org, code="A.1", title="Niêm yết TTHC", lead_unit="VP",
                plan=None, due_date=dt.date(2024, 6, 30),
            )
        ],
    )  # fmt: skip
    inspector = f"{prefix}.thanh-tra"
    drawn = draws.draw(ctx, org, "2024", inspector, seed=0, ratio=1.0)
    task_id = drawn.tasks["VP"]
    task_service.move(ctx, task_id, Move.START, inspector)
    record = {
        "inspected_on": "2024-06-03",
        "findings": [{"task": checked, "compliant": False, "note": "Chưa niêm yết"}],
        "strengths": ["Chủ động"],
        "shortcomings": ["Chậm niêm yết"],
        "fixes": [{"title": "Niêm yết TTHC", "due": "2024-07-31", "task": checked}],
    }
    records.submit_record(ctx, task_id, inspector, record)
    task_service.move(ctx, task_id, Move.VERIFY, f"{prefix}.vp-2")
    [done] = records.conclude(ctx, [task_id], out)
    return done


def test_a_notice_to_the_office_itself_with_the_documents_block(
    loaded: Context, tmp_path: Path
) -> None:
    loaded.clock.set(at(3, 9))  # type: ignore[attr-defined]
    done = conclude_office(loaded, "KHA-SCT", tmp_path)
    assert done.number == "01/TB-SCT"
    document, lines = read_docx(done.docx)
    for text in (
        "UBND TỈNH KHÁNH HÒA",
        "SỞ CÔNG THƯƠNG TỈNH KHÁNH HÒA",
        "Số: 01/TB-SCT",
        "Nha Trang, ngày 03 tháng 6 năm 2024",
        "THÔNG BÁO",
        "Kết luận kiểm tra công tác cải cách hành chính năm 2024 đối với Văn phòng Sở",
        "Yêu cầu Văn phòng Sở thực hiện các nội dung khắc phục nêu trên đúng thời hạn và "
        "báo cáo kết quả về Thanh tra Sở.",  # the office is never told to report to itself
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "Lê Thị Hoa",
    ):
        assert text in lines, text
    start = lines.index("Nơi nhận:")
    assert lines[start : start + 6] == [
        "Nơi nhận:",
        "- Văn phòng Sở;",  # once, though it is the office and on the block's list
        "- Thanh tra Sở;",
        "- Giám đốc Sở (để b/c);",
        "- Lưu: VT, TTR.",
        "KT. GIÁM ĐỐC",
    ]
    section = document.sections[0]
    assert (section.page_width.mm, section.page_height.mm) == (  # type: ignore[union-attr]
        pytest.approx(210, abs=0.5),
        pytest.approx(297, abs=0.5),
    )
    assert section.left_margin.mm == pytest.approx(30, abs=0.5)  # type: ignore[union-attr]
    assert section.right_margin.mm == pytest.approx(20, abs=0.5)  # type: ignore[union-attr]
    assert section.top_margin.mm == pytest.approx(20, abs=0.5)  # type: ignore[union-attr]
    runs = [r for p in document.paragraphs for r in p.runs if r.text]
    assert {r.font.name for r in runs} == {"Times New Roman"}
    body = [r for r in runs if r.text.startswith("Yêu cầu Văn phòng Sở")]
    assert body and all(r.font.size.pt == 13 for r in body)  # type: ignore[union-attr]
    html = Path(done.html).read_text(encoding="utf-8")
    assert html.count("Văn phòng Sở;") == 1 and "báo cáo kết quả về Văn phòng Sở" not in html
    assert "UBND TỈNH KHÁNH HÒA<br><strong>SỞ CÔNG THƯƠNG TỈNH KHÁNH HÒA</strong>" in html
    assert "<strong>KT. GIÁM ĐỐC<br>PHÓ GIÁM ĐỐC</strong>" in html
    assert "<p>- Giám đốc Sở (để b/c);</p><p>- Lưu: VT, TTR.</p>" in html


def test_a_notice_to_the_office_itself_without_one(loaded: Context, tmp_path: Path) -> None:
    loaded.clock.set(at(3, 9))  # type: ignore[attr-defined]
    done = conclude_office(loaded, "QNI-STP", tmp_path)
    assert done.number == "01/TB-QNI-STP"
    _, lines = read_docx(done.docx)
    assert lines[0] == "SỞ TƯ PHÁP TỈNH QUẢNG NGÃI"
    assert "Quảng Ngãi, ngày 03 tháng 6 năm 2024" in lines
    start = lines.index("Nơi nhận:")
    assert lines[start : start + 4] == [
        "Nơi nhận:",
        "- Văn phòng Sở;",
        "- Thanh tra Sở;",
        "- Lưu: VT, TTR.",
    ]
    assert "THỦ TRƯỞNG CƠ QUAN" in lines  # the inspection: section's default title
    assert any("báo cáo kết quả về Thanh tra Sở." in line for line in lines)
