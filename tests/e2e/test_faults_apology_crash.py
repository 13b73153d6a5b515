"""Crash safety of the apology flow: a real `planflow flows apology` process SIGKILLed inside a
batch (its notices written, not committed). The batches before it stay, the one it was in
leaves no trace (no notice, no moved due date, no audit entry), and running the flow again
issues exactly the missing letters: one per dossier, never two.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import Select, func, select

from tests.e2e.conftest import ROOT
from tests.e2e.test_faults_crash import consistent, wait_for
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.checks import validate
from workflow.services import Context
from workflow.services import dossiers as dossier_service
from workflow.services import plans as plan_service
from workflow.store.engine import open_engine
from workflow.store.tables import audit_log, dossiers, notices

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
DOSSIERS, BATCH = 10, 5


def spawn(
    tmp_path: Path, *args: str, pause: str | None = None, pause_after: int = 2
) -> tuple[subprocess.Popen[str], Path]:
    """A real process in its own session, on the session's Prefect server (PREFECT_API_URL
    of the test harness, which outlives the crash as a real server would; a temporary
    server per run would cost ~10 s each). SIGKILL goes to the whole group."""
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANFLOW_")}
    env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    mark = tmp_path / f"paused-{time.monotonic_ns()}"
    if pause:
        env |= {
            "PLANFLOW_TEST_PAUSE_ON": pause,
            "PLANFLOW_TEST_PAUSE_AFTER": str(pause_after),
            "PLANFLOW_TEST_PAUSE_MARK": str(mark),
        }
    proc = subprocess.Popen(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    return proc, mark


def kill_group(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def letters(ctx: Context) -> tuple[int, int, int]:
    """(apology notices, dossiers extended, dossier.apology entries)."""
    with ctx.engine.connect() as conn:

        def count(stmt: Select[tuple[int]]) -> int:
            return int(conn.execute(stmt).scalar_one())

        return (
            count(select(func.count()).select_from(notices).where(notices.c.kind == "apology")),
            count(
                select(func.count()).select_from(dossiers).where(dossiers.c.extension_count == 1)
            ),
            count(
                select(func.count())
                .select_from(audit_log)
                .where(audit_log.c.action == "dossier.apology")
            ),
        )


def test_an_apology_run_killed_inside_a_batch_is_finished_once_by_the_next_run(
    prefect_server: None, db_url: str, tmp_path: Path
) -> None:
    engine = open_engine(db_url)
    ctx = Context(engine, clock=FixedClock(dt.datetime(2024, 6, 3, 17, tzinfo=LOCAL_TZ)))
    found, _ = validate([DEFINITIONS])
    plan_service.load(ctx, found)
    for i in range(DOSSIERS):
        new = dossier_service.NewDossier(
            "SKHDT-DN-01",
            dossier_service.Applicant(f"Công ty số {i}"),
            dt.datetime(2024, 6, 3, 9, i, tzinfo=LOCAL_TZ),
        )
        received = dossier_service.receive(ctx, new, "lsn.dkkd.be-thi-huong")
        # A letter states the reason the handling unit declared.
        dossier_service.delay(ctx, int(received["id"]), "Cần xác minh", 2, "lsn.dkkd.ly-van-duc")
    out = tmp_path / "out"
    command = [
        "tests.support.cli",
        "--db",
        db_url,
        "flows",
        "apology",
        "--as-of",
        "2024-06-12",
        "--out",
        str(out),
        "--batch-size",
        str(BATCH),
        "--format",
        "json",
    ]

    proc, mark = spawn(tmp_path, *command, pause="INSERT INTO NOTICES")
    wait_for(mark, proc, timeout=180)  # frozen inside the second batch, before its commit
    kill_group(proc)
    consistent(ctx)  # every state has its entry, every entry its state change
    assert letters(ctx) == (BATCH, BATCH, BATCH)  # the first batch only, whole

    proc, _ = spawn(tmp_path, *command)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0
    assert len(json.loads(output)["letters"]) == DOSSIERS - BATCH
    consistent(ctx)
    assert letters(ctx) == (DOSSIERS, DOSSIERS, DOSSIERS)
    assert (
        len(list((out / "letters").rglob("*.html"))) == DOSSIERS
    )  # the killed batch's files rewritten, not doubled

    proc, _ = spawn(tmp_path, *command)  # once more: nothing new
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and json.loads(output)["letters"] == []
    assert letters(ctx) == (DOSSIERS, DOSSIERS, DOSSIERS)
    engine.dispose()
