"""The access matrix: every endpoint of the API (read from the app's own routes: an endpoint
without an entry here fails the first test) x who calls it, on SQLite and PostgreSQL.

Who calls (the columns): a person of SO-A holding each role (staff, unit_head, office,
leader, inspector, auditor, admin), each signed in through the API; a person of SO-B (the
other agency) holding the role the endpoint is for; an API token of that role's SO-A person
scoped to the endpoint's permission, and one scoped to everything else that person holds;
and no credential at all. Each entry says the status each column gets (2xx, 401, 403, 404,
and, where the API answers so for every caller alike, 400 for a sign-out with a token).

What is checked besides the status, on every call: an answer to the other agency's person,
granted or not found, carries nothing of SO-A; a read writes nothing to the audit log; a
refused write (401, 403, 404) writes nothing; a write that succeeds is recorded as the act
of who called, through the channel they came by (`web` for a session, `api` for a token).
Objects a write changes (a task to start, a dossier to delay, an inspection task to submit)
are made anew for each call, so that each column is judged on its own.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from tests.e2e.test_api_support import API, BASE, PASSWORD, secret_of
from tests.support.province import (
    ROLES,
    SPARE,
    Province,
    person,
    procedure,
    provinces,
    spare,
)
from workflow.domain.access import ROLE_PERMISSIONS, Permission
from workflow.domain.lifecycle import Move
from workflow.domain.roles import Role
from workflow.security import passwords
from workflow.services import accounts, inspections, reports, tokens
from workflow.services import dossiers as dossier_service
from workflow.services import inspection_records as records
from workflow.services import tasks as task_service
from workflow.web.auth import CSRF_HEADER, SESSION_COOKIE

A, B = "SO-A", "SO-B"
COLUMNS = (*ROLES, "other", "token+", "token-", "anonymous")
NEW_PASSWORD = "sông-Hàn-cầu-Rồng-phun-lửa-2024"
NON_API = {"/api/openapi.json", "/api/docs", "/api/docs/init.js"}
# The web pages (tests/e2e/test_web_pages.py and tests/e2e/browser/ test what each does): the
# few anyone may open, and those that send a person without a session to sign in first.
PUBLIC_PAGES = {"/sign-in", "/signup", "/static"}
SIGNED_IN_PAGES = {"/my-work", "/inbox", "/password", "/second-factor", "/tasks/{task_id}"}
SIGNED_IN_PAGES |= {"/desk", "/desk/letters/{letter_id}"}  # the one-stop desk
SIGNED_IN_PAGES |= {"/reports", "/reports/compare", "/reports/{report_id}"}
SIGNED_IN_PAGES |= {"/reports/{report_id}/download"}
SIGNED_IN_PAGES |= {"/audit", "/audit/export", "/audit/chain"}  # the auditor's search
HOME = "/"  # leads to /my-work
POSTED_PAGES = {"/sign-out", "/tasks/{task_id}/move"}  # forms' targets (CSRF-checked)
POSTED_PAGES |= {"/audit/chain"}
POSTED_PAGES |= {"/desk/preview", "/desk/receive", "/desk/import", "/reports/generate"}
POSTED_PAGES |= {"/desk/dossiers/{dossier_id}/delay"}
SIGNED_IN_PAGES |= {"/inspections", "/inspections/draw", "/inspections/{inspection_id}"}
SIGNED_IN_PAGES |= {"/inspections/tasks/{task_id}/record"}
SIGNED_IN_PAGES |= {"/inspections/tasks/{task_id}/notice/{ext}"}
POSTED_PAGES |= {"/inspections/draw", "/inspections/{inspection_id}/redraw"}
POSTED_PAGES |= {"/inspections/tasks/{task_id}/record"}
SIGNED_IN_PAGES |= {"/admin", "/admin/tokens", "/admin/organisation", "/admin/validate"}
POSTED_PAGES |= {"/admin/accounts/{person_id}/{action}", "/admin/tokens", "/admin/validate"}
POSTED_PAGES |= {"/admin/tokens/{token_id}/revoke"}
READERS = ("staff", "unit_head", "office", "leader", "inspector", "auditor")  # not admin
AUDITORS = ("office", "leader", "auditor", "admin")  # audit:read
Status = int | tuple[int, ...]


@dataclass
class Caller:
    """One column's credential: a session (cookie and CSRF token), a token, or nothing."""

    column: str
    person: str | None
    role: str = "staff"  # the role the person holds (of their agency)
    session: str | None = None
    csrf: str | None = None
    token: str | None = None

    @property
    def org(self) -> str | None:
        return None if self.person is None else self.person.split(".", 1)[0].upper()

    @property
    def channel(self) -> str | None:
        return "web" if self.session else "api" if self.token else None


