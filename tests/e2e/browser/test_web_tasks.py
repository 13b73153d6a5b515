"""The task pages in a real browser: a task's whole life by four people (each in a browser
of their own), the four-eyes rule said in words, a page left open while someone else moved
the task (the fresh state and a message, nothing overwritten), and "Việc của tôi" with its
filters and counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from tests.e2e.browser.conftest import PHONE, Person, Site
from workflow.domain.lifecycle import Move
from workflow.services import tasks as task_service


def moves_of(site: Site, task: int) -> list[tuple[str, str, str | None]]:
    """The task's moves as the log recorded them: (action, actor, channel)."""
    return [
        (e["action"], e["actor"], e["channel"])
        for e in site.world.entries(task_id=task)
        if e["action"] != "task.create"
    ]


def card(person: Person, task: int) -> Any:
    return person.page.locator(f"#task-{task}")


def test_a_task_s_whole_life_by_four_people(people: Callable[..., Person], site: Site) -> None:
    task = site.task("Số hoá hồ sơ thủ tục đầu tư công")
    lan, office1, office2, leader = people(), people(), people(), people()
    lan.go("/my-work").sign_in("so-a.lan")
    row = lan.page.locator("tr", has=lan.page.get_by_role("link", name="Số hoá hồ sơ"))
    assert "Bắt đầu thực hiện" in row.inner_text()  # what Lan may do, in the list
    lan.screenshot("my-work")
    row.get_by_role("link").click()
    lan.check()
    lan.submit(lan.page.get_by_role("button", name="Bắt đầu thực hiện"))
    assert "Đã bắt đầu thực hiện nhiệm vụ." in lan.text()
    lan.page.get_by_label("Ghi chú: kết quả đã thực hiện (bắt buộc)").fill(
        "Đã số hoá 120 hồ sơ; danh mục kèm theo."
    )
    lan.submit(lan.page.get_by_role("button", name="Nộp kết quả"))
    assert "Đã nộp kết quả" in lan.text()
    assert not lan.page.locator("form.move").count()  # nothing more for Lan to do

    office1.go("/inbox").sign_in("so-a.office1")
    assert office1.page.url.endswith("/inbox")
    waiting = card(office1, task)
    assert "Đã số hoá 120 hồ sơ; danh mục kèm theo." in waiting.inner_text()
    assert "Nộp bởi Trần Thị Lan" in waiting.inner_text()
    office1.screenshot("inbox")
    waiting.get_by_text("Trả lại", exact=True).click()
    waiting.get_by_label("Lý do trả lại (bắt buộc)").fill("Thiếu phụ lục 2: bổ sung giúp.")
    office1.submit(waiting.get_by_role("button", name="Gửi trả lại"))
    assert "Đã trả lại nhiệm vụ" in office1.text()
    assert not card(office1, task).count()

    lan.go(f"/tasks/{task}")
    assert "Thiếu phụ lục 2: bổ sung giúp." in lan.page.locator(".timeline").inner_text()
    assert "Số lần bị trả lại\n1" in lan.page.locator(".fields").inner_text()
    lan.page.get_by_label("Ghi chú: kết quả đã thực hiện (bắt buộc)").fill("Đã bổ sung phụ lục 2.")
    lan.submit(lan.page.get_by_role("button", name="Nộp kết quả"))

    office2.go(f"/tasks/{task}").sign_in("so-a.office2")
    assert office2.page.url.endswith(f"/tasks/{task}")
    office2.screenshot("task")  # the fields, the moves Bình may make, the history so far
    office2.submit(office2.page.get_by_role("button", name="Xác nhận"))
    assert "Đã xác nhận kết quả" in office2.text()

    leader.go("/inbox").sign_in("so-a.leader")
    closing = card(leader, task)
    assert "Chờ đóng" in leader.text() and closing.count()
    assert "Chờ xác nhận" not in leader.text()  # a leader verifies nothing
    leader.submit(closing.get_by_role("button", name="Đóng nhiệm vụ"))
    assert "Đã đóng nhiệm vụ." in leader.text()

    leader.go(f"/tasks/{task}")
    assert "Đã đóng" in leader.text()
    timeline = leader.page.locator(".timeline").inner_text()
    for words in (
        "Trần Thị Lan (chuyên viên)",
        "Nguyễn Văn An (văn phòng)",
        "Hoàng Thị Bình (văn phòng)",
        "Võ Văn Cường (lãnh đạo)",
        "qua trang web",
    ):
        assert words in timeline, timeline
    assert moves_of(site, task) == [
        ("start", "so-a.lan", "web"),
        ("submit", "so-a.lan", "web"),
        ("return", "so-a.office1", "web"),
        ("submit", "so-a.lan", "web"),
        ("verify", "so-a.office2", "web"),
        ("close", "so-a.leader", "web"),
    ]


def test_the_four_eyes_rule_is_said_in_words(people: Callable[..., Person], site: Site) -> None:
    # Led by the office itself: An (office and staff) does the work, so may not verify it.
    task = site.task("Tổng hợp báo cáo cải cách hành chính quý", unit="VP")
    an = people().go(f"/tasks/{task}")
    an.sign_in("so-a.office1")
    an.submit(an.page.get_by_role("button", name="Bắt đầu thực hiện"))
    an.page.get_by_label("Ghi chú: kết quả đã thực hiện (bắt buộc)").fill("Báo cáo đã lập.")
    an.submit(an.page.get_by_role("button", name="Nộp kết quả"))
    said = an.page.locator("#four-eyes").inner_text()
    assert "Nguyên tắc bốn mắt" in said and "không thể tự xác nhận" in said
    assert not an.page.get_by_role("button", name="Xác nhận").count()
    assert an.page.get_by_role("button", name="Trả lại", exact=True).count()  # still may

    an.go("/inbox")
    mine = card(an, task)
    assert "Nguyên tắc bốn mắt" in mine.inner_text()
    assert not mine.get_by_role("button", name="Xác nhận").count()

    binh = people().go("/inbox")
    binh.sign_in("so-a.office2")
    binh.submit(card(binh, task).get_by_role("button", name="Xác nhận"))
    assert "Đã xác nhận kết quả" in binh.text()
    assert [m[:2] for m in moves_of(site, task)][-1] == ("verify", "so-a.office2")


