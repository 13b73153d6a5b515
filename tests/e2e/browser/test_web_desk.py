"""The one-stop desk and the reports in a real browser: a dossier received (the due date
and the days skipped shown before saving, then the dossier in the list), a delay declared,
an apology letter downloaded as stored; a report generated for a period, opened, its CSV
downloaded, two revisions compared; another agency sees none of it; a leader, who does not
receive dossiers, gets the 403 page.

The server runs on the real clock: expected due dates are computed here with the same
calendar service the server uses, at the moment of the test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.browser.conftest import PHONE, Person, Site
from tests.e2e.test_api_support import agency
from workflow.clock import LOCAL_TZ
from workflow.definitions.checks import validate
from workflow.documents import report as report_document
from workflow.services import apology, desk_pages
from workflow.services import dossiers as dossier_service
from workflow.services import plans as plan_service
from workflow.services import reports as report_service
from workflow.services.calendar import calendar_for

ROOT = Path(__file__).resolve().parents[3]
DN = "SO-A-WEB-DN"  # 3 working days, QLDT (Lan's unit), receipts from 16:00 count tomorrow
PROCEDURES = {
    "kind": "procedures",
    "organisation": "SO-A",
    "procedures": [
        {
            "code": DN,
            "name": "Đăng ký hộ kinh doanh",
            "working_days": 3,
            "unit": "QLDT",
            "cutoff_hour": 16,
        }
    ],
}
_loaded: set[str] = set()
_TODAY = dt.datetime.now(LOCAL_TZ).date()
PERIOD = f"{_TODAY.year}Q{(_TODAY.month - 1) // 3 + 1}"  # this quarter, begun: a report of it


@pytest.fixture
def desk(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """SO-A's procedure and the apology rules, loaded once per server (as `plans load`)."""
    if site.backend not in _loaded:
        folder = tmp_path_factory.mktemp("desk-definitions")
        # SO-A's file as the site's world holds it (the loader checks the procedures' units
        # against it), with the procedures' file beside it.
        organisation = agency("SO-A").model_dump(mode="json", exclude_none=True)
        for name, content in (("organisation", organisation), ("procedures", PROCEDURES)):
            (folder / f"{name}.yaml").write_text(
                yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
        found, problems = validate([folder, ROOT / "definitions" / "rules"])
        assert problems == [], problems
        plan_service.load(site.world.setup, found)
        _loaded.add(site.backend)
    return site


def receive(site: Site, applicant: str) -> dict[str, Any]:
    """A dossier received at SO-A's desk by Lan, through the service (a test's setup)."""
    new = dossier_service.NewDossier(
        DN, dossier_service.Applicant(applicant, None, None, None), dt.datetime.now(LOCAL_TZ)
    )
    return dossier_service.receive(site.world.setup, new, "so-a.lan")


def htmx_click(person: Person, button: Any) -> None:
    """Click a button htmx posts (not its form) and wait until its answer is swapped in."""
    person.page.evaluate(
        """() => {
            window.__settled = false;
            document.body.addEventListener(
                "htmx:afterSettle", () => { window.__settled = true; }, {once: true});
        }"""
    )
    button.click()
    person.page.wait_for_function("() => window.__settled === true")
    person.check()


def downloaded(person: Person, link: Any) -> bytes:
    with person.page.expect_download() as info:
        link.click()
    return Path(info.value.path()).read_bytes()


def test_a_dossier_received_delayed_and_its_letter_downloaded(
    people: Callable[..., Person], desk: Site, tmp_path: Path
) -> None:
    site = desk
    lan = people()
    lan.go("/desk").sign_in("so-a.lan")
    assert lan.page.url.endswith("/desk")
    page = lan.page
    applicant = f"Hộ kinh doanh Minh Châu {site.counter}-{id(lan)}"
    page.get_by_label("Thủ tục hành chính").select_option(DN)
    page.get_by_label("Người nộp hồ sơ (cá nhân hoặc tổ chức)").fill(applicant)
    expected = calendar_for(site.world.setup, "SO-A").add_working_days(
        dt.datetime.now(LOCAL_TZ), 3, 16
    )
    htmx_click(lan, page.get_by_role("button", name="Xem hạn"))
    preview = page.locator("#due-preview").inner_text()
    assert f"Hẹn trả kết quả: {expected.due:%d/%m/%Y}" in preview, preview
    for skipped in expected.skipped:
        assert f"{skipped.date:%d/%m/%Y}: {skipped.reason}" in preview, preview
    assert page.get_by_label("Người nộp hồ sơ (cá nhân hoặc tổ chức)").input_value() == applicant
    page.get_by_label("Số điện thoại").scroll_into_view_if_needed()
    lan.screenshot("desk")  # the due date and the days skipped, before saving
    lan.submit(page.get_by_role("button", name="Tiếp nhận hồ sơ"))
    assert f"hẹn trả kết quả ngày {expected.due:%d/%m/%Y}" in lan.text()
    row = page.locator("tr", has_text=applicant)
    assert row.count() == 1
    [dossier] = [
        d
        for d in dossier_service.list_dossiers(site.world.setup, organisations=["SO-A"])
        if d["applicant"] == applicant
    ]
    assert dossier["due_date"] == expected.due.isoformat()

    # A delay, declared by Lan's unit (QLDT handles the procedure).
    row.locator("summary", has_text="Khai báo trễ hạn").click()
    reason = "Chờ ý kiến thẩm định của Sở Xây dựng"
    row.get_by_label("Lý do trễ hạn (ghi trên phiếu xin lỗi)").fill(reason)
    row.get_by_label("Số ngày làm việc cần thêm (1–60)").fill("2")
    lan.submit(row.get_by_role("button", name="Khai báo trễ hạn"))
    assert "Đã khai báo trễ hạn" in lan.text()
    assert reason in page.locator(f"#dossier-{dossier['id']}").inner_text()
    shown = dossier_service.show_dossier(site.world.setup, dossier["id"])
    assert (shown["delay_reason"], shown["delay_days"]) == (reason, 2)

    # The apology flow issues its letter (as its run would), as of its due date, stating the
    # reason declared above; the desk lists it and downloads it byte for byte.
    issued = apology.process_dossiers(site.world.setup, expected.due, [dossier["id"]], tmp_path)
    assert len(issued.letters) == 1
    lan.go("/desk")
    [html] = [
        x
        for x in desk_pages.letters(site.world.setup, "SO-A")
        if x.dossier == dossier["id"] and x.format == "html"
    ]
    stored = desk_pages.letter_file(site.world.setup, "SO-A", html.id)
    assert stored is not None and reason in stored.content.decode("utf-8")
    link = page.get_by_role("link", name=f"Tải {html.name}")
    assert downloaded(lan, link) == stored.content

    # On a phone's screen: nothing wider than the screen but the tables' own scrolling.
    page.set_viewport_size(PHONE)
    lan.go("/desk")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")

    # Another agency's desk shows none of it; a leader does not receive dossiers.
    other = people()
    other.go("/sign-in").sign_in("so-b.lan")
    other.go("/desk")
    assert applicant not in other.text() and html.name not in other.text()
    leader = people()
    leader.go("/sign-in").sign_in("so-a.leader")
    assert leader.page.locator("nav a[href='/desk']").count() == 0
    answer = leader.page.goto(site.url + "/desk")
    assert answer is not None and answer.status == 403
    assert "Không có quyền dùng bộ phận một cửa" in leader.text()
    leader.console.clear()  # the 403 itself, which Chromium logs as a failed load
    leader.check()


def test_a_report_generated_opened_downloaded_and_compared(
    people: Callable[..., Person], desk: Site
) -> None:
    site = desk
    office = people()
    office.go("/reports").sign_in("so-a.office1")
    page = office.page
    page.get_by_label("Kỳ báo cáo (quý 2026Q3, nửa năm 2026H1 hoặc năm 2026)").fill(PERIOD)
    page.get_by_label("Cách tính kỳ").select_option("calendar")
    page.get_by_label("Lập bản sửa đổi (giữ bản cũ; cần ghi lý do)").check()
    page.get_by_label("Lý do lập lại").fill("Lập lại cho phép thử trên trình duyệt")
    office.submit(page.get_by_role("button", name="Lập báo cáo"))
    first = int(page.url.split("/reports/")[1].split("?")[0])
    assert "Đã lập báo cáo" in office.text()
    assert "SỞ THỬ NGHIỆM SO-A" in page.locator("article.report-doc").inner_text()
    report = report_service.show(site.world.setup, first)
    csv = downloaded(office, page.get_by_role("link", name="Tải báo cáo dạng CSV"))
    assert csv == report_document.render_csv(report).encode("utf-8")

    # One more dossier received, then a revision: the totals differ by it.
    receive(site, f"Công ty Hoa Sen {id(office)}")
    office.go("/reports")
    page.get_by_label("Kỳ báo cáo (quý 2026Q3, nửa năm 2026H1 hoặc năm 2026)").fill(PERIOD)
    page.get_by_label("Cách tính kỳ").select_option("calendar")
    page.get_by_label("Lập bản sửa đổi (giữ bản cũ; cần ghi lý do)").check()
    page.get_by_label("Lý do lập lại").fill("Bổ sung hồ sơ tiếp nhận")
    office.submit(page.get_by_role("button", name="Lập báo cáo"))
    second = int(page.url.split("/reports/")[1].split("?")[0])
    assert second != first
    office.screenshot("report")  # the report in the page, its downloads, the comparison
    page.get_by_label("So sánh với bản").select_option(str(first))
    office.submit(page.get_by_role("button", name="So sánh"))
    changed = page.locator("tr.differs", has_text="Hồ sơ TTHC tiếp nhận")
    assert changed.count() == 1
    cells = changed.locator("td.n").all_inner_texts()
    assert int(cells[0]) == int(cells[1]) + 1, cells  # the newer revision first
    office.go(f"/reports/{first}")

    # Another agency sees none of SO-A's reports.
    other = people()
    other.go("/sign-in").sign_in("so-b.lan")
    other.go("/reports")
    assert f"Báo cáo số {first}:" not in other.text()
    answer = other.page.goto(f"{site.url}/reports/{first}")
    assert answer is not None and answer.status == 404
    other.console.clear()  # the 404 itself, which Chromium logs as a failed load
    other.check()
