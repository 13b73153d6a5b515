"""The account pages in a real browser: signing in and out, a wrong password in words, the
second factor an organisation requires (set up, then asked at every sign-in), a session
that ends while a page is open (sign in again, and back to that page), an invitation
accepted from the link `accounts invite` prints, a password changed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pyotp

from tests.e2e.browser.conftest import Person, Site
from tests.e2e.conftest import run_process
from tests.e2e.test_api_support import PASSWORD
from workflow.domain.lifecycle import Move
from workflow.services import accounts
from workflow.services import tasks as task_service

NEW_PASSWORD = "sông-Thu-Bồn-chảy-qua-Hội-An"


def test_sign_in_with_a_wrong_then_the_right_password_and_sign_out(
    people: Callable[..., Person], site: Site
) -> None:
    lan = people().go("/my-work")
    assert "/sign-in" in lan.page.url  # nobody signed in: the sign-in page, not the list
    assert "hết hạn" not in lan.text()  # no session had ended: nothing said about one
    lan.screenshot("sign-in")
    lan.sign_in("so-a.lan", "không-phải-mật-khẩu-này")
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in lan.text()
    assert lan.page.get_by_label("Tên đăng nhập").input_value() == "so-a.lan"  # kept
    lan.sign_in("so-a.lan")
    assert lan.page.url.endswith("/my-work")
    assert "Trần Thị Lan" in lan.page.locator("header").inner_text()

    lan.submit(lan.page.get_by_role("button", name="Đăng xuất"))
    assert "Bạn đã đăng xuất." in lan.text()
    lan.go("/my-work")
    assert "/sign-in" in lan.page.url
    ended = site.world.entries(action="session.end", actor="so-a.lan")
    assert ended and ended[-1]["channel"] == "web"


def test_the_second_factor_the_organisation_requires_is_set_up_then_asked(
    people: Callable[..., Person], site: Site
) -> None:
    office = people().go("/my-work")
    office.sign_in("so-c.office1")
    # SO-C's file wants a second factor of its office: nothing else until it is set up.
    assert "/second-factor" in office.page.url
    assert "yêu cầu xác thực hai lớp" in office.text()
    office.submit(office.page.get_by_role("button", name="Bắt đầu thiết lập"))
    secret = office.page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    office.page.get_by_label("Mã xác thực (6 số)").fill(pyotp.TOTP(secret).now())
    office.submit(office.page.get_by_role("button", name="Xác nhận và bật"))
    assert office.page.url.endswith("/my-work"), office.page.url
    office.submit(office.page.get_by_role("button", name="Đăng xuất"))

    office.sign_in("so-c.office1")  # the password alone is not enough any more
    assert "cần mã xác thực hai lớp" in office.text()
    assert office.page.locator("#code").is_visible()
    office.sign_in("so-c.office1", code=pyotp.TOTP(secret).at(time.time() + 30))
    assert office.page.url.endswith("/my-work"), office.text()
    enabled = site.world.entries(action="account.second_factor", actor="so-c.office1")
    assert len(enabled) == 1


def test_an_ended_session_signs_in_again_and_returns_to_the_page_as_typed(
    people: Callable[..., Person], site: Site
) -> None:
    task = site.task("Rà soát thủ tục đăng ký kinh doanh", org="SO-B")
    task_service.move(site.world.setup, task, Move.START, "so-b.lan")
    lan = people().go(f"/tasks/{task}")
    lan.sign_in("so-b.lan")
    assert lan.page.url.endswith(f"/tasks/{task}")  # signed in, back where they were going
    note = lan.page.get_by_label("Ghi chú: kết quả đã thực hiện (bắt buộc)")
    note.fill("Đã rà soát 37 thủ tục; đề xuất bãi bỏ 4.")
    accounts.revoke_sessions(site.world.setup, "so-b.lan", "kiểm thử: phiên kết thúc")

    lan.submit(lan.page.get_by_role("button", name="Nộp kết quả"))
    assert "/sign-in" in lan.page.url
    assert "Phiên làm việc đã hết hạn" in lan.text()
    lan.sign_in("so-b.lan")
    assert lan.page.url.endswith(f"/tasks/{task}"), lan.page.url
    assert "Đang thực hiện" in lan.text()  # nothing was submitted without a session
    assert "vẫn được giữ trong biểu mẫu" in lan.text()
    assert note.input_value() == "Đã rà soát 37 thủ tục; đề xuất bãi bỏ 4."  # as typed
    lan.submit(lan.page.get_by_role("button", name="Nộp kết quả"))
    assert "Đã nộp kết quả" in lan.text()
    submitted = site.world.entries(task_id=task, action="submit")
    assert [e["data"]["note"] for e in submitted] == ["Đã rà soát 37 thủ tục; đề xuất bãi bỏ 4."]
    lan.go(f"/tasks/{task}")
    assert "vẫn được giữ" not in lan.text()  # the draft, once put back, is forgotten


def test_an_invitation_is_accepted_and_the_new_person_signs_in(
    people: Callable[..., Person], site: Site
) -> None:
    printed = run_process(
        "accounts", "invite", "so-b.office2", "--base-url", site.url, db=site.world.url
    )
    assert printed.code == 0, printed.err
    link = next(line for line in printed.out.splitlines() if "/signup?token=" in line).strip()
    assert link.startswith(site.url + "/signup?token=")

    newcomer = people()
    newcomer.page.goto(link)
    newcomer.check()
    assert "Nhận lời mời" in newcomer.text()
    # The browser's own check (minlength) stops a too-short password before it is sent;
    # the server's words are for what only it knows: here, a common password.
    newcomer.page.get_by_label("Mật khẩu mới", exact=True).fill("password1234")
    newcomer.page.get_by_label("Nhập lại mật khẩu mới").fill("password1234")
    newcomer.submit(newcomer.page.get_by_role("button", name="Tạo mật khẩu"))
    assert "quá phổ biến" in newcomer.text()
    newcomer.page.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
    newcomer.page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
    newcomer.submit(newcomer.page.get_by_role("button", name="Tạo mật khẩu"))
    assert "Đã tạo mật khẩu: hãy đăng nhập." in newcomer.text()
    newcomer.sign_in("so-b.office2", NEW_PASSWORD)
    assert newcomer.page.url.endswith("/my-work")
    assert "Hoàng Thị Bình" in newcomer.page.locator("header").inner_text()

    again = people()
    again.page.goto(link)  # a link works once
    again.check()
    again.page.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD + "!")
    again.page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD + "!")
    again.submit(again.page.get_by_role("button", name="Tạo mật khẩu"))
    assert "Đường dẫn đăng ký không dùng được" in again.text()


def test_a_changed_password_ends_the_session_and_the_new_one_signs_in(
    people: Callable[..., Person], site: Site
) -> None:
    hung = people().go("/password")
    hung.sign_in("so-a.hung")
    assert hung.page.url.endswith("/password")
    hung.page.get_by_label("Mật khẩu hiện tại").fill(PASSWORD)
    hung.page.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
    hung.page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
    hung.submit(hung.page.get_by_role("button", name="Đổi mật khẩu"))
    assert "Đã đổi mật khẩu" in hung.text()
    hung.sign_in("so-a.hung", PASSWORD)
    assert "không đúng" in hung.text()
    hung.sign_in("so-a.hung", NEW_PASSWORD)
    assert hung.page.url.endswith("/my-work")
