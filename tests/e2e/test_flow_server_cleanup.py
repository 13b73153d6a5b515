"""A flow started from the command line without PREFECT_API_URL runs on a temporary Prefect
server of its own; killed by SIGKILL or SIGTERM in the middle of its run, it leaves no
server behind (a process of ~200 MB listening on a loopback port, for good, before).

Real processes, a real server (this test does not use the session's): the command is frozen
inside its flow's transaction (tests/support/pause.py), then signalled.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import DEFINITIONS, ROOT
from tests.e2e.test_faults_crash import wait_for
from tests.e2e.test_serve import Served, free_port, loaded, start_serve, wait_serving
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.checks import validate
from workflow.errors import Stopped
from workflow.services import Context
from workflow.services import dossiers as dossier_service
from workflow.services import plans as plan_service
from workflow.store.engine import open_engine


def children(pid: int) -> dict[int, list[str]]:
    """The live processes whose parent is `pid`, with their command lines (from /proc)."""
    found: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "(name)": state, ppid, ...
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry.name)] = [part.decode() for part in cmdline if part]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left to collect


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_flow_killed_mid_run_leaves_no_prefect_server_behind(
    sqlite_url: str, tmp_path: Path, sig: signal.Signals
) -> None:
    engine = open_engine(sqlite_url)
    ctx = Context(engine, clock=FixedClock(dt.datetime(2024, 6, 3, 17, tzinfo=LOCAL_TZ)))
    plan_service.load(ctx, validate([DEFINITIONS])[0])
    late = dossier_service.NewDossier(
        "SKHDT-DN-01",
        dossier_service.Applicant("Công ty TNHH Hoa Sen"),
        dt.datetime(2024, 6, 3, 9, tzinfo=LOCAL_TZ),
    )
    dossier_service.receive(ctx, late, "lsn.dkkd.be-thi-huong")
    engine.dispose()

    mark = tmp_path / "paused"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLANFLOW_", "PREFECT_API"))}
    env |= {  # frozen inside the flow, writing its letter: the server is up and in use
        "PLANFLOW_TEST_PAUSE_ON": "INSERT INTO NOTICES",
        "PLANFLOW_TEST_PAUSE_AFTER": "1",
        "PLANFLOW_TEST_PAUSE_MARK": str(mark),
    }
    command = [
        sys.executable, "-m", "tests.support.cli", "--db", sqlite_url, "flows", "apology",
        "--as-of", "2024-06-12", "--out", str(tmp_path / "out"), "--format", "json",
    ]  # fmt: skip
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the signal reaches the command alone, not its group
    )
    server: int | None = None
    try:
        wait_for(mark, proc, timeout=240)
        servers = {
            pid: cmd for pid, cmd in children(proc.pid).items() if "flows.temporary_server" in cmd
        }
        assert len(servers) == 1, children(proc.pid)
        [(server, cmd)] = servers.items()
        port = int(cmd[-1])
        assert listening(port)

        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
        deadline = time.monotonic() + 10
        while (alive(server) or listening(port)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(server), f"the Prefect server {server} outlived its command"
        assert not listening(port)
        if sig == signal.SIGKILL:
            assert proc.returncode == -signal.SIGKILL
        else:
            assert proc.returncode == Stopped.exit_code == 143
            # One line: Prefect's console copies of the crash are not shown.
            [line] = err.strip().splitlines()
            assert line.startswith("planflow: error: stopped by SIGTERM while the flow ran"), err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
        if server is not None and alive(server):
            os.kill(server, signal.SIGKILL)  # a failed run leaves nothing behind either


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_serve_killed_by_sigkill_leaves_no_local_prefect_server_behind(
    sqlite_url: str, tmp_path: Path
) -> None:
    """`planflow serve` without PREFECT_API_URL starts a local Prefect server in a session of
    its own (so that Ctrl-C stops `serve` first); SIGKILLed, `serve` takes it along."""
    loaded(sqlite_url, "2024-05-02T08:00").engine.dispose()
    port = free_port()
    started: list[Served] = []
    served = start_serve(
        started, tmp_path, "killed", sqlite_url, "--org", "LSN-SKHDT",
        env={"PREFECT_SERVER_API_PORT": str(port)},
    )  # fmt: skip
    server: int | None = None
    try:
        wait_serving(served, timeout=150)
        [server] = [p for p, cmd in children(served.proc.pid).items() if "server" in cmd]
        assert listening(port)
        os.kill(served.proc.pid, signal.SIGKILL)
        served.proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while (alive(server) or listening(port)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(server) and not listening(port), "the local server outlived serve"
    finally:
        if served.proc.poll() is None:
            os.killpg(served.proc.pid, signal.SIGKILL)
            served.proc.wait(timeout=30)
        if server is not None and alive(server):
            os.kill(server, signal.SIGKILL)
