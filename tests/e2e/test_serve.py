"""`planflow serve` as real processes against real Prefect servers: the test harness's (one
per session), and the local server `serve` starts itself when PREFECT_API_URL is not set.

What is proved: the deployments are registered with their cron, time zone and parameters;
served runs do the work (a draw, a letter, a report) and nothing on a holiday; Ctrl-C ends
`serve` with exit 0 and no traceback, leaving the schedules active; two hosts serving the
same deployments against one Prefect server and one PostgreSQL database, each running a run
of the same inspection at the same moment, make exactly one draw; the local server's
scheduler plans the runs at 07:00 Vietnam time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select, text

from tests.conftest import PostgresServer
from tests.e2e.conftest import DEFINITIONS
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.checks import validate
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import dossiers as dossier_service
from workflow.services import plans as plan_service
from workflow.store.backend import Mutex
from workflow.store.engine import backend_for, open_engine
from workflow.store.tables import audit_log, inspections, notices, report_snapshots, tasks

LSN, QNA = "LSN-SKHDT", "QNA-BQLKKT"
EXPECTED = {
    "apology": ("0 7 * * *", {"as_of": None}),
    "inspection": ("30 7 * * *", {"period": None, "actor": None}),
    "aggregate": ("0 2 15 3,6,9,12 *", {"period": None, "rule": "reporting"}),
}


def local(text_: str) -> str:
    """An instant in Vietnam time, as a run's `now` parameter (JSON)."""
    return dt.datetime.fromisoformat(text_).replace(tzinfo=LOCAL_TZ).isoformat()


@dataclass
class Served:
    proc: subprocess.Popen[str]
    out: Path
    err: Path

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8")


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[list[Served]]:
    """Every `serve` a test starts; any still running at the end (a failed test) is stopped:
    Ctrl-C first, so it stops the Prefect server it started (that one runs in a session of
    its own, out of reach of the group's signals), then SIGKILL."""
    started: list[Served] = []
    yield started
    for s in started:
        if s.proc.poll() is None:
            os.killpg(s.proc.pid, signal.SIGINT)
            try:
                s.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(s.proc.pid, signal.SIGKILL)
                s.proc.wait(timeout=30)


def start_serve(
    started: list[Served],
    tmp_path: Path,
    tag: str,
    db_url: str,
    *args: str,
    env: dict[str, str] | None = None,
) -> Served:
    # Its own session, as on its own host; PLANFLOW_* and the API URL only as given here.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PLANFLOW_", "PREFECT_"))}
    base |= {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_HOME": str(tmp_path / f"prefect-{tag}"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",  # default 10 s: keep the test short
        **(env or {}),
    }
    out, err = tmp_path / f"{tag}.out", tmp_path / f"{tag}.err"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workflow.cli",
                "--db",
                db_url,
                "serve",
                "--out",
                str(tmp_path / "out"),
                *args,
            ],
            cwd=tmp_path,
            env=base,
            stdout=o,
            stderr=e,
            text=True,
            start_new_session=True,
        )
    served = Served(proc, out, err)
    started.append(served)
    return served


