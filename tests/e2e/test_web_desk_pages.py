"""The one-stop desk's and the reports' pages over HTTP, without a browser (as a browser
without JavaScript posts its forms), on SQLite and PostgreSQL: the due date shown before a
receipt is the one the receipt gets; bad input answered in one Vietnamese sentence with
nothing stored; an import all or nothing, its bad rows by line; a delay the handling
unit's; a letter downloaded as stored; a report generated, opened, downloaded, revised and
compared; CSRF on every form; another organisation sees nothing; a role without the
permission gets the 403 page.

The province's clock: Monday 03/06/2024 09:00 (Vietnam). Procedure DN takes 3 working days
(QLDT), DT 15 (DKKD)."""

from __future__ import annotations

import csv as csv_module
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_api_support import PASSWORD
from tests.support.province import Province, person, procedure, provinces
from workflow.definitions.checks import validate
from workflow.documents import report as report_document
from workflow.services import apology, desk_pages, documents
from workflow.services import dossiers as dossier_service
from workflow.services import plans as plan_service
from workflow.services import reports as report_service

A, B = "SO-A", "SO-B"
RULES = Path(__file__).resolve().parents[2] / "definitions" / "rules"


@pytest.fixture
def province(db_url: str, tmp_path: Path) -> Iterator[Province]:
    yield from provinces(db_url, tmp_path)