def test_a_stale_page_gets_the_fresh_state_never_an_overwrite(
    people: Callable[..., Person], site: Site
) -> None:
    task = site.task("Công khai kết quả giải quyết hồ sơ")
    setup = site.world.setup
    task_service.move(setup, task, Move.START, "so-a.lan")
    task_service.move(setup, task, Move.SUBMIT, "so-a.lan", note="Đã công khai trên cổng.")
    an, binh = people(), people()
    an.go(f"/tasks/{task}").sign_in("so-a.office1")
    binh.go(f"/tasks/{task}").sign_in("so-a.office2")

    binh.submit(binh.page.get_by_role("button", name="Xác nhận"))  # Bình first
    an.page.get_by_label("Lý do trả lại (bắt buộc)").fill("Chưa có đường dẫn.")
    an.submit(an.page.get_by_role("button", name="Trả lại", exact=True))  # on the page An still had
    stale = an.page.locator("#stale").inner_text()
    assert "đã được người khác thay đổi" in stale and "chưa được ghi" in stale
    assert "đã xác nhận" in stale
    assert "Đã xác nhận, chờ đóng" in an.text()  # the fresh state is shown
    assert not an.page.get_by_role("button", name="Trả lại", exact=True).count()
    assert [m[:2] for m in moves_of(site, task)] == [
        ("start", "so-a.lan"),
        ("submit", "so-a.lan"),
        ("verify", "so-a.office2"),
    ]

    # The same from the inbox's list (an htmx post): the list comes back fresh.
    other = site.task("Niêm yết thủ tục mới")
    task_service.move(setup, other, Move.START, "so-a.lan")
    task_service.move(setup, other, Move.SUBMIT, "so-a.lan", note="Đã niêm yết.")
    an.go("/inbox")
    binh.go("/inbox")
    binh.submit(card(binh, other).get_by_role("button", name="Xác nhận"))
    an.submit(card(an, other).get_by_role("button", name="Xác nhận"))
    assert "đã được người khác thay đổi" in an.text()
    verifying = an.page.locator("section[aria-labelledby=h-verify]")
    closing = an.page.locator("section[aria-labelledby=h-close]")
    assert not verifying.locator(f"#task-{other}").count()  # fresh: verified meanwhile,
    assert closing.locator(f"#task-{other}").count()  # now waiting to be closed
    assert [m[:2] for m in moves_of(site, other)][-1] == ("verify", "so-a.office2")
    assert len(moves_of(site, other)) == 3


def test_my_work_by_due_date_with_filters_and_counts(
    people: Callable[..., Person], site: Site
) -> None:
    late = site.task("Việc đã quá hạn", unit="BGD", due_date=dt.date(2024, 1, 15))
    later = site.task("Việc còn hạn", unit="BGD", due_date=dt.date(2031, 1, 1))
    task_service.move(site.world.setup, later, Move.START, "so-a.leader")
    leader = people().go("/my-work")
    leader.sign_in("so-a.leader")
    rows = leader.page.locator("table.list tbody tr")
    titles = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(rows.count())]
    assert titles.index("Việc đã quá hạn") < titles.index("Việc còn hạn")  # by due date
    overdue = leader.page.locator("tr", has=leader.page.get_by_text("Việc đã quá hạn"))
    assert "Quá hạn" in overdue.inner_text()
    assert (
        "Quá hạn"
        not in leader.page.locator("tr", has=leader.page.get_by_text("Việc còn hạn")).inner_text()
    )
    counts = leader.page.locator(".counts").inner_text()
    assert "Đang thực hiện" in counts

    leader.page.get_by_label("Trạng thái").select_option("in_progress")  # htmx: no reload
    leader.page.wait_for_url("**state=in_progress**")
    leader.check()
    assert leader.page.get_by_text("Việc còn hạn").count()
    assert not leader.page.get_by_text("Việc đã quá hạn").count()
    assert late != later


def test_on_a_phone_with_the_keyboard_alone(people: Callable[..., Person], site: Site) -> None:
    task = site.task("Cập nhật danh mục thủ tục trên điện thoại")
    lan = people(PHONE).go(f"/tasks/{task}")
    lan.sign_in("so-a.lan")
    page = lan.page
    for path in ("/my-work", f"/tasks/{task}"):
        lan.go(path)
        # Nothing wider than the screen: no sideways scrolling to reach a column or a button.
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    lan.go("/my-work")
    lan.screenshot("my-work-phone")

    lan.go(f"/tasks/{task}")
    page.keyboard.press("Tab")  # the first stop: past the menus, to the page's content
    focused = page.evaluate(
        "() => [document.activeElement.textContent.trim(),"
        " getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["Bỏ qua, đến nội dung chính", "solid"]  # and the focus is visible
    for _ in range(40):  # on, by Tab alone, to the move's button
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Bắt đầu thực hiện":
            break
    else:
        raise AssertionError("the move's button is never reached with Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    lan.check()
    assert "Đã bắt đầu thực hiện nhiệm vụ." in lan.text()