def wait_serving(served: Served, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while "serving " not in served.stderr():
        assert served.proc.poll() is None, f"serve ended early: {served.stderr()}"
        assert time.monotonic() < deadline, f"serve never started: {served.stderr()}"
        time.sleep(0.2)


def stop(served: Served) -> str:
    """Ctrl-C, as a terminal sends it (SIGINT to the process group): exit 0, no traceback."""
    os.killpg(served.proc.pid, signal.SIGINT)
    assert served.proc.wait(timeout=60) == 0, served.stderr()
    err = served.stderr()
    assert "Traceback" not in err and "ERROR" not in err, err
    assert "planflow serve stopped" in err
    return err


def api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "the Prefect test harness sets PREFECT_API_URL"
    return str(url)


def deployment(name: str) -> Any:
    from prefect import get_client

    async def read() -> Any:
        async with get_client() as client:
            return await client.read_deployment_by_name(name)

    return asyncio.run(read())


def trigger(name: str, **parameters: Any) -> UUID:
    """A run of the deployment now, as `prefect deployment run` makes it; it does not wait."""
    from prefect.deployments import run_deployment

    run = run_deployment(name, parameters=parameters, timeout=0)
    return run.id  # type: ignore[union-attr]  # the sync call returns the run


def wait_done(ids: list[UUID], timeout: float = 120) -> list[Any]:
    from prefect import get_client

    async def states() -> list[Any]:
        async with get_client() as client:
            return [await client.read_flow_run(i) for i in ids]

    deadline = time.monotonic() + timeout
    while True:
        runs = asyncio.run(states())
        if all(r.state is not None and r.state.is_final() for r in runs):
            return runs
        assert time.monotonic() < deadline, [(r.name, r.state) for r in runs]
        time.sleep(0.5)


def loaded(db_url: str, when: str) -> Context:
    ctx = Context(open_engine(db_url), clock=FixedClock(dt.datetime.fromisoformat(local(when))))
    found, problems = validate([DEFINITIONS])
    assert problems == []
    plan_service.load(ctx, found)
    return ctx


def count(ctx: Context, stmt: Any) -> int:
    with ctx.uow.reading() as r:
        return int(r.conn.execute(stmt).scalar_one())


def draws(ctx: Context, org: str) -> int:
    return count(
        ctx,
        select(func.count()).select_from(inspections).where(inspections.c.organisation == org),
    )


def test_serve_registers_the_deployments_and_its_runs_do_the_work(
    prefect_server: None, sqlite_url: str, tmp_path: Path, serving: list[Served]
) -> None:
    ctx = loaded(sqlite_url, "2024-05-02T08:00")
    ctx.clock.set(dt.datetime.fromisoformat(local("2024-05-03T09:00")))  # type: ignore[attr-defined]
    received = (
        dossier_service.receive(  # a Friday; 3 working days, Saturday 04/05 worked: due 07/05
            ctx,
            dossier_service.NewDossier(
                "SKHDT-DN-01",
                dossier_service.Applicant("Công ty TNHH Hoa Sen"),
                dt.datetime.fromisoformat(local("2024-05-03T09:00")),
            ),
            "lsn.dkkd.be-thi-huong",
        )
    )
    dossier_service.delay(  # the reason its letter states
        ctx,
        int(str(received["id"])),
        "Cần xác minh thông tin doanh nghiệp",
        2,
        "lsn.dkkd.be-thi-huong",
    )
    served = start_serve(serving, tmp_path, "one", sqlite_url, env={"PREFECT_API_URL": api_url()})
    wait_serving(served)
    listing = served.out.read_text(encoding="utf-8")
    assert "apology/LSN-SKHDT" in listing and "aggregate/QNA-BQLKKT" in listing

    for org in (LSN, QNA):
        for flow, (cron, params) in EXPECTED.items():
            d = deployment(f"{flow}/{org}")
            [schedule] = d.schedules
            assert (schedule.schedule.cron, schedule.schedule.timezone) == (
                cron, "Asia/Ho_Chi_Minh",
            )  # fmt: skip
            assert schedule.active and not d.paused
            assert d.parameters == {
                "db_url": sqlite_url,
                "out_dir": str(tmp_path / "out" / {"apology": "", "inspection": "inspections",
                               "aggregate": "reports"}[flow]).rstrip("/"),
                "organisation": org,
                **params,
            }  # fmt: skip
            assert d.entrypoint == f"flows.{flow}.{flow}_flow"

    # Runs as the schedules make them, with the clock pinned to the moment they stand for,
    # one after the other, as the days come (the log's entries go forward in time).
    done = []
    for name, now in (
        (f"inspection/{QNA}", "2024-04-30T07:30"),  # 30/4: a holiday
        (f"inspection/{LSN}", "2024-05-06T07:30"),  # Monday: 2024Q2's draw
        (f"apology/{LSN}", "2024-05-07T07:00"),  # the dossier is due today
        (f"aggregate/{LSN}", "2024-06-15T02:00"),  # Q2's window just closed
    ):
        done += wait_done([trigger(name, now=local(now))])
    assert [r.state.type.value for r in done] == ["COMPLETED"] * 4

    [draw] = plan_service_draws(ctx, LSN)
    # A scheduled run acts as its schedule (issue 14: was `flow:inspection`).
    assert (draw["period"], draw["drawn_by"]) == ("2024Q2", f"schedule:inspection/{LSN}")
    assert draws(ctx, QNA) == 0  # nothing on a holiday
    with ctx.uow.reading() as r:
        found = r.conn.execute(
            select(audit_log.c.action, audit_log.c.actor).where(
                audit_log.c.action.in_(["dossier.apology", "report.snapshot"])
            )
        )
        actors: dict[str, str] = {row.action: row.actor for row in found}
    assert actors == {
        "dossier.apology": f"schedule:apology/{LSN}",
        "report.snapshot": f"schedule:aggregate/{LSN}",
    }
    assert count(ctx, select(func.count()).select_from(tasks).where(tasks.c.kind == "inspection"))
    letters = count(
        ctx, select(func.count()).select_from(notices).where(notices.c.kind == "apology")
    )
    assert letters == 1 and list((tmp_path / "out" / "letters" / LSN).glob("*.html"))
    with ctx.uow.reading() as r:
        [(period, rule)] = r.conn.execute(
            select(report_snapshots.c.period, report_snapshots.c.window_rule)
        ).all()
    assert (period, rule) == ("2024Q2", "reporting")
    assert list((tmp_path / "out" / "reports").iterdir())
    assert audit_service.verify(ctx).ok

    stop(served)
    # Stopping one host pauses nothing: others may be serving the same deployments.
    assert not deployment(f"apology/{LSN}").paused
    ctx.engine.dispose()


def plan_service_draws(ctx: Context, org: str) -> list[dict[str, Any]]:
    from workflow.services import inspections as inspection_service

    return inspection_service.list_draws(ctx, org)


def waiting_on_the_draws_lock(admin: Any, database: str) -> int:
    with admin.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                    "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                ),
                {"db": database},
            ).scalar_one()
        )


