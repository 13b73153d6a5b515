"""What the API tests share (this module holds no test): a small province on a real
database (SQLite and PostgreSQL through `db_url`), people with accounts, and clients.

Two agencies, SO-A and SO-B (each: staff, a unit head, two office members, a leader, an
auditor, an administrator), and the Department of Home Affairs, SNV, whose file oversees
`all` (its auditor reads every agency). Each agency has tasks, led by its QLDT unit.

Accounts are made as an administrator would (an invitation, then the sign-up with its
secret); everything a test checks goes through HTTP.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import START
from workflow.clock import Clock, FixedClock, SystemClock
from workflow.context import Context
from workflow.definitions.models import OrganisationSpec
from workflow.domain.filters import AuditFilter
from workflow.services import accounts, tokens
from workflow.services import organisations as org_service
from workflow.services.tasks import NewTask, create_tasks
from workflow.store.engine import open_engine
from workflow.web.app import create_app
from workflow.web.settings import Settings

PASSWORD = "ngựa-vằn-bảy-đồi-xanh-2024"
BASE = "http://testserver"
API = "/api/v1"
SESSION_COOKIE = "planflow_session"
SECURITY_HEADERS = {
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
}


def agency(
    code: str,
    *,
    oversees: list[str] | str | None = None,
    second_factor: list[str] | None = None,
) -> OrganisationSpec:
    p = code.lower()
    people = [
        ("lan", "Trần Thị Lan", "QLDT", ["staff"]),
        ("hung", "Lê Văn Hùng", "QLDT", ["unit_head"]),
        ("office1", "Nguyễn Văn An", "VP", ["office", "staff"]),
        ("office2", "Hoàng Thị Bình", "VP", ["office"]),
        ("leader", "Võ Văn Cường", "BGD", ["leader"]),
        ("auditor", "Đặng Thị Dung", "VP", ["auditor"]),
        ("admin", "Phan Văn Quản", "VP", ["admin"]),
    ]
    return OrganisationSpec.model_validate(
        {
            "kind": "organisation",
            "code": code,
            "name": f"Sở Thử nghiệm {code}",
            "province": "Quảng Nam",
            "office_unit": "VP",
            "units": [
                {"code": "VP", "name": "Văn phòng Sở"},
                {"code": "QLDT", "name": "Phòng Quản lý đầu tư"},
                {"code": "BGD", "name": "Ban Giám đốc"},
            ],
            "people": [
                {"id": f"{p}.{key}", "name": name, "unit": unit, "roles": roles}
                for key, name, unit, roles in people
            ],
            "oversees": oversees if oversees is not None else [],
            "security": {"second_factor": second_factor or []},
        }
    )


def home_affairs() -> OrganisationSpec:
    """The province's Department of Home Affairs: its auditor reads every agency."""
    return OrganisationSpec.model_validate(
        {
            "kind": "organisation",
            "code": "SNV",
            "name": "Sở Nội vụ",
            "province": "Quảng Nam",
            "office_unit": "VP",
            "units": [{"code": "VP", "name": "Văn phòng Sở"}],
            "people": [
                {"id": "snv.auditor", "name": "Bùi Thị Hạnh", "unit": "VP", "roles": ["auditor"]},
                {"id": "snv.admin", "name": "Đỗ Văn Khoa", "unit": "VP", "roles": ["admin"]},
            ],
            "oversees": "all",
        }
    )


def secret_of(link: str) -> str:
    """The one-time secret of a sign-up link (`.../signup?token=SECRET`)."""
    return parse_qs(urlparse(link).query)["token"][0]


def session_credential(session: str) -> str:
    """What an audit entry records of a session: its id's SHA-256, never the id."""
    return "session:" + hashlib.sha256(session.encode()).hexdigest()


