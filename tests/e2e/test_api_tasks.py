"""Tasks through the API: who sees what (role x endpoint x organisation: another agency's
task is 404 with no data), listing with the CLI's filters and keyset paging, moves with
If-Match (428 without, 409 when stale, 8 clients at once: exactly one wins), and who the
log says acted, through what."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.test_api_support import (
    Bearer,
    Browser,
    World,
    at_once,
    error,
    session_credential,
    worlds,
)


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from worlds(db_url)


PEOPLE = [
    "so-a.lan",
    "so-a.office1",
    "so-a.leader",
    "so-a.auditor",
    "so-a.admin",
    "so-b.office1",
    "snv.auditor",
]


def signed_in(world: World, *people: str) -> dict[str, Browser]:
    app = world.app()
    out = {}
    for person in people:
        world.account(person)
        out[person] = Browser(app).sign_in(person)
    return out


def ids(answer: httpx.Response) -> list[int]:
    assert answer.status_code == 200, answer.text
    return [task["id"] for task in answer.json()["tasks"]]


def test_who_sees_which_tasks_role_by_endpoint_by_organisation(world: World) -> None:
    people = signed_in(world, *PEOPLE)
    a, b = world.tasks["SO-A"], world.tasks["SO-B"]
    # (person, the tasks they list, whether they read tasks at all)
    expected: dict[str, list[int] | None] = {
        "so-a.lan": a,
        "so-a.office1": a,
        "so-a.leader": a,
        "so-a.auditor": a,
        "so-a.admin": None,  # administrators manage accounts; they read no task
        "so-b.office1": b,
        "snv.auditor": a + b,  # Home Affairs oversees every agency
    }
    for person, visible in expected.items():
        browser = people[person]
        if visible is None:
            error(browser.get("/tasks"), 403, "permission_denied")
            error(browser.get(f"/tasks/{a[0]}"), 403, "permission_denied")
            error(browser.get(f"/tasks/{a[0]}/history"), 403, "permission_denied")
            continue
        assert ids(browser.get("/tasks")) == visible, person
        for task in a + b:
            shown = browser.get(f"/tasks/{task}")
            history = browser.get(f"/tasks/{task}/history")
            if task in visible:
                assert shown.status_code == 200 and shown.json()["id"] == task
                assert shown.headers["etag"] == '"1"'
                assert [e["action"] for e in history.json()["entries"]] == ["task.create"]
            else:  # as if it did not exist: the same words as a task that does not
                message = error(shown, 404, "not_found")
                assert message == f"task {task} does not exist"
                assert error(history, 404, "not_found") == message
                assert "Nhiệm vụ" not in shown.text and "SO-B" not in shown.text
    missing = people["so-a.lan"].get("/tasks/999999")
    assert error(missing, 404, "not_found") == "task 999999 does not exist"

    # Asking for another agency's list is refused outright (codes are no secret).
    error(people["so-a.office1"].get("/tasks", params={"org": "SO-B"}), 403, "permission_denied")
    assert ids(people["snv.auditor"].get("/tasks", params={"org": "SO-B"})) == b


def test_moves_are_fenced_by_organisation_and_role(world: World) -> None:
    people = signed_in(world, *PEOPLE, "so-b.lan")
    a, b = world.tasks["SO-A"], world.tasks["SO-B"]
    before = len(world.entries())
    # Another agency's task: 404, as if it did not exist.
    error(people["so-a.lan"].move(b[0], "start", 1), 404, "not_found")
    error(people["so-b.office1"].move(a[0], "start", 1), 404, "not_found")
    # Readable, but not theirs to move: Home Affairs' auditor reads, never acts.
    error(people["snv.auditor"].move(a[0], "start", 1), 403, "permission_denied")
    error(people["so-a.auditor"].move(a[0], "start", 1), 403, "permission_denied")
    error(people["so-a.admin"].move(a[0], "start", 1), 403, "permission_denied")
    # The lifecycle still decides: the office cannot start a task its QLDT unit leads.
    error(people["so-a.office1"].move(a[0], "start", 1), 403, "permission_denied")
    assert len(world.entries()) == before
    assert people["so-a.lan"].move(a[0], "start", 1).status_code == 200
    assert people["so-b.lan"].move(b[0], "start", 1).status_code == 200


def test_a_move_names_the_version_it_was_made_on(world: World) -> None:
    people = signed_in(world, "so-a.lan", "so-a.office1", "so-a.office2", "so-a.leader")
    lan, office, office2 = people["so-a.lan"], people["so-a.office1"], people["so-a.office2"]
    task = world.tasks["SO-A"][0]

    error(lan.move(task, "start", None), 428, "precondition_required")
    bad = lan.post(f"/tasks/{task}/moves/start", headers={"If-Match": "latest"})
    error(bad, 400, "invalid_input")
    error(lan.move(task, "fly", 1), 422, "invalid_request")
    sneaky = lan.move(task, "start", 1, {"actor": "so-a.leader"})  # never from the body
    assert "actor" in error(sneaky, 422, "invalid_request")

    started = lan.move(task, "start", 1)
    assert started.status_code == 200 and started.json()["state"] == "in_progress"
    assert started.headers["etag"] == '"2"'
    stale = lan.move(task, "submit", 1, {"note": "Báo cáo số 12/BC"})
    message = error(stale, 409, "conflict")
    assert "version 1" in message and "version 2" in message
    detail = stale.json()["error"]
    assert detail["version"] == 2 and detail["state"] == "in_progress" and detail["task"] == task
    assert stale.headers["etag"] == '"2"'
    error(lan.move(task, "submit", 2), 400, "invalid_input")  # submit needs its note

    quoted = lan.post(
        f"/tasks/{task}/moves/submit",
        headers={"If-Match": 'W/"2"'},
        json={"note": "Báo cáo số 12/BC-SKHĐT"},
    )
    assert quoted.status_code == 200, quoted.text
    error(office.move(task, "close", 3), 409, "move_not_allowed")
    returned = office.move(task, "return", 3, {"note": "Bổ sung số liệu"})
    assert returned.status_code == 200
    assert lan.move(task, "submit", 4, {"note": "Đã bổ sung"}).status_code == 200
    assert office2.move(task, "verify", 5).status_code == 200
    closed = people["so-a.leader"].move(task, "close", 6)
    assert closed.status_code == 200 and closed.json()["state"] == "closed"

    history = lan.get(f"/tasks/{task}/history").json()["entries"]
    moves = [(e["action"], e["actor"], e["channel"]) for e in history[1:]]
    assert moves == [
        ("start", "so-a.lan", "web"),
        ("submit", "so-a.lan", "web"),
        ("return", "so-a.office1", "web"),
        ("submit", "so-a.lan", "web"),
        ("verify", "so-a.office2", "web"),
        ("close", "so-a.leader", "web"),
    ]
    credentials = {e["actor"]: e["credential"] for e in history[1:]}
    for person, browser in people.items():
        assert credentials[person] == session_credential(browser.session)


def test_eight_clients_move_one_version_and_exactly_one_wins(world: World) -> None:
    app = world.app()
    world.account("so-a.lan")
    world.account("so-a.hung")
    clients = [Browser(app).sign_in("so-a.lan" if i % 2 else "so-a.hung") for i in range(8)]
    task = world.tasks["SO-A"][1]
    before = len(world.entries())

    answers = at_once(8, lambda i: clients[i].move(task, "start", 1))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [409] * 7, [a.text for a in answers]
    for answer in answers:
        assert "Traceback" not in answer.text
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] == "conflict"
            assert answer.json()["error"]["version"] == 2
    winner = next(a for a in answers if a.status_code == 200)
    assert winner.json()["version"] == 2
    entries = world.entries(task_id=task)
    assert [e["action"] for e in entries] == ["task.create", "start"]
    assert len(world.entries()) == before + 1  # nothing of the losers written


def test_listing_filters_and_pages_by_id(world: World) -> None:
    people = signed_in(world, "so-a.lan", "snv.auditor")
    lan, auditor = people["so-a.lan"], people["snv.auditor"]
    a, b = world.tasks["SO-A"], world.tasks["SO-B"]
    assert lan.move(a[1], "start", 1).status_code == 200

    assert ids(lan.get("/tasks", params={"state": "in_progress"})) == [a[1]]
    assert ids(lan.get("/tasks", params={"unit": "VP"})) == []
    overdue = {"overdue": "true", "as_of": "2024-04-01"}
    assert ids(lan.get("/tasks", params=overdue)) == [a[2]]  # due 15/03, not done
    assert ids(auditor.get("/tasks", params=overdue)) == [a[2], b[2]]
    assert ids(lan.get("/tasks", params={"overdue": "true", "as_of": "2024-07-01"})) == a
    error(lan.get("/tasks", params={"state": "lost"}), 422, "invalid_request")
    error(lan.get("/tasks", params={"limit": 0}), 422, "invalid_request")

    seen: list[int] = []
    params: dict[str, Any] = {"limit": 4}
    pages = 0
    while True:
        page = auditor.get("/tasks", params=params).json()
        seen += [task["id"] for task in page["tasks"]]
        pages += 1
        if page["next"] is None:
            break
        params["after"] = page["next"]
    assert seen == sorted(a + b) and pages == 2


def test_a_token_acts_within_its_scope_and_the_log_says_so(world: World) -> None:
    app = world.app()
    world.account("so-a.lan")
    reader = Bearer(app, world.token("so-a.lan", ["tasks:read"]).secret)
    mover_token = world.token("so-a.lan", ["tasks:read", "tasks:move"])
    mover = Bearer(app, mover_token.secret)
    task = world.tasks["SO-A"][2]
    assert ids(reader.get("/tasks")) == world.tasks["SO-A"]
    error(reader.move(task, "start", 1), 403, "permission_denied")
    error(reader.get("/audit"), 403, "permission_denied")
    assert reader.get("/me").json()["permissions"] == ["tasks:read"]
    assert reader.get("/me").json()["channel"] == "api"
    moved = mover.move(task, "start", 1)
    assert moved.status_code == 200
    entry = world.entries(task_id=task)[-1]
    assert (entry["actor"], entry["channel"]) == ("so-a.lan", "api")
    assert entry["credential"] == f"token:{mover_token.id}"
    assert mover_token.secret not in str(world.entries())