def test_two_hosts_serving_one_inspection_at_the_same_moment_make_one_draw(
    prefect_server: None, postgres: PostgresServer, tmp_path: Path, serving: list[Served]
) -> None:
    """Two `serve` processes (two hosts), one Prefect server, one PostgreSQL database. Each
    may run one flow at a time (`--limit 1`); the test holds the draws' lock
    (`Mutex.INSPECTION_DRAWS`, what a draw takes first) while two runs of the same inspection
    start, so both are running, one on each host, when the lock
    is released: exactly one draw comes out, and the other run returns it."""
    database = postgres.fresh_database()
    url = postgres.url_for(database)
    try:
        ctx = loaded(url, "2024-05-02T08:00")
        hosts = [
            start_serve(serving, tmp_path, tag, url, "--org", LSN, "--limit", "1",
                        env={"PREFECT_API_URL": api_url()})
            for tag in ("host-a", "host-b")
        ]  # fmt: skip
        for host in hosts:
            wait_serving(host)
        assert deployment(f"inspection/{LSN}").parameters["db_url"] == url

        engine = open_engine(url)
        with engine.connect() as holder:
            held = holder.begin()
            backend_for(engine).serialise(holder, Mutex.INSPECTION_DRAWS)
            runs = [trigger(f"inspection/{LSN}", now=local("2024-05-06T07:30")) for _ in hosts]
            deadline = time.monotonic() + 90
            while waiting_on_the_draws_lock(postgres.admin, database) < 2:
                assert time.monotonic() < deadline, "the two runs never both reached the draw"
                time.sleep(0.2)
            held.rollback()
        engine.dispose()
        assert [r.state.type.value for r in wait_done(runs)] == ["COMPLETED"] * 2

        [draw] = plan_service_draws(ctx, LSN)
        assert draw["period"] == "2024Q2"
        entries = select(func.count()).select_from(audit_log)
        assert count(ctx, entries.where(audit_log.c.action == "inspection.draw")) == 1
        drawn = count(
            ctx, select(func.count()).select_from(tasks).where(tasks.c.kind == "inspection")
        )
        assert drawn == len(draw["selected"])
        assert audit_service.verify(ctx).ok

        stop(hosts[0])
        assert hosts[1].proc.poll() is None and not deployment(f"inspection/{LSN}").paused
        stop(hosts[1])
        ctx.engine.dispose()
    finally:
        postgres.drop(database)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_without_an_api_url_serve_runs_a_local_server_whose_scheduler_plans_the_runs(
    sqlite_url: str, tmp_path: Path, serving: list[Served]
) -> None:
    """Prefect's own default (a temporary in-process server) never runs the scheduler; the
    local server `serve` starts does, and plans the apology runs at 07:00 Vietnam time."""
    ctx = loaded(sqlite_url, "2024-05-02T08:00")
    ctx.engine.dispose()
    port = free_port()
    served = start_serve(
        serving, tmp_path, "local", sqlite_url, "--org", LSN,
        # The scheduler's main loop (60 s by default) backs up its 5-second loop over
        # recently updated deployments, which a busy machine can miss.
        env={"PREFECT_SERVER_API_PORT": str(port), "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5"},
    )  # fmt: skip
    wait_serving(served, timeout=150)
    api = f"http://127.0.0.1:{port}/api"
    assert f"against {api}" in served.stderr()

    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def planned() -> list[dt.datetime]:
        async with get_client() as client:
            runs = await client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[LSN])),
                limit=200,
                sort=FlowRunSort.EXPECTED_START_TIME_ASC,  # Prefect 3.8.8's server refuses None
            )
            apology = (await client.read_deployment_by_name(f"apology/{LSN}")).id
            return sorted(
                r.expected_start_time for r in runs
                if r.deployment_id == apology and r.expected_start_time
            )  # fmt: skip

    with temporary_settings(updates={PREFECT_API_URL: api}):
        deadline = time.monotonic() + 120
        while len(times := asyncio.run(planned())) < 3:
            assert time.monotonic() < deadline, "the scheduler planned no runs"
            time.sleep(1)
    started = dt.datetime.now(dt.UTC)
    assert all(t.astimezone(LOCAL_TZ).time() == dt.time(7) for t in times)
    assert times[0] - started < dt.timedelta(days=1)
    assert all(b - a == dt.timedelta(days=1) for a, b in itertools.pairwise(times))

    stop(served)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # the local server stopped with `serve`
