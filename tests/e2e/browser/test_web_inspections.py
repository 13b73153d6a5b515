"""The inspection pages in a real browser, over SQLite and PostgreSQL: an inspector draws
the quarter's units (the population and its signals shown before, the re-derivation from
the audit log after), fills in the record form (a non-compliant finding without its note is
refused next to the note, then accepted), the office verifies it on the task page, the
conclusion notice is issued and downloaded; a staff member cannot draw; a person of another
agency sees nothing of it.

The agency is SO-K, added to the shared site's world by this module: its inspection team
(TTR) inspects half of QLDT and DKKD every quarter, each unit with two plan tasks due this
quarter (the checklist of its inspection). The site runs on the real clock."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.browser.conftest import Person, Site
from tests.support.province import agency_files
from workflow.clock import today_local
from workflow.definitions.models import OrganisationSpec
from workflow.domain.inspection import current_period
from workflow.services import inspections as service
from workflow.services import organisations as org_service
from workflow.services.tasks import NewTask, create_tasks

ORG = "SO-K"
PEOPLE = ("so-k.thanh", "so-k.office2", "so-k.lan")


@pytest.fixture(scope="module")
def agency(site: Site) -> str:
    """SO-K in the site's world, its people's accounts, its units' tasks due this quarter;
    the quarter it draws."""
    setup = site.world.setup
    org_service.upsert_organisation(
        setup, OrganisationSpec.model_validate(agency_files(ORG)["organisation"])
    )
    for who in PEOPLE:
        site.world.account(who)
    today = today_local(setup.clock)
    quarter = current_period(today, "quarter")
    due = today + dt.timedelta(days=1)
    create_tasks(
        setup,
        [
            NewTask(
                organisation=ORG,
                code=f"K.{unit}.{n}",
                title=f"Nhiệm vụ cải cách hành chính số {n} của {unit}",
                lead_unit=unit,
                kind="plan",
                period=quarter,
                due_date=due,
            )
            for unit in ("QLDT", "DKKD")
            for n in (1, 2)
        ],
    )
    return quarter


def test_an_inspection_drawn_recorded_verified_and_concluded(
    people: Callable[..., Person], site: Site, agency: str
) -> None:
    inspector, office = people(), people()
    inspector.go("/inspections").sign_in("so-k.thanh")
    page = inspector.page
    assert page.url.endswith("/inspections")
    inspector.submit(page.get_by_role("button", name="Xem danh sách đơn vị trước khi bốc thăm"))
    # Before: the population with its signals; the choice is made at confirmation.
    before = page.locator("#population").inner_text()
    assert "Phòng Quản lý đầu tư (QLDT)" in before and "Phòng Đăng ký kinh doanh (DKKD)" in before
    assert "Chưa từng kiểm tra" in before
    assert "chỉ có khi bạn xác nhận" in inspector.text()
    inspector.screenshot("inspection-draw")
    inspector.submit(page.get_by_role("button", name=re.compile("^Xác nhận bốc thăm")))
    assert "Đã bốc thăm đơn vị kiểm tra" in inspector.text()
    number = int(page.url.split("/")[-1].split("?")[0])
    # After: the re-derivation from the draw's audit entry, each unit and why.
    assert "Hạt giống = 15 chữ số hex đầu của SHA-256" in inspector.text()
    after = page.locator("#explained").inner_text()
    assert "Được chọn: xếp thứ 1 trong 1" in after and "Không được chọn: xếp thứ 2" in after

    targets = page.locator("#targets")
    link = targets.get_by_role("link", name=re.compile(f"^KT-{agency}-"))
    task = int((link.get_attribute("href") or "").split("/")[-1])
    inspector.go(f"/tasks/{task}")
    inspector.submit(page.get_by_role("button", name="Bắt đầu thực hiện"))
    inspector.submit(page.get_by_role("link", name="Biên bản kiểm tra của nhiệm vụ này"))
    findings = page.locator("fieldset[id^=finding-]")
    assert findings.count() == 2
    first = int((findings.first.get_attribute("id") or "").split("-")[-1])
    page.locator(f"#c{first}-no").check()
    page.get_by_label("Nội dung phải khắc phục (khi chưa đạt)").first.fill("Hoàn thành báo cáo quý")
    deadline = today_local(site.world.setup.clock) + dt.timedelta(days=30)
    page.locator(f"#fd{first}").fill(deadline.isoformat())
    page.get_by_label("Ưu điểm (mỗi ý một dòng)").fill("Hồ sơ lưu trữ đầy đủ")
    inspector.submit(page.get_by_role("button", name="Nộp biên bản kiểm tra"))
    refused = page.locator(f"#e-n{first}")
    assert refused.inner_text() == "Nhiệm vụ chưa đạt: phải ghi rõ lý do vào ghi chú."
    assert page.locator(f"#n{first}").get_attribute("aria-invalid") == "true"
    assert page.locator(f"#ft{first}").input_value() == "Hoàn thành báo cáo quý"  # kept
    inspector.screenshot("inspection-record")
    page.locator(f"#n{first}").fill("Chưa nộp báo cáo quý đúng hạn.")
    inspector.submit(page.get_by_role("button", name="Nộp biên bản kiểm tra"))
    assert "Đã nộp biên bản kiểm tra" in inspector.text()

    office.go(f"/tasks/{task}").sign_in("so-k.office2")
    office.submit(office.page.get_by_role("button", name="Xác nhận"))
    assert "Đã xác nhận kết quả" in office.text()

    inspector.go(f"/inspections/{number}")
    inspector.submit(page.get_by_role("button", name="Ban hành thông báo kết luận đã đến hạn"))
    row = page.locator("#targets tbody tr", has=page.locator(f'a[href="/tasks/{task}"]'))
    assert "Hoàn thành báo cáo quý" in row.inner_text()  # the fix task, linked
    inspector.screenshot("inspection")
    with page.expect_download() as got:
        row.get_by_role("link", name="Tải DOCX").click()
    download: Any = got.value
    assert re.fullmatch(rf"TB-{agency}-[A-Z]+-{task}\.docx", download.suggested_filename)
    with open(download.path(), "rb") as f:
        assert f.read(2) == b"PK"
    html = page.request.get(f"{site.url}/inspections/tasks/{task}/notice/html")
    assert html.status == 200 and "Chưa nộp báo cáo quý đúng hạn." in html.text()


def test_staff_cannot_draw_and_another_agency_sees_nothing(
    people: Callable[..., Person], site: Site, agency: str
) -> None:
    lan = people()
    lan.go("/inspections").sign_in("so-k.lan")
    assert not lan.page.get_by_role("button", name=re.compile("bốc thăm")).count()
    refused = lan.page.request.get(f"{site.url}/inspections/draw?period={agency}")
    assert refused.status == 403
    assert "Chỉ thanh tra viên mới được bốc thăm đơn vị kiểm tra." in refused.text()

    # SO-K's draw (this test's own when the other test has not run first), its task.
    drawn = service.draw(site.world.setup, ORG, agency, "so-k.thanh")
    task = drawn.tasks[drawn.selected[0]]
    lan.go("/inspections")
    assert lan.page.locator(f"#draw-{drawn.inspection}").count()  # SO-K's staff read it
    stranger = people()
    stranger.go("/inspections").sign_in("so-a.lan")
    assert (
        ORG not in stranger.text()
        and not stranger.page.locator(f"#draw-{drawn.inspection}").count()
    )
    for path in (
        f"/inspections/{drawn.inspection}",
        f"/inspections/tasks/{task}/record",
        f"/inspections/tasks/{task}/notice/html",
    ):
        answer = stranger.page.request.get(f"{site.url}{path}")
        assert answer.status == 404 and "không có quyền xem" in answer.text(), path
