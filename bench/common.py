"""What every benchmark shares: scratch databases, the machine, timing, the result shape."""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy
import structlog
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from workflow.definitions.models import OrganisationSpec
from workflow.store import schema
from workflow.store.engine import open_engine

PG_ADMIN_URL = os.environ.get(
    "PLANFLOW_BENCH_PG",
    os.environ.get("PLANFLOW_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ("sqlite", "postgres")

T = TypeVar("T")


def result(figures: dict[str, Any], target: str | None, met: bool | None) -> dict[str, Any]:
    """One benchmark's entry in results.json."""
    return {"figures": figures, "target": target, "met": met}


def skipped(target: str | None, reason: str) -> dict[str, Any]:
    return {"figures": {}, "target": target, "met": None, "skipped": reason}


def judged(quick: bool, ok: bool) -> bool | None:
    """Targets are judged on full runs only; --quick sizes say nothing about them."""
    return None if quick else ok


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (p95 of 200 samples is the 190th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def quiet_logs() -> None:
    """The services log one JSON line per move, rendered as in production, written nowhere.

    Rendering is part of the engine's cost; terminal I/O is not (and would drown the table).
    """
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.ReturnLoggerFactory(),
        cache_logger_on_first_use=True,
    )


# ------------------------------------------------------------------ databases


class PostgresUnavailable(RuntimeError):
    pass


@dataclass
class Scratch:
    """Fresh, migrated, empty databases: SQLite files in a temp folder, or one PostgreSQL
    scratch database (dropped and created again for each benchmark, dropped at the end)."""

    backend: str
    pg_database: str = "planflow_bench"
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="planflow-bench-")))
    _count: int = 0
    _template: Path | None = None

    def fresh(self) -> str:
        self._count += 1
        if self.backend == "sqlite":
            if self._template is None:
                self._template = self.workdir / "template.db"
                engine = open_engine(f"sqlite:///{self._template}")
                schema.upgrade(engine)
                engine.dispose()
            target = self.workdir / f"bench-{self._count}.db"
            for old in self.workdir.glob("bench-*.db*"):
                old.unlink()  # one benchmark's database at a time: keep the disk use small
            shutil.copy(self._template, target)
            return f"sqlite:///{target}"
        self._drop()
        with _pg_admin() as admin:
            admin.execute(text(f'CREATE DATABASE "{self.pg_database}"'))
        url = pg_url(self.pg_database)
        engine = open_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        return url

    def _drop(self) -> None:
        with _pg_admin() as admin:
            admin.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)'))

    def close(self) -> None:
        if self.backend == "postgres":
            self._drop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def _pg_admin() -> Iterator[sqlalchemy.Connection]:
    engine = create_engine(
        PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sqlalchemy.NullPool
    )
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def pg_url(database: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def postgres_problem() -> str | None:
    """None when the server answers; otherwise why not (the benchmarks are then skipped)."""
    try:
        with _pg_admin() as admin:
            admin.execute(text("SELECT 1"))
    except Exception as exc:  # down, unreachable, refused: all mean "skip" here
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL is not reachable at {make_url(PG_ADMIN_URL)!r}: {first}"
    return None


# ------------------------------------------------------------------ the machine


def machine(backends: list[str]) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib: float | None = None
    with suppress(ValueError, OSError, AttributeError):
        ram_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info: dict[str, Any] = {
        "cpu": cpu,
        "cores": usable,
        "ram_gib": ram_gib,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
        "postgres": None,
        "temp_dir": tempfile.gettempdir(),
    }
    if "postgres" in backends and postgres_problem() is None:
        with _pg_admin() as admin:
            info["postgres"] = admin.execute(text("SHOW server_version")).scalar_one()
            info["postgres_synchronous_commit"] = admin.execute(
                text("SHOW synchronous_commit")
            ).scalar_one()
            info["postgres_autovacuum"] = admin.execute(text("SHOW autovacuum")).scalar_one()
    return info


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


# ------------------------------------------------------------------ an agency to act in


def agency(code: str = "SO-BENCH", units: int = 4, staff_per_unit: int = 2) -> OrganisationSpec:
    """An office (VP, two people for four-eyes), a leadership (BGD), and working units."""
    prefix = code.lower()
    unit_codes = [f"P{i:02d}" for i in range(1, units + 1)]
    people: list[dict[str, Any]] = [
        {"id": f"{prefix}.office1", "name": "Nguyễn Văn An", "unit": "VP", "roles": ["office"]},
        {"id": f"{prefix}.office2", "name": "Hoàng Thị Bình", "unit": "VP", "roles": ["office"]},
        {"id": f"{prefix}.leader", "name": "Võ Văn Cường", "unit": "BGD", "roles": ["leader"]},
    ]
    for unit in unit_codes:
        for n in range(1, staff_per_unit + 1):
            people.append(
                {
                    "id": f"{prefix}.{unit.lower()}.s{n}",
                    "name": f"Cán bộ {n} phòng {unit}",
                    "unit": unit,
                    "roles": ["unit_head"] if n == 1 else ["staff"],
                }
            )
    return OrganisationSpec.model_validate(
        {
            "kind": "organisation",
            "code": code,
            "name": f"Sở {code}",
            "province": "Quảng Nam",
            "office_unit": "VP",
            "units": [
                {"code": "VP", "name": "Văn phòng Sở"},
                {"code": "BGD", "name": "Ban Giám đốc"},
                *({"code": u, "name": f"Phòng {u}"} for u in unit_codes),
            ],
            "people": people,
        }
    )
