"""The administration pages in a real browser: an administrator invites a person, who opens
the one-time link in a browser of their own, chooses a password and signs in; the
administrator disables the account and the person's session ends; a token created (its
secret shown once) works against the API; a definition file with two mistakes uploaded
lists both by line; a staff member gets the 403 page; another agency's administrator sees
none of these accounts."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import httpx
import pytest

from tests.e2e.browser.conftest import Person, Site
from tests.e2e.test_web_admin_pages import BAD_FILE
from workflow.errors import InvalidInput

ADMINS = ("so-a.admin", "so-b.admin")
NEWCOMER_PASSWORD = "mây-trắng-trên-đèo-Hải-Vân"


@pytest.fixture
def admin_site(site: Site) -> Site:
    """The administrators' accounts, once per server."""
    for person in ADMINS:
        with contextlib.suppress(InvalidInput):  # signed up already (an earlier test)
            site.world.account(person)
    return site


def admin_of(people: Callable[..., Person], login: str, path: str = "/admin") -> Person:
    admin = people()
    admin.go(path).sign_in(login)
    assert admin.page.url.endswith(path), admin.page.url
    return admin


def test_an_invited_person_signs_up_and_is_then_disabled(
    people: Callable[..., Person], admin_site: Site
) -> None:
    admin = admin_of(people, "so-a.admin")
    page = admin.page
    row = page.locator("#account-so-a\\.auditor")
    assert "Chưa có tài khoản" in row.inner_text()
    admin.submit(row.get_by_role("button", name="Mời Đặng Thị Dung"))
    link = page.locator("#link-text").input_value()
    assert link.startswith(admin_site.url + "/signup?token=")
    assert "Đã mời, chưa đăng ký" in page.locator("#account-so-a\\.auditor").inner_text()
    admin.screenshot("admin")

    dung = people()
    dung.page.goto(link)
    dung.check()
    dung.page.get_by_label("Mật khẩu mới", exact=True).fill(NEWCOMER_PASSWORD)
    dung.page.get_by_label("Nhập lại mật khẩu mới").fill(NEWCOMER_PASSWORD)
    dung.submit(dung.page.get_by_role("button", name="Tạo mật khẩu"))
    dung.sign_in("so-a.auditor", NEWCOMER_PASSWORD)
    assert dung.page.url.endswith("/my-work"), dung.page.url

    admin.go("/admin")
    row = page.locator("#account-so-a\\.auditor")
    assert "Đang hoạt động" in row.inner_text()
    row.get_by_text("Vô hiệu hóa hoặc kết thúc phiên").click()
    row.get_by_label("Lý do (ghi vào nhật ký)").fill("Nghỉ hưu từ 01/12")
    admin.submit(row.get_by_role("button", name="Vô hiệu hóa tài khoản của Đặng Thị Dung"))
    assert "Đã vô hiệu hóa tài khoản của so-a.auditor" in admin.text()
    assert "Đã vô hiệu hóa" in page.locator("#account-so-a\\.auditor").inner_text()

    dung.go("/my-work")  # the session ended with the account
    assert "/sign-in" in dung.page.url
    dung.sign_in("so-a.auditor", NEWCOMER_PASSWORD)
    assert "/sign-in" in dung.page.url
    entries = admin_site.world.entries(action="account.disable", actor="so-a.admin")
    assert entries and entries[-1]["channel"] == "web"


def test_a_token_shown_once_works_against_the_api(
    people: Callable[..., Person], admin_site: Site
) -> None:
    admin = admin_of(people, "so-a.admin", "/admin/tokens")
    page = admin.page
    page.get_by_label("Người chịu trách nhiệm").select_option("so-a.lan")
    page.get_by_label("Xem nhiệm vụ tasks:read").check()
    page.get_by_label("Thời hạn (ngày, 1 đến 366)").fill("7")
    page.get_by_label("Dùng để làm gì").fill("Bảng tin của phòng")
    admin.submit(page.get_by_role("button", name="Cấp mã truy cập"))
    secret = page.locator("#secret-text").input_value()
    assert secret.startswith("pft_"), secret
    answer = httpx.get(
        admin_site.url + "/api/v1/tasks", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 200, answer.text
    admin.go("/admin/tokens")
    assert secret not in page.content() and "Bảng tin của phòng" in admin.text()


def test_an_uploaded_file_lists_both_mistakes_by_line(
    people: Callable[..., Person], admin_site: Site
) -> None:
    admin = admin_of(people, "so-a.admin", "/admin/validate")
    page = admin.page
    page.get_by_label("Tệp định nghĩa (.yaml)").set_input_files(
        files=[{"name": "so-x.yaml", "mimeType": "application/yaml", "buffer": BAD_FILE.encode()}]
    )
    admin.submit(page.get_by_role("button", name="Kiểm tra tệp"))
    rows = page.locator("#problems tbody tr").all_inner_texts()
    assert len(rows) == 2, rows
    assert rows[0].split("\t")[:2] == ["12", "11"] and "QLDTT" in rows[0]
    assert rows[1].split("\t")[:2] == ["17", "13"] and "ofice" in rows[1]
    assert "có 2 lỗi" in admin.text()


def test_a_staff_member_gets_403_and_another_agency_sees_nothing(
    people: Callable[..., Person], admin_site: Site
) -> None:
    lan = people()
    lan.go("/sign-in").sign_in("so-a.lan")
    assert lan.page.locator("nav a[href='/admin']").count() == 0
    answer = lan.page.goto(admin_site.url + "/admin")
    assert answer is not None and answer.status == 403
    assert "Không có quyền quản trị" in lan.text()
    lan.console.clear()  # the 403 itself, which Chromium logs as a failed load
    lan.check()

    other = admin_of(people, "so-b.admin")
    assert "so-a." not in other.text() and "so-b.lan" in other.text()
    for path in ("/admin/tokens", "/admin/organisation"):
        other.go(path)
        assert "so-a." not in other.text() and "SO-A" not in other.text()
