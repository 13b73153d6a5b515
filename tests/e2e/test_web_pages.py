"""The web pages over HTTP, without a browser (as a browser without JavaScript posts its
forms): CSRF on every form, `next` never leading off the site, a forged move refused in
words by the rule that refuses it, the fence between organisations, and the API beside the
pages unchanged. The browser tests (tests/e2e/browser/) drive the same pages in Chromium."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_api_support import API, PASSWORD, World, worlds
from workflow.domain.lifecycle import Move
from workflow.services import task_pages
from workflow.services import tasks as task_service
from workflow.services.tasks import NewTask
from workflow.web.pages.base import local_path


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from worlds(db_url)


def signed_in(world: World, person: str, **kw: str) -> TestClient:
    world.account(person)
    client = TestClient(world.app())
    answer = client.post(
        "/sign-in", data={"login": person, "password": PASSWORD, **kw}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def test_a_form_without_its_csrf_token_changes_nothing(world: World) -> None:
    task = world.tasks["SO-A"][0]
    lan = signed_in(world, "so-a.lan")
    page = lan.get(f"/tasks/{task}")
    assert page.status_code == 200 and 'lang="vi"' in page.text
    for forged in ("", "x" * 43):
        answer = lan.post(
            f"/tasks/{task}/move", data={"move": "start", "version": "1", "csrf": forged}
        )
        assert answer.status_code == 403
        assert "Biểu mẫu đã cũ hoặc không đến từ trang này" in answer.text
    assert task_service.get_task(world.setup, task).version == 1
    moved = lan.post(
        f"/tasks/{task}/move",
        data={"move": "start", "version": "1", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert moved.status_code == 303 and moved.headers["location"] == f"/tasks/{task}?done=start"
    assert task_service.get_task(world.setup, task).state == "in_progress"


def test_a_forged_verify_by_the_submitter_is_refused_in_words(world: World) -> None:
    # Led by the office: An (office and staff) did the work and submitted it.
    new = NewTask(organisation="SO-A", code="VP.1", title="Tổng hợp", lead_unit="VP")
    task = task_service.create_tasks(world.setup, [new])[0]
    task_service.move(world.setup, task, Move.START, "so-a.office1")
    task_service.move(world.setup, task, Move.SUBMIT, "so-a.office1", note="Xong")
    an = signed_in(world, "so-a.office1")
    page = an.get(f"/tasks/{task}")
    assert "Nguyên tắc bốn mắt" in page.text
    assert 'value="verify"' not in page.text  # no button for it
    forged = an.post(
        f"/tasks/{task}/move",
        data={"move": "verify", "version": "3", "csrf": csrf_of(page.text)},
    )
    assert "Nguyên tắc bốn mắt" in forged.text and "không thể tự xác nhận" in forged.text
    assert task_service.get_task(world.setup, task).state == "submitted"


def test_the_inbox_lists_the_oldest_submission_first_with_its_note(world: World) -> None:
    first, second, _ = world.tasks["SO-A"]
    for task, note in ((second, "Nộp trước"), (first, "Nộp sau")):  # the later id first
        task_service.move(world.setup, task, Move.START, "so-a.lan")
        task_service.move(world.setup, task, Move.SUBMIT, "so-a.lan", note=note)
    page = signed_in(world, "so-a.office2").get("/inbox").text
    assert page.index(f'id="task-{second}"') < page.index(f'id="task-{first}"')
    assert page.index("Nộp trước") < page.index("Nộp sau")
    lan = signed_in(world, "so-a.lan")
    assert "Chờ xác nhận" not in lan.get("/inbox").text  # staff verify nothing


def test_my_work_counts_each_state_and_filters_by_state_and_period(world: World) -> None:
    first, second, third = world.tasks["SO-A"]
    task_service.move(world.setup, first, Move.START, "so-a.lan")
    later = NewTask(
        organisation="SO-A", code="K.1", title="Việc kỳ sau", lead_unit="QLDT", period="2024Q3"
    )
    task_service.create_tasks(world.setup, [later])
    lan = signed_in(world, "so-a.lan")
    every = lan.get("/my-work").text
    counts = re.findall(r'<span class="n">(\d+)</span> ([^<]+)</a>', every)
    assert counts[:2] == [("3", "Đã giao"), ("1", "Đang thực hiện")]
    started = lan.get("/my-work?state=in_progress").text
    assert f'href="/tasks/{first}"' in started and f'href="/tasks/{second}"' not in started
    q3 = lan.get("/my-work?period=2024Q3").text
    assert "Việc kỳ sau" in q3 and f'href="/tasks/{third}"' not in q3
    assert re.findall(r'<span class="n">(\d+)</span> Đã giao', q3) == ["1"]
    unknown = lan.get("/my-work?period=1999Q1&state=nonsense").text  # as if not given
    assert f'href="/tasks/{third}"' in unknown and "Việc kỳ sau" in unknown


def test_next_never_leads_off_the_site() -> None:
    for outside in (
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "inbox",
        "/ok\r\nSet-Cookie: x=1",
    ):
        assert local_path(outside) == "/my-work", outside
    assert local_path("/tasks/7?done=start") == "/tasks/7?done=start"


def test_sign_in_returns_to_a_local_page_only(world: World) -> None:
    world.account("so-a.lan")
    http = TestClient(world.app())
    for target, expected in (("https://evil.example/", "/my-work"), ("/inbox", "/inbox")):
        answer = http.post(
            "/sign-in",
            data={"login": "so-a.lan", "password": PASSWORD, "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == expected


def test_a_sign_in_posted_from_another_site_is_refused(world: World) -> None:
    world.account("so-a.lan")
    http = TestClient(world.app())
    form = {"login": "so-a.lan", "password": PASSWORD}
    forged = http.post("/sign-in", data=form, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403 and "planflow_session" not in http.cookies
    own = http.post(
        "/sign-in", data=form, headers={"Origin": "http://testserver"}, follow_redirects=False
    )
    assert own.status_code == 303 and "planflow_session" in http.cookies


def test_another_organisation_s_task_reads_as_missing(world: World) -> None:
    theirs = world.tasks["SO-B"][0]
    lan = signed_in(world, "so-a.lan")
    answer = lan.get(f"/tasks/{theirs}")
    assert answer.status_code == 404 and "Không tìm thấy nhiệm vụ" in answer.text
    assert "Nhiệm vụ cải cách" not in answer.text


def test_a_person_whose_roles_read_no_task_gets_a_page_saying_so(world: World) -> None:
    admin = signed_in(world, "so-a.admin")
    for path in ("/my-work", "/inbox", f"/tasks/{world.tasks['SO-A'][0]}"):
        answer = admin.get(path)
        assert answer.status_code == 403, path
        assert "text/html" in answer.headers["content-type"]
        assert "Vai trò của bạn không xem hay xử lý nhiệm vụ." in answer.text


def test_an_api_session_without_the_page_token_is_asked_to_sign_in(world: World) -> None:
    world.account("so-a.lan")
    http = TestClient(world.app())
    assert http.post(API + "/session", json={"login": "so-a.lan", "password": PASSWORD}).is_success
    page = http.get("/my-work", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/sign-in?next=")
    assert http.get(API + "/me").json()["person"] == "so-a.lan"  # the API's session holds


def test_the_api_and_the_static_files_beside_the_pages(world: World) -> None:
    http = TestClient(world.app())
    missing = http.get(API + "/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    for path, kind in (("/static/app.css", "text/css"), ("/static/htmx.min.js", "javascript")):
        answer = http.get(path)
        assert answer.status_code == 200 and kind in answer.headers["content-type"]
        assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert "/sign-in" not in str(http.get("/api/openapi.json").json()["paths"])
    home = http.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/my-work"


def test_my_work_over_the_limit_shows_the_earliest_due_and_says_how_many(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(task_pages, "MY_WORK_LIMIT", 5)
    start = dt.date(2024, 7, 1)
    many = [
        NewTask(
            organisation="SO-A",
            code=f"M.{n}",
            title=f"Việc số {n}",
            lead_unit="QLDT",
            period="2024Q3",
            due_date=start + dt.timedelta(days=30 - n),  # the last made is due first
        )
        for n in range(1, 13)
    ]
    task_service.create_tasks(world.setup, many)
    lan = signed_in(world, "so-a.lan")
    page = lan.get("/my-work?period=2024Q3").text
    shown = re.findall(r"Việc số (\d+)<", page)
    assert shown == ["12", "11", "10", "9", "8"], shown
    assert "Đang hiện 5 nhiệm vụ có hạn sớm nhất trong 12 nhiệm vụ" in page
    assert re.findall(r'<span class="n">(\d+)</span> Đã giao', page) == ["12"]
    every = lan.get("/my-work").text  # the world's own 3 undated tasks come after the dated
    assert "trong 15 nhiệm vụ" in every and "Việc số 12<" in every
