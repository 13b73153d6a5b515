"""Two small agencies in one database, for the API's tests of dossiers, inspections, reports
and the access matrix (this module holds no test).

SO-A and SO-B are alike: an office (VP: two people, for four-eyes), two working units (QLDT,
DKKD), a leadership (BGD), an inspection team (TTR), an auditor and an administrator; their
files have an `inspection:` section (TTR inspects QLDT and DKKD every quarter, half of them)
and two procedures each. The Department of Home Affairs, SNV, oversees `all`: its auditor
reads every agency. They are loaded from files written as an agency writes them, through
the loader the CLI uses; accounts are made as an administrator makes them (an invitation,
then the sign-up). The app and the set-up share one clock, a simulation database's: the
server's clock in these tests; a request never sets it.

The clock starts on Monday 03/06/2024 at 09:00, Vietnam time, in the quarter 2024Q2.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI

from tests.e2e.test_api_support import BASE, PASSWORD, Bearer, Browser, secret_of
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.context import Context
from workflow.definitions.checks import validate
from workflow.domain.filters import AuditFilter
from workflow.services import accounts, tokens
from workflow.services import plans as plan_service
from workflow.services.tasks import NewTask, create_tasks
from workflow.store.engine import open_engine
from workflow.web.app import create_app
from workflow.web.settings import Settings

START = dt.datetime(2024, 6, 3, 9, 0, tzinfo=LOCAL_TZ)
AGENCIES = ("SO-A", "SO-B")
# Who holds each role in an agency: the key is the role, the value the person's id suffix.
ROLE_PEOPLE = {
    "staff": "lan",
    "unit_head": "hung",
    "office": "office1",
    "leader": "leader",
    "inspector": "thanh",
    "auditor": "auditor",
    "admin": "admin",
}
ROLES = tuple(ROLE_PEOPLE)
SPARE = 12  # people of each agency with no account: cb01 .. cb12


def spare(org: str, n: int) -> str:
    return f"{org.lower()}.cb{n:02d}"


def person(org: str, role_or_key: str) -> str:
    """The id of the person of `org` holding `role_or_key` (a role, or a person's key)."""
    key = ROLE_PEOPLE.get(role_or_key, role_or_key)
    return f"{org.lower()}.{key}"


def procedure(org: str, kind: str) -> str:
    """A procedure code of the agency: DN (3 working days, QLDT), DT (15, DKKD)."""
    return f"{org}-{kind}-01"


def agency_files(code: str) -> dict[str, dict[str, Any]]:
    """The organisation's file and its procedures' file, as an agency writes them."""
    p = code.lower()
    people = [
        ("lan", "Trần Thị Lan", "QLDT", ["staff"]),
        ("hung", "Lê Văn Hùng", "QLDT", ["unit_head"]),
        ("mai", "Phạm Thị Mai", "DKKD", ["staff"]),
        ("office1", "Nguyễn Văn An", "VP", ["office", "staff"]),
        ("office2", "Hoàng Thị Bình", "VP", ["office"]),
        ("leader", "Võ Văn Cường", "BGD", ["leader"]),
        ("thanh", "Lăng Văn Thành", "TTR", ["inspector"]),
        ("thanh2", "Đinh Thị Quyên", "TTR", ["inspector"]),
        ("auditor", "Đặng Thị Dung", "VP", ["auditor"]),
        ("admin", "Phan Văn Quản", "VP", ["admin"]),
        # Staff with no account yet: whom the tests invite and sign up.
        *((f"cb{n:02d}", f"Cán bộ số {n:02d}", "DKKD", ["staff"]) for n in range(1, SPARE + 1)),
    ]
    organisation = {
        "kind": "organisation",
        "code": code,
        "name": f"Sở Thử nghiệm {code}",
        "province": "Quảng Nam",
        "office_unit": "VP",
        "units": [
            {"code": "VP", "name": "Văn phòng Sở"},
            {"code": "QLDT", "name": "Phòng Quản lý đầu tư"},
            {"code": "DKKD", "name": "Phòng Đăng ký kinh doanh"},
            {"code": "BGD", "name": "Ban Giám đốc"},
            {"code": "TTR", "name": "Thanh tra Sở"},
        ],
        "people": [
            {"id": f"{p}.{key}", "name": name, "unit": unit, "roles": roles}
            for key, name, unit, roles in people
        ],
        "inspection": {
            "unit": "TTR",
            "units": ["QLDT", "DKKD"],
            "every": "quarter",
            "ratio": 0.5,
            "signer": f"{p}.leader",
            "signer_title": "GIÁM ĐỐC",
        },
    }
    procedures = {
        "kind": "procedures",
        "organisation": code,
        "procedures": [
            {
                "code": procedure(code, "DN"),
                "name": "Đăng ký thành lập doanh nghiệp tư nhân",
                "working_days": 3,
                "unit": "QLDT",
                "cutoff_hour": 16,
                "legal_basis": "Nghị định số 01/2021/NĐ-CP, Điều 26",
            },
            {
                "code": procedure(code, "DT"),
                "name": "Cấp Giấy chứng nhận đăng ký đầu tư",
                "working_days": 15,
                "unit": "DKKD",
            },
        ],
    }
    return {"organisation": organisation, "procedures": procedures}


HOME_AFFAIRS = {
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


def write_definitions(folder: Path) -> Path:
    """The three agencies' files under `folder`, one folder each."""
    for code in AGENCIES:
        target = folder / code.lower()
        target.mkdir(parents=True, exist_ok=True)
        for name, content in agency_files(code).items():
            (target / f"{name}.yaml").write_text(
                yaml.safe_dump(content, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
    snv = folder / "snv"
    snv.mkdir(parents=True, exist_ok=True)
    (snv / "organisation.yaml").write_text(
        yaml.safe_dump(HOME_AFFAIRS, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return folder


@dataclass
class Province:
    url: str
    setup: Context  # the test's own hand on the database (a simulation: the operator)
    output: Path  # the server's output folder
    clock: FixedClock
    tasks: dict[str, list[int]] = field(default_factory=dict)  # plan tasks, by organisation
    apps: list[FastAPI] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)

    def app(self, **settings: Any) -> FastAPI:
        """The API on this database, its clock the province's, its output folder ours."""
        settings.setdefault("clock", self.clock)
        settings.setdefault("output_dir", self.output)
        made = create_app(Settings(database_url=self.url, **settings))
        self.apps.append(made)
        return made

    def account(self, who: str) -> None:
        """An account for `who`, made as an administrator would: invited, signed up."""
        if who in self.passwords:
            return
        invitation = accounts.invite(self.setup, who, BASE)
        accounts.activate(self.setup, secret_of(invitation.link), PASSWORD)
        self.passwords[who] = PASSWORD

    def browser(self, app: FastAPI, who: str) -> Browser:
        """`who`, signed in through the API in a browser of their own."""
        self.account(who)
        return Browser(app).sign_in(who)

    def bearer(self, app: FastAPI, who: str, permissions: list[str]) -> Bearer:
        """Another system with `who`'s token, scoped to `permissions`."""
        self.account(who)
        issued = tokens.create(self.setup, who, permissions, 30, f"tests: {who}")
        return Bearer(app, issued.secret)

    def entries(self, **where: Any) -> list[dict[str, Any]]:
        with self.setup.uow.reading() as r:
            return r.audit.query(AuditFilter(**where))

    def head(self) -> int:
        """The audit log's last seq."""
        with self.setup.uow.reading() as r:
            return r.backend.recorder.last_seq(r.conn)

    def at(self, when: dt.datetime) -> None:
        """Move the server's clock (forward only: entries are never dated before the head)."""
        assert when >= self.clock.now(), (when, self.clock.now())
        self.clock.set(when)

    def close(self) -> None:
        for made in self.apps:
            made.state.web.engine.dispose()
        self.setup.engine.dispose()


def build_province(url: str, folder: Path) -> Province:
    """SO-A, SO-B and SNV loaded on `url`; four plan tasks in each agency (two per unit)."""
    clock = FixedClock(START - dt.timedelta(days=1))
    ctx = Context(open_engine(url), clock=clock, operator="operator:test")
    found, problems = validate([write_definitions(folder / "definitions")])
    assert problems == [], problems
    plan_service.load(ctx, found)
    province = Province(url, ctx, folder / "output", clock)
    for org in AGENCIES:
        province.tasks[org] = create_tasks(
            ctx,
            [
                NewTask(
                    organisation=org,
                    code=f"I.{n}",
                    title=f"Nhiệm vụ cải cách hành chính số {n} của {unit}",
                    lead_unit=unit,
                    plan=None,
                    kind="plan",
                    period="2024Q2",
                    due_date=dt.date(2024, 6, 28) if n % 2 else dt.date(2024, 5, 15),
                )
                for n, unit in enumerate(("QLDT", "QLDT", "DKKD", "DKKD"), start=1)
            ],
        )
    clock.set(START)
    return province


def provinces(url: str, folder: Path) -> Iterator[Province]:
    """A test module's `province` fixture: `yield from provinces(db_url, tmp_path)`."""
    made = build_province(url, folder)
    yield made
    made.close()