@dataclass
class World:
    url: str
    setup: Context  # the test's own hand on the database (a simulation: the operator)
    tasks: dict[str, list[int]] = field(default_factory=dict)  # by organisation
    apps: list[FastAPI] = field(default_factory=list)

    def app(self, **settings: Any) -> FastAPI:
        """The API on this world's database, on its clock."""
        settings.setdefault("clock", self.setup.clock)
        made = create_app(Settings(database_url=self.url, **settings))
        self.apps.append(made)
        return made

    def account(self, person: str, password: str = PASSWORD) -> str:
        """An account for `person`, made as an administrator would: invited, signed up."""
        invitation = accounts.invite(self.setup, person, BASE)
        accounts.activate(self.setup, secret_of(invitation.link), password)
        return password

    def token(self, person: str, permissions: list[str], days: int = 30) -> tokens.IssuedToken:
        return tokens.create(self.setup, person, permissions, days, f"tests: {person}")

    def entries(self, **where: Any) -> list[dict[str, Any]]:
        with self.setup.uow.reading() as r:
            return r.audit.query(AuditFilter(**where))

    def close(self) -> None:
        for made in self.apps:
            made.state.web.engine.dispose()
        self.setup.engine.dispose()


def build_world(url: str, *, clock: Clock | None = None, **codes: Any) -> World:
    """The province on `url`: SO-A, SO-B (with `codes` for SO-A's file) and SNV, and three
    tasks in each agency."""
    ctx = Context(open_engine(url), clock=clock or SystemClock(), operator="operator:test")
    world = World(url, ctx)
    for spec in (agency("SO-A", **codes), agency("SO-B"), home_affairs()):
        org_service.upsert_organisation(ctx, spec)
    for org in ("SO-A", "SO-B"):
        world.tasks[org] = create_tasks(
            ctx,
            [
                NewTask(
                    organisation=org,
                    code=f"I.{n}",
                    title=f"Nhiệm vụ cải cách hành chính số {n}",
                    lead_unit="QLDT",
                    plan=None,
                    kind="adhoc",
                    period="2024Q2",
                    due_date=dt.date(2024, 6, 30) if n != 3 else dt.date(2024, 3, 15),
                )
                for n in (1, 2, 3)
            ],
        )
    return world


def worlds(url: str) -> Iterator[World]:
    """A test module's `world` fixture: `yield from worlds(db_url)`."""
    made = build_world(url)
    yield made
    made.close()


class Browser:
    """A person's browser: its own cookie jar, the CSRF token it was given at sign-in."""

    def __init__(self, app: FastAPI, *, base_url: str = BASE, **options: Any) -> None:
        self.http = TestClient(app, base_url=base_url, **options)
        self.csrf: str | None = None
        self.person: str | None = None

    def sign_in(self, login: str, password: str = PASSWORD, code: str | None = None) -> Browser:
        answer = self.http.post(
            f"{API}/session", json={"login": login, "password": password, "code": code}
        )
        assert answer.status_code == 200, answer.text
        self.csrf = answer.json()["csrf_token"]
        self.person = login
        return self

    @property
    def session(self) -> str:
        found = self.http.cookies.get(SESSION_COOKIE)
        assert found, "not signed in"
        return found

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(API + path, **kw)

    def write(self, method: str, path: str, *, csrf: bool = True, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        return self.http.request(method, API + path, headers=headers, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.write("POST", path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.write("DELETE", path, **kw)

    def move(
        self, task: int, move: str, version: int | None, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = {} if version is None else {"If-Match": str(version)}
        return self.post(f"/tasks/{task}/moves/{move}", headers=headers, json=body)


class Bearer:
    """Another system, with an API token."""

    def __init__(self, app: FastAPI, secret: str) -> None:
        self.http = TestClient(app, base_url=BASE)
        self.http.headers["Authorization"] = f"Bearer {secret}"

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(API + path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(API + path, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.delete(API + path, **kw)

    def move(
        self, task: int, move: str, version: int | None, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = {} if version is None else {"If-Match": str(version)}
        return self.post(f"/tasks/{task}/moves/{move}", headers=headers, json=body)


def error(answer: httpx.Response, status: int, code: str) -> str:
    """The answer is the error `code` with `status`, in the API's shape; its message."""
    assert answer.status_code == status, (answer.status_code, answer.text)
    body = answer.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    message = body["error"]["message"]
    assert isinstance(message, str) and message and "\n" not in message
    assert "Traceback" not in answer.text
    return str(message)


def travelling(url: str) -> World:
    """A world on a clock the test moves (the app shares it): sessions and tokens age.
    A simulation database, as every world here: a production one takes the system's."""
    return build_world(url, clock=FixedClock(START))


def at_once(count: int, work: Any) -> list[Any]:
    """`work(i)` in `count` threads released together; their results, in order."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
