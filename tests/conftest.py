"""Shared fixtures: real SQLite and real PostgreSQL databases, a fixed clock, a small agency.

PostgreSQL: a template database is migrated once per test session (per xdist worker); each
test gets a fresh copy (CREATE DATABASE ... TEMPLATE), dropped afterwards. When the server
cannot be reached, the PostgreSQL tests are skipped on a laptop but FAIL when CI=true.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.models import OrganisationSpec
from workflow.services import Context
from workflow.services import organisations as org_service
from workflow.store import schema
from workflow.store.engine import open_engine

PG_ADMIN_URL = os.environ.get(
    "PLANFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ["sqlite", "postgres"]
START = dt.datetime(2024, 3, 1, 9, 0, tzinfo=LOCAL_TZ)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (the default, pyproject.toml): one worker per core, at most 4; each starts
    its own Prefect test server and PostgreSQL template, which more workers would not repay."""
    return max(1, min(os.cpu_count() or 1, 4))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", help="run the long variants of stress tests")


class PostgresServer:
    def __init__(self) -> None:
        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_size=1)
        self.prefix = f"pf_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"
        self._counter = itertools.count()

    def url_for(self, name: str) -> str:
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def create_template(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        engine = open_engine(self.url_for(self.template))
        schema.upgrade(engine)
        engine.dispose()

    def fresh_database(self) -> str:
        name = f"{self.prefix}_{next(self._counter)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
        with server.admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the server is down or unreachable
        message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}"
        if IN_CI:
            pytest.fail(message + " (CI=true: the PostgreSQL leg must run)", pytrace=False)
        pytest.skip(message)
    server.create_template()
    yield server
    server.drop(server.template)
    server.admin.dispose()


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One Prefect test-harness server for the whole session (it costs ~10 s to start)."""
    from flows.settings import quiet_prefect

    quiet_prefect()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    engine = open_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        target = tmp_path / "planflow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.fresh_database()
    yield server.url_for(name)
    server.drop(name)


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    """A migrated, empty PostgreSQL database, for what only PostgreSQL does."""
    name = postgres.fresh_database()
    yield postgres.url_for(name)
    postgres.drop(name)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "planflow.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = open_engine(db_url, pool_size=12)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def ctx(engine: Engine, clock: FixedClock) -> Context:
    return Context(engine, clock=clock, operator="operator:test")


def small_agency(code: str = "SO-TEST") -> OrganisationSpec:
    """An agency with an office (two people: four-eyes), two units, a leader, an auditor."""
    return OrganisationSpec.model_validate(
        {
            "kind": "organisation",
            "code": code,
            "name": "Sở Thử nghiệm",
            "province": "Quảng Nam",
            "office_unit": "VP",
            "units": [
                {"code": "VP", "name": "Văn phòng Sở"},
                {"code": "QLDT", "name": "Phòng Quản lý đầu tư"},
                {"code": "DKKD", "name": "Phòng Đăng ký kinh doanh"},
                {"code": "BGD", "name": "Ban Giám đốc"},
            ],
            "people": [
                {
                    "id": f"{code.lower()}.lan",
                    "name": "Trần Thị Lan",
                    "unit": "QLDT",
                    "roles": ["staff"],
                },
                {
                    "id": f"{code.lower()}.hung",
                    "name": "Lê Văn Hùng",
                    "unit": "QLDT",
                    "roles": ["unit_head"],
                },
                {
                    "id": f"{code.lower()}.mai",
                    "name": "Phạm Thị Mai",
                    "unit": "DKKD",
                    "roles": ["staff"],
                },
                {
                    "id": f"{code.lower()}.office1",
                    "name": "Nguyễn Văn An",
                    "unit": "VP",
                    "roles": ["office", "staff"],
                },
                {
                    "id": f"{code.lower()}.office2",
                    "name": "Hoàng Thị Bình",
                    "unit": "VP",
                    "roles": ["office"],
                },
                {
                    "id": f"{code.lower()}.leader",
                    "name": "Võ Văn Cường",
                    "unit": "BGD",
                    "roles": ["leader"],
                },
                {
                    "id": f"{code.lower()}.auditor",
                    "name": "Đặng Thị Dung",
                    "unit": "VP",
                    "roles": ["auditor"],
                },
            ],
        }
    )


def agency_entries(spec: OrganisationSpec | None = None) -> int:
    """The audit entries loading an agency writes: its load, and one per role granted."""
    spec = spec or small_agency()
    return 1 + sum(len(set(p.roles)) for p in spec.people)


@pytest.fixture
def agency(ctx: Context) -> OrganisationSpec:
    spec = small_agency()
    org_service.upsert_organisation(ctx, spec)
    return spec