@dataclass
class Call:
    method: str
    path: str  # under /api/v1
    params: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # A credential of its own for this call (a fresh session, to end it), in place of the
    # column's.
    instead: Caller | None = None
    # What the body of a 2xx answer must say (e.g. the organisation a receipt went to).
    answer: Callable[[httpx.Response], None] | None = None


@dataclass
class World:
    """The province with what the entries read: an SO-A task, dossier, draw, inspection task
    and report, and the clients and credentials of every column."""

    province: Province
    app: FastAPI
    http: TestClient
    task: int
    dossier: int
    inspection: int
    inspection_task: int
    report: int
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)  # person: (id, csrf)
    tokens: dict[tuple[str, frozenset[str]], str] = field(default_factory=dict)
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    # Spare people to sign up; the last is the invitation entry's, invited again each call.
    spares: Iterator[int] = field(default_factory=lambda: iter(range(1, SPARE)))
    periods: Iterator[str] = field(
        default_factory=lambda: iter(f"{y}Q{q}" for y in (2021, 2022, 2023) for q in (1, 2, 3, 4))
    )

    def sign_in(self, who: str) -> tuple[str, str]:
        """A new session of `who`, through the API: (its id, its CSRF token)."""
        self.province.account(who)
        self.http.cookies.clear()
        answer = self.http.post(API + "/session", json={"login": who, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        session = answer.cookies.get(SESSION_COOKIE)
        assert session
        self.http.cookies.clear()
        return session, str(answer.json()["csrf_token"])

    def session_of(self, who: str) -> tuple[str, str]:
        if who not in self.sessions:
            self.sessions[who] = self.sign_in(who)
        return self.sessions[who]

    def token_of(self, who: str, scope: frozenset[str]) -> str:
        key = (who, scope)
        if key not in self.tokens:
            self.province.account(who)
            issued = tokens.create(self.province.setup, who, sorted(scope), 30, "matrix")
            self.tokens[key] = issued.secret
        return self.tokens[key]

    def fresh_task(self) -> int:
        """A plan task of SO-A led by QLDT, assigned (version 1)."""
        n = next(self.counter)
        [made] = task_service.create_tasks(
            self.province.setup,
            [
                task_service.NewTask(
                    A,
                    f"M.{n}",
                    f"Nhiệm vụ ma trận số {n}",
                    "QLDT",
                    kind="plan",
                    period="2024Q2",
                    due_date=dt.date(2024, 6, 28),
                )
            ],
        )
        return made

    def fresh_dossier(self) -> int:
        """A dossier of SO-A handled by QLDT, received by its staff (due on 06/06)."""
        view = dossier_service.receive(
            self.province.setup,
            dossier_service.NewDossier(
                procedure(A, "DN"),
                dossier_service.Applicant("Công ty TNHH Ma Trận SO-A"),
                self.province.clock.now(),
            ),
            person(A, "staff"),
        )
        return int(view["id"])

    def fresh_inspection_task(self) -> tuple[int, list[int]]:
        """An inspection task of SO-A (a draw of a past quarter), started by its inspector:
        in progress at version 2; and its checklist."""
        drawn = inspections.draw(
            self.province.setup, A, next(self.periods), person(A, "inspector"), seed=7
        )
        [task] = drawn.tasks.values()
        task_service.move(self.province.setup, task, Move.START, person(A, "inspector"))
        return task, records.checklist_of(self.province.setup, task)


Make = Callable[[World, Caller], Call]


@dataclass
class Entry:
    method: str
    path: str  # as the app declares it, under /api/v1
    make: Make
    expect: dict[str, Status]
    role: str | None = None  # whose SO-A token and whose SO-B person: the endpoint's role
    # What token+ carries and token- lacks; None: the endpoint asks for no permission, and
    # token+ carries tasks:read, token- reports:read.
    permission: Permission | None = None
    public: bool = False  # answers without a credential (signing in and up, health)
    logged: bool = True  # a success writes an audit entry (starting a second factor does
    # not: it is recorded when confirmed)


def expect(
    allowed: tuple[str, ...],
    *,
    ok: Status = 200,
    other: Status = 404,
    token_plus: Status | None = None,
    token_minus: Status = 403,
    **overrides: Status,
) -> dict[str, Status]:
    """Each column's status: `ok` for the roles allowed, 403 for the others, `other` for
    the other agency's person, `ok` (else `token_plus`) and 403 for the tokens, 401 for no
    credential; `overrides` by column."""
    out: dict[str, Status] = {role: ok if role in allowed else 403 for role in ROLES}
    out |= {
        "other": other,
        "token+": ok if token_plus is None else token_plus,
        "token-": token_minus,
        "anonymous": 401,
    }
    out |= overrides
    return out


def every(status: Status, *, anonymous: Status = 401, **overrides: Status) -> dict[str, Status]:
    out: dict[str, Status] = dict.fromkeys(COLUMNS, status)
    out["anonymous"] = anonymous
    return out | overrides


def sessions_only(ok: Status) -> dict[str, Status]:
    """What a person does to their own account: signed in, never with a token."""
    return every(ok, **{"token+": 403, "token-": 403})


def get(path: str, **params: Any) -> Make:
    return lambda w, c: Call("GET", path.format(w=w), params=params or None)


def own_permission(role: str) -> str:
    """A permission the role gives (the first by name): what a person's new token asks."""
    return sorted(p.value for p in ROLE_PERMISSIONS[Role(role)])[0]


# ----------------------------------------------------------------------------- the calls


def sign_in_call(w: World, c: Caller) -> Call:
    who = c.person or person(A, "staff")
    w.province.account(who)
    return Call("POST", "/session", json={"login": who, "password": PASSWORD})


def sign_up_call(w: World, c: Caller) -> Call:
    who = spare(A, next(w.spares))  # invited now, signed up by this call
    link = accounts.invite(w.province.setup, who, BASE).link
    w.province.passwords[who] = PASSWORD
    return Call("POST", "/signup", json={"token": secret_of(link), "password": PASSWORD})


def sign_out_call(w: World, c: Caller) -> Call:
    if c.session is None or c.person is None:
        return Call("DELETE", "/session")
    session, csrf = w.sign_in(c.person)  # a session of its own, which the call ends
    return Call("DELETE", "/session", instead=Caller(c.column, c.person, c.role, session, csrf))


def confirm_call(w: World, c: Caller) -> Call:
    code = "123456"
    if c.session is not None:
        started = w.http.post(
            API + "/me/second-factor",
            headers={"Cookie": f"{SESSION_COOKIE}={c.session}", CSRF_HEADER: c.csrf or ""},
        )
        assert started.status_code == 200, started.text
        w.http.cookies.clear()
        code = pyotp.TOTP(started.json()["secret"]).at(w.province.clock.now())
    return Call("POST", "/me/second-factor/confirm", json={"code": code})


def move_call(w: World, c: Caller) -> Call:
    return Call("POST", f"/tasks/{w.fresh_task()}/moves/start", headers={"If-Match": "1"})


def invite_call(w: World, c: Caller) -> Call:
    return Call("POST", f"/accounts/{spare(A, SPARE)}/invite")  # invited again each time


def reset_call(w: World, c: Caller) -> Call:
    target = person(A, "mai")
    w.province.account(target)
    return Call("POST", f"/accounts/{target}/reset")


def disable_call(w: World, c: Caller) -> Call:
    target = person(A, "mai")
    w.province.account(target)
    _ensure(w, target, enabled=True)
    return Call("POST", f"/accounts/{target}/disable", json={"reason": "nghỉ việc"})


def enable_call(w: World, c: Caller) -> Call:
    target = person(A, "mai")
    w.province.account(target)
    _ensure(w, target, enabled=False)
    return Call("POST", f"/accounts/{target}/enable")


def _ensure(w: World, who: str, *, enabled: bool) -> None:
    listed = {a["person"]: a for a in accounts.list_accounts(w.province.setup, A)}
    if (listed[who]["state"] != "disabled") != enabled:
        if enabled:
            accounts.enable(w.province.setup, who)
        else:
            accounts.disable(w.province.setup, who, "chuẩn bị kiểm thử")


def token_call(w: World, c: Caller) -> Call:
    asked = "tasks:read" if c.token is not None else own_permission(c.role)
    return Call("POST", "/tokens", json={"permissions": [asked], "label": "hệ thống một cửa"})


def revoke_call(w: World, c: Caller) -> Call:
    lan = person(A, "staff")
    issued = tokens.create(w.province.setup, lan, ["tasks:read"], 30, "để thu hồi")
    return Call("DELETE", f"/tokens/{issued.id}")


def receive_call(w: World, c: Caller) -> Call:
    org = c.org if c.column == "other" else A

    def lands_in_own(answer: httpx.Response) -> None:
        assert answer.json()["organisation"] == org

    return Call(
        "POST",
        "/dossiers",
        json={"procedure": procedure(org, "DN"), "applicant": "Công ty TNHH Sen Vàng"},
        answer=lands_in_own,
    )


def import_call(w: World, c: Caller) -> Call:
    org = c.org if c.column == "other" else A
    text = f"procedure,applicant,received_at\n{procedure(org, 'DT')},Hộ kinh doanh Lúa Mới,2024-06-03 08:30\n"

    def lands_in_own(answer: httpx.Response) -> None:
        assert [d["organisation"] for d in answer.json()["dossiers"]] == [org]

    return Call(
        "POST",
        "/dossiers/import",
        content=text.encode(),
        headers={"Content-Type": "text/csv"},
        answer=lands_in_own,
    )


def delay_call(w: World, c: Caller) -> Call:
    return Call(
        "POST",
        f"/dossiers/{w.fresh_dossier()}/delay",
        json={"reason": "Cần xác minh thực địa", "days": 3},
    )


def draw_call(w: World, c: Caller) -> Call:
    return Call("POST", "/inspections", json={"organisation": A, "period": "2024Q2"})


def record_call(w: World, c: Caller) -> Call:
    task, checklist = w.fresh_inspection_task()
    record = {
        "inspected_on": "2024-06-03",
        "findings": [{"task": t, "compliant": True, "note": "Đạt"} for t in checklist],
    }
    return Call("POST", f"/inspections/tasks/{task}/record", json=record, headers={"If-Match": "2"})


def generate_call(w: World, c: Caller) -> Call:
    return Call("POST", "/reports", json={"organisation": A, "period": "2024Q2"})


# ----------------------------------------------------------------------------- the matrix

ENTRIES: list[Entry] = [
    Entry("GET", "/health", get("/health"), every(200, anonymous=200), public=True),
    # Tasks
    Entry("GET", "/tasks", get("/tasks"), expect(READERS, other=200), "staff", Permission.TASKS_READ),
    Entry("GET", "/tasks/{task_id}", get("/tasks/{w.task}"), expect(READERS), "staff", Permission.TASKS_READ),
    Entry("GET", "/tasks/{task_id}/history", get("/tasks/{w.task}/history"), expect(READERS), "staff", Permission.TASKS_READ),
    # Only a member of the lead unit (QLDT: its staff and unit head) starts a task.
    Entry("POST", "/tasks/{task_id}/moves/{move}", move_call, expect(("staff", "unit_head")), "staff", Permission.TASKS_MOVE),
    # The audit log
    Entry("GET", "/audit", get("/audit"), expect(AUDITORS, other=200), "office", Permission.AUDIT_READ),
    Entry("GET", "/audit/export", get("/audit/export"), expect(AUDITORS, other=200), "office", Permission.AUDIT_READ),
    # The whole chain: for administrators (any agency's) and whoever oversees every agency.
    Entry("GET", "/audit/verify", get("/audit/verify"), expect(("admin",), other=200), "admin", Permission.AUDIT_READ),
    Entry("GET", "/audit/anchor", get("/audit/anchor"), expect(("admin",), other=200), "admin", Permission.AUDIT_READ),
    # Accounts: an administrator of the person's own agency.
    Entry("GET", "/accounts", get("/accounts"), expect(("admin",), other=200), "admin", Permission.ACCOUNTS_ADMIN),
    Entry("POST", "/accounts/{person}/invite", invite_call, expect(("admin",), ok=201, other=403), "admin", Permission.ACCOUNTS_ADMIN),
    Entry("POST", "/accounts/{person}/reset", reset_call, expect(("admin",), ok=201, other=403), "admin", Permission.ACCOUNTS_ADMIN),
    Entry("POST", "/accounts/{person}/disable", disable_call, expect(("admin",), other=403), "admin", Permission.ACCOUNTS_ADMIN),
    Entry("POST", "/accounts/{person}/enable", enable_call, expect(("admin",), other=403), "admin", Permission.ACCOUNTS_ADMIN),
    Entry("POST", "/accounts/{person}/revoke-sessions", lambda w, c: Call("POST", f"/accounts/{person(A, 'mai')}/revoke-sessions", json={"reason": "máy bị mất"}), expect(("admin",), other=403), "admin", Permission.ACCOUNTS_ADMIN),
    # Tokens: a person's own (never wider than the credential making it); an administrator's
    # for their agency's people.
    Entry("POST", "/tokens", token_call, every(201, **{"token-": 403}), "staff"),
    Entry("GET", "/tokens", get("/tokens"), every(200), "staff"),
    # Revoking the staff member's token: theirs, or their agency's administrator's.
    Entry("DELETE", "/tokens/{token_id}", revoke_call, expect(("admin", "staff"), ok=204, other=403), "admin", Permission.ACCOUNTS_ADMIN),
    # Dossiers: the one-stop desk (staff, unit heads, the office) receives for its agency;
    # another agency's person receives for theirs.
    Entry("POST", "/dossiers", receive_call, expect(("staff", "unit_head", "office"), ok=201, other=201), "staff", Permission.DOSSIERS_WRITE),
    Entry("POST", "/dossiers/import", import_call, expect(("staff", "unit_head", "office"), ok=201, other=201), "staff", Permission.DOSSIERS_WRITE),
    # A delay is the handling unit's (QLDT) alone.
    Entry("POST", "/dossiers/{dossier_id}/delay", delay_call, expect(("staff", "unit_head")), "staff", Permission.DOSSIERS_WRITE),
    Entry("GET", "/dossiers", get("/dossiers"), expect(READERS, other=200), "staff", Permission.DOSSIERS_READ),
    Entry("GET", "/dossiers/{dossier_id}", get("/dossiers/{w.dossier}"), expect(READERS), "staff", Permission.DOSSIERS_READ),
    # Inspections: an inspector draws and records for their own agency.
    Entry("POST", "/inspections", draw_call, expect(("inspector",), ok=(200, 201), other=403), "inspector", Permission.INSPECTIONS_WRITE),
    Entry("GET", "/inspections", get("/inspections"), expect(READERS, other=200), "inspector", Permission.INSPECTIONS_READ),
    Entry("GET", "/inspections/{inspection_id}", get("/inspections/{w.inspection}"), expect(READERS), "inspector", Permission.INSPECTIONS_READ),
    Entry("GET", "/inspections/{inspection_id}/explain", get("/inspections/{w.inspection}/explain"), expect(READERS), "inspector", Permission.INSPECTIONS_READ),
    Entry("GET", "/inspections/tasks/{task_id}/record/template", get("/inspections/tasks/{w.inspection_task}/record/template"), expect(READERS), "inspector", Permission.INSPECTIONS_READ),
    Entry("POST", "/inspections/tasks/{task_id}/record", record_call, expect(("inspector",)), "inspector", Permission.INSPECTIONS_WRITE),
    # Reports: the office and the leadership make them for their own agency.
    Entry("POST", "/reports", generate_call, expect(("office", "leader"), ok=(200, 201), other=403), "office", Permission.REPORTS_WRITE),
    Entry("GET", "/reports", get("/reports"), expect(READERS, other=200), "office", Permission.REPORTS_READ),
    Entry("GET", "/reports/{report_id}", get("/reports/{w.report}"), expect(READERS), "office", Permission.REPORTS_READ),
    Entry("GET", "/reports/{report_id}/download", get("/reports/{w.report}/download", format="html"), expect(READERS), "office", Permission.REPORTS_READ),
    # The province roll-up: for whoever reads every agency (SNV's people); nobody of SO-A.
    Entry("GET", "/reports/province", get("/reports/province", period="2024Q2"), every(403), "office", Permission.REPORTS_READ),
    # The calendar of an agency (asked by name: another agency's is refused), procedures.
    Entry("GET", "/calendar/due", get("/calendar/due", **{"from": "2024-06-03", "days": 3, "org": A}), expect(READERS, other=403), "staff", Permission.TASKS_READ),
    Entry("GET", "/procedures", get("/procedures"), expect(READERS, other=200), "staff", Permission.TASKS_READ),
    # Who is signed in; signing in and up (no credential needed); then what ends sessions
    # or changes how a person signs in, last.
    Entry("GET", "/me", get("/me"), every(200), "staff"),
    Entry("POST", "/session", sign_in_call, every(200, anonymous=200), "staff", public=True),
    Entry("POST", "/signup", sign_up_call, every(200, anonymous=200), "staff", public=True),
    Entry("DELETE", "/session", sign_out_call, every(204, **{"token+": 400, "token-": 400}), "staff"),
    Entry("POST", "/me/second-factor", lambda w, c: Call("POST", "/me/second-factor"), sessions_only(200), "staff", logged=False),
    Entry("POST", "/me/second-factor/confirm", confirm_call, sessions_only(200), "staff"),
    Entry("POST", "/me/password", lambda w, c: Call("POST", "/me/password", json={"current": PASSWORD, "new": NEW_PASSWORD}), sessions_only(200), "staff"),
]  # fmt: skip


def routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers under /api/v1 (its routers included)."""
    found = set()
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if isinstance(route.original_route, APIRoute) and path.startswith(API + "/"):
            found |= {(method, path[len(API) :]) for method in route.methods or ()}
    return found


# ----------------------------------------------------------------------------- the tests


@pytest.fixture
def province(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Province]:
    # Argon2id still, at a lower cost: the matrix signs people in and up some seventy times,
    # and what it judges is who may do what (the production parameters and the policy are
    # tests/unit/test_security.py's).
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8192))
    yield from provinces(db_url, tmp_path)


def test_every_endpoint_has_an_entry_in_the_matrix(province: Province) -> None:
    app = province.app()
    declared = {(e.method, e.path) for e in ENTRIES}
    assert len(declared) == len(ENTRIES), "an endpoint is in the matrix twice"
    served = routes(app)
    assert served - declared == set(), "endpoints without a matrix entry"
    assert declared - served == set(), "matrix entries for endpoints the app does not serve"
    others = {r.path for r in iter_route_contexts(app.routes)} - {API + p for _m, p in served}
    assert others == NON_API | PUBLIC_PAGES | SIGNED_IN_PAGES | POSTED_PAGES | {HOME}, others
    anonymous = TestClient(app, follow_redirects=False)
    for path in NON_API:  # the documents of the API itself, public
        assert anonymous.get(path).status_code == 200, path
    assert anonymous.get(HOME).headers["location"] == "/my-work"
    for path in SIGNED_IN_PAGES:  # nothing of a page without a session: sign in first
        shown = anonymous.get(path.replace("{task_id}", "1"))
        assert shown.status_code == 303, path
        assert shown.headers["location"].startswith("/sign-in"), path
    for path in POSTED_PAGES:  # a post without a session changes nothing and shows nothing
        posted = anonymous.post(path.replace("{task_id}", "1"), data={"csrf": "x"})
        assert posted.status_code in (303, 403), (path, posted.status_code)


def test_the_matrix_role_by_endpoint_by_organisation(province: Province) -> None:
    world = _world(province)
    failures: list[str] = []
    for entry in ENTRIES:
        for column in COLUMNS:
            caller = _caller(world, entry, column)
            failure = _judge(world, entry, caller)
            if failure:
                failures.append(failure)
    assert not failures, "\n".join(failures)


def _world(province: Province) -> World:
    setup = province.setup
    app = province.app()
    http = TestClient(app, base_url=BASE)
    drawn = inspections.draw(setup, A, "2024Q1", person(A, "inspector"), seed=11)
    dossier = dossier_service.receive(
        setup,
        dossier_service.NewDossier(
            procedure(A, "DN"), dossier_service.Applicant("Công ty TNHH Hoa Sen"), setup.clock.now()
        ),
        person(A, "staff"),
    )
    report = reports.generate(setup, reports.Request(A, "2024Q1", requested_by=person(A, "office")))
    return World(
        province,
        app,
        http,
        task=province.tasks[A][0],
        dossier=int(dossier["id"]),
        inspection=drawn.inspection,
        inspection_task=next(iter(drawn.tasks.values())),
        report=int(report.report["snapshot"]),
    )


def _caller(w: World, entry: Entry, column: str) -> Caller:
    role = entry.role or "staff"
    if column == "anonymous":
        return Caller(column, None)
    if column in ROLES or column == "other":
        held = role if column == "other" else column
        who = person(B if column == "other" else A, held)
        session, csrf = w.session_of(who)
        return Caller(column, who, held, session, csrf)
    who = person(A, role)
    if entry.permission is None:  # any credential will do: a token of anything
        scope = frozenset({"tasks:read" if column == "token+" else "reports:read"})
    else:
        held = {p.value for p in ROLE_PERMISSIONS[Role(role)]}
        assert entry.permission.value in held, (entry.path, role)
        scope = (
            frozenset({entry.permission.value})
            if column == "token+"
            else frozenset(held - {entry.permission.value})
        )
    return Caller(column, who, role, token=w.token_of(who, scope))


def _judge(w: World, entry: Entry, caller: Caller) -> str | None:
    """None when the call is answered as the matrix says; else what went wrong."""
    call = entry.make(w, caller)
    used = call.instead or caller
    headers = dict(call.headers)
    if used.session:
        headers["Cookie"] = f"{SESSION_COOKIE}={used.session}"
        if call.method != "GET":
            headers[CSRF_HEADER] = used.csrf or ""
    if used.token:
        headers["Authorization"] = f"Bearer {used.token}"
    head = w.province.head()
    w.http.cookies.clear()
    answer = w.http.request(
        call.method,
        API + call.path,
        params=call.params,
        json=call.json,
        content=call.content,
        headers=headers,
    )
    w.http.cookies.clear()
    where = f"{entry.method} {entry.path} as {caller.column} ({caller.person})"
    wanted = entry.expect[caller.column]
    statuses = wanted if isinstance(wanted, tuple) else (wanted,)
    if answer.status_code not in statuses:
        return f"{where}: {answer.status_code}, expected {wanted}: {answer.text[:300]}"
    if "Traceback" in answer.text or answer.status_code >= 500:
        return f"{where}: {answer.text[:300]}"
    if answer.status_code >= 400:
        body = answer.json()
        if set(body) != {"error"} or not body["error"].get("code"):
            return f"{where}: not an error in the API's shape: {answer.text[:300]}"
    seen = answer.is_success or answer.status_code == 404  # a 403 names what was asked
    if caller.column == "other" and seen and not entry.public and "so-a" in answer.text.lower():
        return f"{where}: the other agency's person sees SO-A's data: {answer.text[:300]}"
    written = w.province.entries(after_seq=head) if w.province.head() != head else []
    if call.method == "GET" and written:
        return f"{where}: a read wrote {[e['action'] for e in written]}"
    if answer.status_code in (401, 403, 404) and written:
        return f"{where}: refused, yet wrote {[e['action'] for e in written]}"
    # An answer of 200 where a new one would be 201 is the stored draw or report, as asked
    # again: nothing to write.
    stored = isinstance(wanted, tuple) and answer.status_code == 200
    if answer.is_success and call.method != "GET" and not entry.public and entry.logged:
        if not written and not stored:
            return f"{where}: succeeded and wrote nothing to the log"
        actors = {(e["actor"], e["channel"]) for e in written}
        if written and actors != {(used.person, used.channel)}:
            return f"{where}: recorded as {actors}, not ({used.person}, {used.channel})"
    if answer.is_success and call.answer is not None:
        try:
            call.answer(answer)
        except AssertionError:
            return f"{where}: unexpected answer {answer.text[:300]}"
    return None