def signed_in(province: Province, who: str) -> TestClient:
    province.account(who)
    client = TestClient(province.app())
    answer = client.post(
        "/sign-in", data={"login": who, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def fields(csrf: str, **more: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "procedure": procedure(A, "DT"),
        "applicant": "Công ty TNHH Hoa Sen",
        "address": "",
        "phone": "",
        "email": "",
        **more,
    }


def number(cell: object) -> object:
    """A cell as a number when it reads as one (a workbook keeps 0.0 as 0), else as text."""
    if cell is None or cell == "":
        return ""
    try:
        return float(str(cell))
    except ValueError:
        return str(cell)


def dossiers_of(province: Province, org: str = A) -> list[dict[str, object]]:
    return dossier_service.list_dossiers(province.setup, organisations=[org])


def test_the_due_date_shown_before_saving_is_the_one_the_receipt_gets(
    province: Province,
) -> None:
    lan = signed_in(province, person(A, "staff"))
    page = lan.get("/desk")
    assert page.status_code == 200
    assert "Cấp Giấy chứng nhận đăng ký đầu tư" in page.text  # the procedure list
    csrf = csrf_of(page.text)
    # "Xem hạn" without JavaScript: the form posted, the page back with the preview.
    shown = lan.post("/desk/preview", data=fields(csrf))
    assert shown.status_code == 200
    # 15 working days from Mon 3/6 (the day itself not counted): Mon 24/6, the two
    # weekends between skipped, each with why.
    assert "Hẹn trả kết quả: 24/06/2024" in shown.text
    for skipped in ("08/06/2024", "09/06/2024", "15/06/2024", "16/06/2024"):
        assert skipped in shown.text
    assert 'value="Công ty TNHH Hoa Sen"' in shown.text  # what was typed, kept
    assert dossiers_of(province) == []  # a preview stores nothing
    saved = lan.post("/desk/receive", data=fields(csrf), follow_redirects=False)
    assert saved.status_code == 303
    [dossier] = dossiers_of(province)
    assert dossier["due_date"] == "2024-06-24" and dossier["code"] == "SO-A-240603-0001"
    listed = lan.get(saved.headers["location"])
    assert "Đã tiếp nhận hồ sơ SO-A-240603-0001: hẹn trả kết quả ngày 24/06/2024." in listed.text
    assert "Công ty TNHH Hoa Sen" in listed.text
    [entry] = province.entries(action="dossier.receive")
    assert (entry["actor"], entry["channel"]) == (person(A, "staff"), "web")


def test_bad_input_is_one_sentence_and_nothing_is_stored(province: Province) -> None:
    lan = signed_in(province, person(A, "staff"))
    csrf = csrf_of(lan.get("/desk").text)
    no_name = lan.post("/desk/receive", data=fields(csrf, applicant="  "))
    assert no_name.status_code == 200
    assert "Hãy nhập tên người nộp hồ sơ (cá nhân hoặc tổ chức)." in no_name.text
    other = lan.post("/desk/receive", data=fields(csrf, procedure=procedure(B, "DT")))
    assert "Thủ tục đã chọn không thuộc danh mục của cơ quan" in other.text
    bad_mail = lan.post("/desk/receive", data=fields(csrf, email="not-an-address"))
    assert "Dữ liệu chưa hợp lệ" in bad_mail.text
    # "Xem hạn" with no procedure chosen: said inside the part htmx swaps in.
    unchosen = lan.post(
        "/desk/preview", data=fields(csrf, procedure=""), headers={"HX-Request": "true"}
    )
    preview = unchosen.text.split('id="due-preview"')[1].split("</div>")[0]
    assert "Hãy chọn thủ tục hành chính của hồ sơ." in preview
    assert lan.post("/desk/preview", data=fields("")).status_code == 403
    forged = lan.post("/desk/receive", data=fields("x" * 43))
    assert forged.status_code == 403 and "Biểu mẫu đã cũ" in forged.text
    assert dossiers_of(province) == []


def test_an_import_is_all_or_nothing_with_its_bad_rows_by_line(province: Province) -> None:
    lan = signed_in(province, person(A, "staff"))
    csrf = csrf_of(lan.get("/desk").text)
    good = f"{procedure(A, 'DN')},Hộ kinh doanh Minh Châu,2024-06-03T08:30\n"
    bad = f"{procedure(A, 'XX')},Nguyễn Văn Bình,2024-06-03T08:45\n"
    head = "procedure,applicant,received_at\n"
    refused = lan.post(
        "/desk/import",
        data={"csrf": csrf},
        files={"file": ("ho-so.csv", (head + good + bad).encode(), "text/csv")},
    )
    assert refused.status_code == 200
    assert "chưa hồ sơ nào được tiếp nhận" in refused.text
    assert "ho-so.csv:3: unknown procedure" in refused.text
    assert dossiers_of(province) == []
    forged = lan.post(
        "/desk/import",
        data={"csrf": "nope"},
        files={"file": ("ho-so.csv", (head + good).encode(), "text/csv")},
    )
    assert forged.status_code == 403
    taken = lan.post(
        "/desk/import",
        data={"csrf": csrf},
        files={"file": ("ho-so.csv", (head + good + good).encode(), "text/csv")},
        follow_redirects=False,
    )
    assert taken.status_code == 303
    assert "Đã tiếp nhận 2 hồ sơ từ tệp." in lan.get(taken.headers["location"]).text
    assert len(dossiers_of(province)) == 2


def test_a_delay_is_the_handling_unit_s(province: Province) -> None:
    lan = signed_in(province, person(A, "staff"))  # QLDT, which handles DN
    csrf = csrf_of(lan.get("/desk").text)
    lan.post("/desk/receive", data=fields(csrf, procedure=procedure(A, "DN")))
    [dossier] = dossiers_of(province)
    target = f"/desk/dossiers/{dossier['id']}/delay"
    mai = signed_in(province, person(A, "mai"))  # DKKD
    refused = mai.post(
        target, data={"csrf": csrf_of(mai.get("/desk").text), "reason": "Chờ", "days": "2"}
    )
    assert "Chỉ đơn vị giải quyết hồ sơ (QLDT) mới khai báo trễ hạn." in refused.text
    no_reason = lan.post(target, data={"csrf": csrf, "reason": " ", "days": "2"})
    assert "Hãy nhập lý do hồ sơ bị trễ hạn." in no_reason.text
    too_many = lan.post(target, data={"csrf": csrf, "reason": "Chờ", "days": "61"})
    assert "Số ngày làm việc cần thêm phải từ 1 đến 60." in too_many.text
    assert lan.post(target, data={"csrf": "x", "reason": "Chờ", "days": "2"}).status_code == 403
    reason = "Chờ ý kiến thẩm định của Sở Xây dựng"
    done = lan.post(
        target, data={"csrf": csrf, "reason": reason, "days": "2"}, follow_redirects=False
    )
    assert done.status_code == 303
    shown = dossier_service.show_dossier(province.setup, int(str(dossier["id"])))
    assert (shown["delay_reason"], shown["delay_days"]) == (reason, 2)
    assert reason in lan.get(done.headers["location"]).text
    # Another agency's office: the dossier does not exist for it.
    other = signed_in(province, person(B, "office"))
    page = other.get("/desk")
    assert "SO-A-240603" not in page.text
    assert (
        other.post(
            target, data={"csrf": csrf_of(page.text), "reason": "x", "days": "1"}
        ).status_code
        == 404
    )


def test_a_letter_is_listed_and_downloaded_as_stored(province: Province) -> None:
    found, problems = validate([RULES])
    assert problems == []
    plan_service.load(province.setup, found)
    lan = signed_in(province, person(A, "staff"))
    csrf = csrf_of(lan.get("/desk").text)
    lan.post("/desk/receive", data=fields(csrf, procedure=procedure(A, "DN")))
    [dossier] = dossiers_of(province)
    # A letter states the reason the handling unit declared.
    delay = {"csrf": csrf, "reason": "Chờ ý kiến thẩm định", "days": "2"}
    assert lan.post(f"/desk/dossiers/{dossier['id']}/delay", data=delay).status_code == 200
    issued = apology.process_dossiers(
        province.setup, dt.date(2024, 6, 5), [int(str(dossier["id"]))], province.output
    )
    assert len(issued.letters) == 1
    listed = desk_pages.letters(province.setup, A)
    by_format = {letter.format: letter for letter in listed}
    assert {"html", "docx"} <= set(by_format) and len(by_format) == len(listed)
    html = by_format["html"]
    page = lan.get("/desk")
    for letter in listed:
        assert f"/desk/letters/{letter.id}" in page.text
        got = lan.get(f"/desk/letters/{letter.id}")
        assert got.status_code == 200
        stored = desk_pages.letter_file(province.setup, A, letter.id)
        assert stored is not None and got.content == stored.content
        assert letter.name in got.headers["content-disposition"]
    assert lan.get(f"/desk/letters/{html.id}").headers["content-type"].startswith("text/html")
    # Its PDF, made on demand from the stored HTML: what `planflow documents pdf` writes.
    assert f"/desk/letters/{html.id}?format=pdf" in page.text
    pdf = lan.get(f"/desk/letters/{html.id}", params={"format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert html.name.removesuffix(".html") + ".pdf" in pdf.headers["content-disposition"]
    assert pdf.content == documents.letter_pdf(province.setup, A, html.id)
    other = signed_in(province, person(B, "office"))
    assert other.get(f"/desk/letters/{html.id}").status_code == 404
    assert "Chưa có phiếu xin lỗi nào." in other.get("/desk").text
    leader = signed_in(province, person(A, "leader"))  # reads dossiers, does not receive them
    refused = leader.get("/desk")
    assert refused.status_code == 403 and "Không có quyền dùng bộ phận một cửa" in refused.text
    assert leader.get(f"/desk/letters/{html.id}").status_code == 403


def test_a_report_generated_opened_downloaded_revised_and_compared(province: Province) -> None:
    office = signed_in(province, person(A, "office"))
    page = office.get("/reports")
    assert page.status_code == 200 and "Chưa có báo cáo nào." in page.text
    csrf = csrf_of(page.text)
    no_period = office.post("/reports/generate", data={"csrf": csrf, "period": ""})
    assert "Hãy nhập kỳ báo cáo" in no_period.text
    made = office.post(
        "/reports/generate",
        data={"csrf": csrf, "period": "2024Q2", "window": "calendar"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    [first] = report_service.list_snapshots(province.setup, A)
    assert made.headers["location"] == f"/reports/{first['id']}?created=1"
    shown = office.get(made.headers["location"])
    assert shown.status_code == 200 and "Đã lập báo cáo" in shown.text
    assert "Sở Thử nghiệm SO-A".upper() in shown.text  # the report's own heading, in the page
    assert "<style" not in shown.text and "<script" not in shown.text.split("</head>")[1]
    stored = report_service.show(province.setup, first["id"])
    csv = office.get(f"/reports/{first['id']}/download?format=csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text == report_document.render_csv(stored)
    assert 'filename="SO-A-2024Q2-calendar-r1.csv"' in csv.headers["content-disposition"]
    xlsx = office.get(f"/reports/{first['id']}/download?format=xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    table = list(csv_module.reader(io.StringIO(csv.text.removeprefix("\ufeff"))))
    got = [[number(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    assert got == [[number(c) for c in row] for row in table]  # the CSV's, cell for cell
    for kind in ("json", "html"):
        assert office.get(f"/reports/{first['id']}/download?format={kind}").status_code == 200
    # Again without `revise`: the stored one; a revision needs its reason.
    again = office.post(
        "/reports/generate",
        data={"csrf": csrf, "period": "2024Q2", "window": "calendar"},
        follow_redirects=False,
    )
    assert again.headers["location"] == f"/reports/{first['id']}?stored=1"
    no_reason = office.post(
        "/reports/generate",
        data={"csrf": csrf, "period": "2024Q2", "window": "calendar", "revise": "1"},
    )
    assert "cần ghi lý do" in no_reason.text
    # A dossier received meanwhile changes the totals of the revision.
    lan = signed_in(province, person(A, "staff"))
    lan.post("/desk/receive", data=fields(csrf_of(lan.get("/desk").text)))
    revised = office.post(
        "/reports/generate",
        data={
            "csrf": csrf,
            "period": "2024Q2",
            "window": "calendar",
            "revise": "1",
            "reason": "Bổ sung hồ sơ tiếp nhận",
        },
        follow_redirects=False,
    )
    assert revised.status_code == 303
    second = report_service.list_snapshots(province.setup, A)[-1]
    assert second["revision"] == 2
    compared = office.get(f"/reports/compare?a={first['id']}&b={second['id']}")
    assert compared.status_code == 200
    row = re.search(
        r'<tr class="differs">\s*<th scope="row">Hồ sơ TTHC tiếp nhận</th>\s*'
        r'<td class="n">0</td>\s*<td class="n">1</td>',
        compared.text,
    )
    assert row, compared.text
    assert "Bổ sung hồ sơ tiếp nhận" in compared.text
    # Staff read reports but do not make them; an administrator reads none; another
    # agency sees none of SO-A's.
    assert lan.get(f"/reports/{first['id']}").status_code == 200
    refused = lan.post(
        "/reports/generate", data={"csrf": csrf_of(lan.get("/reports").text), "period": "2024Q2"}
    )
    assert refused.status_code == 403 and "Không có quyền lập báo cáo" in refused.text
    admin = signed_in(province, person(A, "admin"))
    assert admin.get("/reports").status_code == 403
    other = signed_in(province, person(B, "office"))
    assert "Chưa có báo cáo nào." in other.get("/reports").text
    for path in (
        f"/reports/{first['id']}",
        f"/reports/{first['id']}/download?format=csv",
        f"/reports/compare?a={first['id']}&b={second['id']}",
    ):
        assert other.get(path).status_code == 404, path
    forged = office.post("/reports/generate", data={"csrf": "x", "period": "2024Q3"})
    assert forged.status_code == 403
    assert len(report_service.list_snapshots(province.setup, A)) == 2
