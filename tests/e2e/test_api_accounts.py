"""Accounts and API tokens through the API: administrators of an organisation only, tokens
scoped and expiring, and a production database from its first administrator to a move made
through the web, every entry the act of who signed in."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import START
from tests.e2e.test_api_support import (
    API,
    BASE,
    PASSWORD,
    Bearer,
    Browser,
    World,
    build_world,
    error,
    secret_of,
    travelling,
    worlds,
)
from workflow.clock import FixedClock, SystemClock
from workflow.context import Context
from workflow.services import accounts, database


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from worlds(db_url)


def test_only_an_administrator_of_the_persons_organisation_administers(world: World) -> None:
    for person in ("so-a.admin", "so-b.admin", "so-a.office1", "snv.auditor"):
        world.account(person)
    app = world.app()
    admin_a, admin_b = Browser(app).sign_in("so-a.admin"), Browser(app).sign_in("so-b.admin")
    office = Browser(app).sign_in("so-a.office1")
    province = Browser(app).sign_in("snv.auditor")
    before = len(world.entries())
    for outsider in (admin_b, office, province):
        for path, body in (
            ("/accounts/so-a.lan/invite", None),
            ("/accounts/so-a.office1/reset", None),
            ("/accounts/so-a.office1/disable", {"reason": "thử"}),
            ("/accounts/so-a.office1/revoke-sessions", {"reason": "thử"}),
            ("/accounts/so-a.office1/enable", None),
        ):
            answer = outsider.post(path, json=body)
            error(answer, 403, "permission_denied")
            assert "signup" not in answer.text
    error(office.get("/accounts"), 403, "permission_denied")
    assert len(world.entries()) == before  # nothing of theirs written

    listed = admin_a.get("/accounts").json()["accounts"]
    states = {row["person"]: row for row in listed}
    assert set(states) == {p for p in states if p.startswith("so-a.")} and "so-a.lan" in states
    assert "password_hash" not in str(listed) and "totp_secret" not in str(listed)
    error(admin_a.get("/accounts", params={"org": "SO-B"}), 403, "permission_denied")

    invited = admin_a.post("/accounts/so-a.lan/invite")
    assert invited.status_code == 201
    assert invited.json()["person"] == "so-a.lan"
    error(admin_a.post("/accounts/so-z.nobody/invite"), 404, "not_found")
    error(
        admin_a.post("/accounts/so-a.office1/disable", json={"reason": ""}), 422, "invalid_request"
    )
    reset = admin_a.post("/accounts/so-a.office1/reset")
    assert reset.status_code == 201
    TestClient(app).post(
        API + "/signup",
        json={"token": secret_of(reset.json()["link"]), "password": "mới-" + PASSWORD},
    )
    assert Browser(app).sign_in("so-a.office1", "mới-" + PASSWORD).get("/me").status_code == 200
    entry = world.entries(action="account.invite")[-1]
    assert entry["actor"] == "so-a.admin" and entry["channel"] == "web"
    link_secret = secret_of(invited.json()["link"])
    assert link_secret not in str(world.entries())


def test_tokens_are_made_listed_and_revoked_within_their_limits(world: World) -> None:
    for person in ("so-a.admin", "so-a.office1", "so-a.lan"):
        world.account(person)
    app = world.app()
    admin = Browser(app).sign_in("so-a.admin")
    made = admin.post(
        "/tokens",
        json={
            "person": "so-a.office1",
            "permissions": ["tasks:read", "audit:read"],
            "days": 30,
            "label": "công cụ báo cáo",
        },
    )
    assert made.status_code == 201, made.text
    token = made.json()
    assert token["secret"].startswith(f"pft_{token['id']}_")
    assert token["organisation"] == "SO-A" and token["permissions"] == ["audit:read", "tasks:read"]
    tool = Bearer(app, token["secret"])
    assert tool.get("/me").json()["person"] == "so-a.office1"
    assert tool.get("/audit").status_code == 200
    error(tool.move(world.tasks["SO-A"][0], "start", 1), 403, "permission_denied")

    listed = admin.get("/tokens").json()["tokens"]
    assert [t["id"] for t in listed] == [token["id"]] and listed[0]["state"] == "active"
    assert token["secret"] not in str(listed)
    assert hashlib.sha256(token["secret"].encode()).hexdigest() not in str(listed)

    # A token gives only what its person's roles give; staff hold no audit:read.
    beyond = admin.post(
        "/tokens",
        json={"person": "so-a.lan", "permissions": ["audit:read"], "days": 5, "label": "x"},
    )
    error(beyond, 403, "permission_denied")
    unknown = admin.post(
        "/tokens",
        json={"permissions": ["tasks:fly"], "days": 5, "label": "x", "person": "so-a.lan"},
    )
    error(unknown, 400, "invalid_input")
    error(
        admin.post("/tokens", json={"permissions": ["tasks:read"], "days": 400, "label": "x"}),
        422,
        "invalid_request",
    )
    # A person makes their own; another's is not theirs to make, nor to revoke.
    lan = Browser(app).sign_in("so-a.lan")
    own = lan.post("/tokens", json={"permissions": ["tasks:read"], "days": 1, "label": "của tôi"})
    assert own.status_code == 201 and own.json()["person"] == "so-a.lan"
    error(
        lan.post(
            "/tokens",
            json={"person": "so-a.office1", "permissions": ["tasks:read"], "label": "x"},
        ),
        403,
        "permission_denied",
    )
    error(lan.delete(f"/tokens/{token['id']}"), 403, "permission_denied")
    assert [t["id"] for t in lan.get("/tokens").json()["tokens"]] == [own.json()["id"]]

    assert admin.delete(f"/tokens/{token['id']}").status_code == 204
    error(tool.get("/me"), 401, "not_authenticated")
    error(admin.delete(f"/tokens/{token['id']}"), 400, "invalid_input")
    error(admin.delete("/tokens/99999"), 404, "not_found")
    actions = [e["action"] for e in world.entries(actor="so-a.admin")]
    assert actions.count("token.create") == 1 and actions.count("token.revoke") == 1


def test_a_token_expires(db_url: str) -> None:
    world = travelling(db_url)
    try:
        clock = world.setup.clock
        assert isinstance(clock, FixedClock)
        world.account("so-a.lan")
        token = world.token("so-a.lan", ["tasks:read"], days=1)
        tool = Bearer(world.app(), token.secret)
        clock.advance(dt.timedelta(hours=23, minutes=59))
        assert tool.get("/tasks").status_code == 200
        clock.advance(dt.timedelta(minutes=2))
        assert "expired" in error(tool.get("/tasks"), 401, "not_authenticated")
    finally:
        world.close()


def test_a_production_database_from_its_first_administrator_to_a_move(db_url: str) -> None:
    world = build_world(db_url)
    try:
        host = Context(world.setup.engine, clock=SystemClock(), operator="operator:root")
        assert database.initialise(host, simulation=False, os_user="root") == "production"
        invitation, admin_token = accounts.bootstrap_admin(host, "so-a.admin", "root", BASE)
        app = world.app()
        http = TestClient(app)
        assert http.get(API + "/health").json()["database"] == "production"

        # The first administrator signs up with the link, then invites through the API.
        signed_up = http.post(
            API + "/signup", json={"token": secret_of(invitation.link), "password": PASSWORD}
        )
        assert signed_up.status_code == 200
        admin = Browser(app).sign_in("so-a.admin")
        by_token = Bearer(app, admin_token.secret)
        for person in ("so-a.lan", "so-a.office1"):
            invited = by_token.post(f"/accounts/{person}/invite")
            assert invited.status_code == 201, invited.text
            done = http.post(
                API + "/signup",
                json={"token": secret_of(invited.json()["link"]), "password": PASSWORD},
            )
            assert done.status_code == 200
        lan = Browser(app).sign_in("so-a.lan")
        task = world.tasks["SO-A"][0]
        assert lan.move(task, "start", 1).status_code == 200
        error(admin.move(task, "submit", 2, {"note": "x"}), 403, "permission_denied")
        # Nobody signed in writes nothing.
        error(http.post(API + f"/tasks/{task}/moves/submit"), 401, "not_authenticated")

        entries = world.entries()
        head = [e for e in entries if e["action"] in ("start", "account.invite")]
        assert [(e["actor"], e["channel"]) for e in head] == [
            ("operator:root", "cli"),
            ("so-a.admin", "api"),
            ("so-a.admin", "api"),
            ("so-a.lan", "web"),
        ]
        assert head[1]["credential"] == f"token:{admin_token.id}"
        start = head[-1]
        assert start["credential"] == "session:" + hashlib.sha256(lan.session.encode()).hexdigest()
        # A production database's entries are dated by the system's clock: after the set-up.
        assert start["at"] > START.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    finally:
        world.close()
