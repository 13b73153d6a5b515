"""The administration pages over HTTP, without a browser (as a browser without JavaScript
posts its forms), on SQLite and PostgreSQL: an invitation's link shown once and usable; a
disabled account's session ended; a token with its secret shown once, refused when wider
than the person's roles; an uploaded definition file validated, never loaded, every
problem by line; CSRF on every form; another organisation's administrator sees and changes
nothing; a role without `accounts:admin` gets the 403 page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_api_support import API, PASSWORD, World, secret_of, worlds
from workflow.services import accounts
from workflow.services import organisations as org_service

BAD_FILE = """kind: organisation
code: SO-X
name: Sở Thử nghiệm
province: Quảng Nam
office_unit: VP
units:
  - code: VP
    name: Văn phòng Sở
people:
  - id: so-x.lan
    name: Trần Thị Lan
    unit: QLDTT
    roles: [staff]
  - id: so-x.an
    name: Nguyễn Văn An
    unit: VP
    roles: [ofice]
"""


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from worlds(db_url)


def signed_in(world: World, person: str) -> TestClient:
    world.account(person)
    client = TestClient(world.app())
    answer = client.post(
        "/sign-in", data={"login": person, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def state_of(world: World, person: str) -> str:
    listed = accounts.list_accounts(world.setup, "SO-A")
    return str(next(a["state"] for a in listed if a["person"] == person))


def test_an_invitation_is_shown_once_and_signs_the_person_up(world: World) -> None:
    admin = signed_in(world, "so-a.admin")
    page = admin.get("/admin")
    assert page.status_code == 200
    assert "Đặng Thị Dung" in page.text and "Chưa có tài khoản" in page.text
    assert "so-b." not in page.text  # only the administrator's organisation
    made = admin.post("/admin/accounts/so-a.auditor/invite", data={"csrf": csrf_of(page.text)})
    link = re.search(r'id="link-text" class="copy" readonly value="([^"]+)"', made.text)
    assert made.status_code == 200 and link, made.text
    assert state_of(world, "so-a.auditor") == "invited"
    assert "link-text" not in admin.get("/admin").text  # shown once
    accounts.activate(world.setup, secret_of(link.group(1).replace("&amp;", "&")), PASSWORD)
    assert state_of(world, "so-a.auditor") == "active"


def test_disabling_ends_the_session_and_enabling_lets_the_person_back(world: World) -> None:
    admin = signed_in(world, "so-a.admin")
    lan = signed_in(world, "so-a.lan")
    assert lan.get("/my-work", follow_redirects=False).status_code == 200
    csrf = csrf_of(admin.get("/admin").text)
    empty = admin.post("/admin/accounts/so-a.lan/disable", data={"csrf": csrf, "reason": " "})
    assert "Hãy nhập lý do" in empty.text and state_of(world, "so-a.lan") == "active"
    done = admin.post(
        "/admin/accounts/so-a.lan/disable",
        data={"csrf": csrf, "reason": "Chuyển công tác"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/admin?done=")
    assert "Đã vô hiệu hóa tài khoản của so-a.lan" in admin.get(done.headers["location"]).text
    assert lan.get("/my-work", follow_redirects=False).status_code == 303  # to sign-in
    assert state_of(world, "so-a.lan") == "disabled"
    again = admin.post("/admin/accounts/so-a.lan/enable", data={"csrf": csrf})
    assert again.status_code == 200 and "Đã mở lại tài khoản của so-a.lan" in again.text
    assert state_of(world, "so-a.lan") == "active"
    told = admin.get("/admin?done=disabled&who=so-b.admin")  # a link made elsewhere
    assert "Đã vô hiệu hóa tài khoản của" not in told.text


def test_a_token_is_shown_once_and_no_wider_than_the_roles(world: World) -> None:
    world.account("so-a.lan")
    admin = signed_in(world, "so-a.admin")
    csrf = csrf_of(admin.get("/admin/tokens").text)
    wide = admin.post(
        "/admin/tokens",
        data={
            "csrf": csrf,
            "person": "so-a.lan",
            "permission": ["tasks:read", "audit:read"],
            "days": "30",
            "label": "Bảng tin",
        },
    )
    assert wide.status_code == 200 and "rộng hơn vai trò" in wide.text
    assert "token-secret" not in wide.text
    made = admin.post(
        "/admin/tokens",
        data={
            "csrf": csrf,
            "person": "so-a.lan",
            "permission": ["tasks:read"],
            "days": "30",
            "label": "Bảng tin",
        },
    )
    secret = re.search(r'id="secret-text" class="copy" readonly value="([^"]+)"', made.text)
    assert secret, made.text
    api = TestClient(world.app())
    headers = {"Authorization": f"Bearer {secret.group(1)}"}
    assert api.get(f"{API}/tasks", headers=headers).status_code == 200
    listed = admin.get("/admin/tokens")
    assert secret.group(1) not in listed.text and "Bảng tin" in listed.text
    token_id = re.search(r'action="/admin/tokens/(\d+)/revoke"', listed.text)
    assert token_id
    revoked = admin.post(f"/admin/tokens/{token_id.group(1)}/revoke", data={"csrf": csrf})
    assert "Đã thu hồi mã truy cập API" in revoked.text
    assert api.get(f"{API}/tasks", headers=headers).status_code == 401


def test_an_uploaded_file_is_validated_by_line_and_never_loaded(world: World) -> None:
    admin = signed_in(world, "so-a.admin")
    csrf = csrf_of(admin.get("/admin/validate").text)
    checked = admin.post(
        "/admin/validate",
        data={"csrf": csrf},
        files={"file": ("so-x.yaml", BAD_FILE.encode(), "application/yaml")},
    )
    assert checked.status_code == 200
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\d+)</td><td><code[^>]*>([^<]+)", checked.text)
    assert [(line, col) for line, col, _ in rows] == [("12", "11"), ("17", "13")]
    assert "QLDTT" in rows[0][2] and "ofice" in rows[1][2]
    assert "SO-X" not in org_service.known_organisations(world.setup)  # read-only
    empty = admin.post("/admin/validate", data={"csrf": csrf}, files={"file": ("a.yaml", b"")})
    assert "Hãy chọn tệp định nghĩa" in empty.text
    forged = admin.post(
        "/admin/validate", data={"csrf": "x"}, files={"file": ("so-x.yaml", BAD_FILE.encode())}
    )
    assert forged.status_code == 403


def test_the_organisation_page_shows_its_own_units_people_and_plans(world: World) -> None:
    admin = signed_in(world, "so-a.admin")
    page = admin.get("/admin/organisation")
    assert page.status_code == 200
    assert "Phòng Quản lý đầu tư" in page.text and "Phan Văn Quản" in page.text
    assert "Sở Thử nghiệm SO-B" not in page.text


def test_other_roles_get_the_403_page_and_forms_need_their_token(world: World) -> None:
    lan = signed_in(world, "so-a.lan")
    for path in ("/admin", "/admin/tokens", "/admin/organisation", "/admin/validate"):
        answer = lan.get(path)
        assert answer.status_code == 403 and "Không có quyền quản trị" in answer.text
    assert 'href="/admin"' not in lan.get("/my-work").text
    forged = lan.post("/admin/accounts/so-a.hung/invite", data={"csrf": "x"})
    assert forged.status_code == 403
    admin = signed_in(world, "so-a.admin")
    no_token = admin.post("/admin/accounts/so-a.hung/invite", data={"csrf": ""})
    assert no_token.status_code == 403 and state_of(world, "so-a.hung") == "none"


def test_another_organisations_administrator_changes_nothing(world: World) -> None:
    world.account("so-a.lan")
    other = signed_in(world, "so-b.admin")
    page = other.get("/admin")
    assert "so-a." not in page.text
    csrf = csrf_of(page.text)
    for action in ("invite", "reset", "enable"):
        answer = other.post(f"/admin/accounts/so-a.lan/{action}", data={"csrf": csrf})
        assert answer.status_code == 403, action
        assert "link-text" not in answer.text
    disabled = other.post("/admin/accounts/so-a.lan/disable", data={"csrf": csrf, "reason": "thử"})
    assert disabled.status_code == 403 and state_of(world, "so-a.lan") == "active"
    lan_token = world.token("so-a.lan", ["tasks:read"])
    revoked = other.post(f"/admin/tokens/{lan_token.id}/revoke", data={"csrf": csrf})
    assert revoked.status_code == 403
    assert "so-a." not in other.get("/admin/tokens").text
    assert "so-a." not in other.get("/admin/organisation").text
    unknown = other.post("/admin/accounts/nobody/invite", data={"csrf": csrf})
    assert unknown.status_code == 404


def test_a_valid_file_is_said_valid_and_a_too_large_one_refused_unread(world: World) -> None:
    admin = signed_in(world, "so-a.admin")
    csrf = csrf_of(admin.get("/admin/validate").text)
    fixed = BAD_FILE.replace("QLDTT", "VP").replace("ofice", "office")
    valid = admin.post(
        "/admin/validate", data={"csrf": csrf}, files={"file": ("so-x.yml", fixed.encode())}
    )
    assert "Tệp so-x.yml hợp lệ: 1 cơ quan, 0 kế hoạch" in valid.text
    assert "SO-X" not in org_service.known_organisations(world.setup)
    roomy = TestClient(world.app(max_body_bytes=8 * 1024 * 1024), cookies=admin.cookies)
    big = b"# " + b"x" * (5 * 1024 * 1024) + b"\n"
    refused = roomy.post("/admin/validate", data={"csrf": csrf}, files={"file": ("big.yaml", big)})
    assert refused.status_code == 200 and "Tệp quá lớn: một tệp định nghĩa tối đa 5 MB" in (
        refused.text
    )
