"""A failure on a page is a Vietnamese page with the right status, never the API's JSON:
an unknown address, a refused upload too large for the server, a bug, a database that is
not reachable; a page whose session ended goes to sign-in. The API keeps its JSON."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import structlog
from fastapi import Request
from fastapi.testclient import TestClient

from tests.e2e.test_api_support import API, PASSWORD, World, worlds
from workflow.web.app import create_app
from workflow.web.settings import Settings

PAGE = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from worlds(db_url)


def signed_in(world: World, person: str, **settings: object) -> TestClient:
    world.account(person)
    client = TestClient(world.app(**settings), raise_server_exceptions=False)
    answer = client.post(
        "/sign-in", data={"login": person, "password": PASSWORD}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client


def is_page(answer: httpx.Response, status: int, title: str) -> str:
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    text = answer.text
    assert '<html lang="vi">' in text and f"<h1>{title}</h1>" in text, text
    assert '"error"' not in text and "Traceback" not in text
    return text


def test_an_unknown_address_is_a_page_for_a_browser_and_json_for_the_api(world: World) -> None:
    lan = signed_in(world, "so-a.lan")
    is_page(lan.get("/no-such-page", headers=PAGE), 404, "Không tìm thấy trang")
    is_page(lan.put("/my-work", headers=PAGE), 405, "Không thực hiện được")
    api = lan.get(API + "/no-such-thing", headers=PAGE)
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    # No Accept: text/html (a script, curl): the JSON answer, as before.
    plain = lan.get("/no-such-page")
    assert plain.status_code == 404 and plain.json()["error"]["code"] == "not_found"
    fragment = lan.get("/no-such-page", headers={**PAGE, "HX-Request": "true"})
    assert fragment.status_code == 404 and fragment.text.startswith('<div class="alert error"')
    assert "<html" not in fragment.text


def test_an_upload_over_the_servers_limit_says_the_limit_in_a_page(world: World) -> None:
    office = signed_in(world, "so-a.office1", max_body_bytes=64 * 1024)
    big = b"ma_thu_tuc,nguoi_nop\n" + b"x" * (100 * 1024)
    declared = office.post("/desk/import", files={"file": ("ho-so.csv", big)}, headers=PAGE)
    text = is_page(declared, 413, "Tệp hoặc biểu mẫu quá lớn")
    assert "Máy chủ nhận tối đa 64 KB mỗi lần gửi" in text and "--max-body" in text

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused as the bytes pass the limit
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        for _ in range(20):
            yield b"x" * 8192

    headers = {**PAGE, "Content-Type": "multipart/form-data; boundary=b"}
    streamed = office.post("/desk/import", content=chunks(), headers=headers)
    is_page(streamed, 413, "Tệp hoặc biểu mẫu quá lớn")
    api = office.post(API + "/dossiers/import", content=big, headers=PAGE)
    assert api.status_code == 413 and api.json()["error"]["code"] == "body_too_large"


def test_a_bug_on_a_page_is_a_page_that_hides_it(world: World) -> None:
    world.account("so-a.lan")
    app = world.app()

    def boom(request: Request) -> None:
        raise RuntimeError(f"a bug: {request.headers.get('x-secret')}")

    app.add_api_route("/boom", boom, methods=["GET"])
    client = TestClient(app, raise_server_exceptions=False)
    with structlog.testing.capture_logs() as logged:
        bug = client.get("/boom", headers={**PAGE, "X-Secret": "hunter2"})
    text = is_page(bug, 500, "Hệ thống gặp lỗi")
    assert "hunter2" not in text and "RuntimeError" not in text
    assert [e["error"] for e in logged if e["event"] == "http.error"] == ["RuntimeError"]


def test_a_database_out_of_reach_is_a_503_page(world: World) -> None:
    lan = signed_in(world, "so-a.lan")
    cookies = dict(lan.cookies)
    # The same server's pages, on a database nobody listens for: every read fails.
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    gone = TestClient(
        create_app(Settings(database_url=unreachable, clock=world.setup.clock)),
        raise_server_exceptions=False,
        cookies=cookies,
    )
    text = is_page(gone.get("/my-work", headers=PAGE), 503, "Hệ thống tạm thời không phục vụ được")
    assert "thử lại sau ít phút" in text
    api = gone.get(API + "/tasks", headers=PAGE)
    assert api.status_code == 503 and api.json()["error"]["code"] == "store_unavailable"


def test_an_ended_session_on_a_page_goes_to_sign_in_and_back(world: World) -> None:
    stale = TestClient(world.app(), cookies={"planflow_session": "ended"})
    answer = stale.get("/my-work?state=submitted", headers=PAGE, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in?next=/my-work")
