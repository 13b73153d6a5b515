"""`planflow serve`, Prefect's side: the planned deployments (`workflow.domain.flow_schedules`)
as Prefect deployments, their next runs as Prefect's scheduler computes them, a Prefect
server to serve them against, and the serving itself.

Import `flows.settings.quiet_prefect()` first: Prefect reads its settings at import.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from prefect import Flow
from prefect.deployments.runner import RunnerDeployment
from prefect.exceptions import TerminationSignal
from prefect.runner import Runner
from prefect.schedules import Cron
from prefect.server.schemas.schedules import CronSchedule
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings
from prefect.types.entrypoint import EntrypointType
from sqlalchemy.engine import URL, make_url

from flows.temporary_server import dying_with_this_process
from workflow.domain.flow_schedules import FlowName, ScheduledFlow
from workflow.errors import ServiceUnavailable

SERVER_START_SECONDS = 120  # a cold start migrates Prefect's database: ~8 s here, more on a VM


def flow_of(name: FlowName) -> Flow[..., Any]:
    # Imported here: each flow module pulls in its services, and only the served ones count.
    if name == "apology":
        from flows.apology import apology_flow

        return apology_flow
    if name == "inspection":
        from flows.inspection import inspection_flow

        return inspection_flow
    from flows.aggregate import aggregate_flow

    return aggregate_flow


def public_url(db_url: str) -> str:
    """The database URL without its password. Deployment parameters are stored by the
    Prefect server and shown in its UI; the password stays in the serving host's
    environment (`PGPASSWORD`, set by `keep_password`, or `~/.pgpass`), which flow runs
    inherit."""
    url = make_url(db_url)
    # Made anew without it: `URL.set()` ignores a None, it cannot remove a password.
    bare = URL.create(
        url.drivername,
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return bare.render_as_string(hide_password=False)


def keep_password(db_url: str) -> None:
    """Put the URL's password where libpq finds it, for this process and the flow runs it
    starts; an operator's own PGPASSWORD wins."""
    password = make_url(db_url).password
    if password:
        os.environ.setdefault("PGPASSWORD", str(password))


def parameters(planned: ScheduledFlow, db_url: str, out_dir: Path) -> dict[str, Any]:
    folder = out_dir / planned.folder if planned.folder else out_dir
    return {"db_url": public_url(db_url), "out_dir": str(folder), **planned.parameters}


def deployments(
    planned: Sequence[ScheduledFlow], db_url: str, out_dir: Path
) -> list[RunnerDeployment]:
    out: list[RunnerDeployment] = []
    for item in planned:
        made = flow_of(item.flow).to_deployment(
            name=item.name,
            schedule=Cron(item.cron, timezone=item.timezone),
            parameters=parameters(item, db_url, out_dir),
            description=item.description,
            tags=["planflow"],
            # A module path, not a file path: a run imports `flows.apology` from the
            # installed package, whatever folder `serve` was started in.
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        # Called outside an event loop, Prefect's dispatch returns the deployment itself.
        assert isinstance(made, RunnerDeployment)
        out.append(made)
    return out


def next_runs(planned: ScheduledFlow, start: dt.datetime, count: int) -> list[dt.datetime]:
    """The next `count` run times from `start`, computed by the Prefect server's own
    schedule code (what its scheduler will create), in the schedule's time zone."""
    schedule = CronSchedule(cron=planned.cron, timezone=planned.timezone)
    dates = asyncio.run(schedule.get_dates(n=count, start=start))
    return [dt.datetime.fromisoformat(d.isoformat()) for d in dates]


def run(served: Sequence[RunnerDeployment], limit: int | None, ready: Callable[[], None]) -> None:
    """Register the deployments, call `ready`, then serve until Ctrl-C or SIGTERM.

    What `prefect.serve` does, with a hook once every deployment is registered (so "serving"
    is only said when it is true). `pause_on_shutdown=False`: the same deployments may be
    served from several hosts, and one host stopping must not pause the schedules the
    others serve. Runs that fall due while no host serves wait as late runs and run when
    one starts again (each flow is idempotent and works as of the day it runs)."""
    runner = Runner(pause_on_shutdown=False, limit=limit)
    for deployment in served:
        runner.add_deployment(deployment)
    ready()
    # Ctrl-C or SIGTERM: the runner has stopped its runs and its loops, a normal end.
    with suppress(KeyboardInterrupt, TerminationSignal):
        asyncio.run(runner.start())


def home() -> Path:
    """PREFECT_HOME (~/.prefect): where a local server keeps its database and its log."""
    return Path(get_current_settings().home)


def configured_api() -> str | None:
    url = get_current_settings().api.url
    return str(url) if url else None


@contextmanager
def prefect_api(log_dir: Path) -> Iterator[str]:
    """The Prefect API to serve against: PREFECT_API_URL when set; else the local server at
    PREFECT_SERVER_API_HOST:PORT (127.0.0.1:4200), started here and stopped on exit when
    none answers there.

    Not Prefect's own default (a temporary in-process server): that one never runs the
    scheduler, so served deployments would never run on their schedules."""
    configured = configured_api()
    if configured:
        if not _reachable(configured):
            raise ServiceUnavailable(
                f"the Prefect API at PREFECT_API_URL={configured} cannot be reached; "
                "is `prefect server start` running there?"
            )
        yield configured
        return
    settings = get_current_settings().server.api
    url = f"http://{settings.host}:{settings.port}/api"
    if _healthy(url):
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
        return
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "prefect-server.log"
    with log_path.open("ab") as log:
        # Its own session: Ctrl-C in the terminal reaches `serve` alone, which stops the
        # runner first and the server after it.
        server = subprocess.Popen(
            # Killed by the kernel should `serve` be killed (SIGKILL, SIGTERM): never left
            # running for good (flows/temporary_server.py).
            dying_with_this_process(
                [
                    sys.executable,
                    "-m",
                    "prefect",
                    "server",
                    "start",
                    "--host",
                    settings.host,
                    "--port",
                    str(settings.port),
                ]
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise ServiceUnavailable(
                    f"the local Prefect server did not start on {url} (see {log_path}); "
                    "start one with `prefect server start` and set PREFECT_API_URL"
                )
            time.sleep(0.25)
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _reachable(api_url: str) -> bool:
    """Anything answering (an authenticated API may refuse the bare request)."""
    try:
        httpx.get(f"{api_url}/health", timeout=5)
    except httpx.HTTPError:
        return False
    return True


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
