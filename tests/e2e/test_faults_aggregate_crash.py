"""Crash safety of a report: a real `planflow flows aggregate` process SIGKILLed after it
stored the snapshot row, before its audit entry and commit. Nothing of it remains (no
snapshot without its entry, no entry without its snapshot); the next run stores exactly one
snapshot with its entry, and the chain verifies. (Asking again returns the stored snapshot:
tests/e2e/test_aggregate_cli.py.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from tests.e2e.test_faults_apology_crash import kill_group
from tests.e2e.test_faults_crash import ROOT, wait_for
from workflow.definitions.checks import validate
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import plans as plan_service
from workflow.store.engine import open_engine, reading
from workflow.store.tables import audit_log, report_snapshots

DEFINITIONS = ROOT / "definitions"


def spawn(
    tmp_path: Path, api_url: str, *args: str, pause: str | None = None
) -> tuple[subprocess.Popen[str], Path]:
    """A real process on the session's Prefect server (no temporary server of its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANFLOW_")}
    env["PREFECT_API_URL"] = api_url
    mark = tmp_path / f"paused-{time.monotonic_ns()}"
    if pause:
        env |= {
            "PLANFLOW_TEST_PAUSE_ON": pause,
            "PLANFLOW_TEST_PAUSE_AFTER": "1",
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


def counts(ctx: Context) -> tuple[int, int]:
    """(snapshots, report.snapshot entries)."""
    with reading(ctx.engine) as conn:
        snapshots = conn.execute(select(func.count()).select_from(report_snapshots)).scalar_one()
        entries = conn.execute(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.action == "report.snapshot")
        ).scalar_one()
    return int(snapshots), int(entries)


def test_a_report_killed_before_its_audit_entry_leaves_nothing_and_is_made_once(
    prefect_server: None, db_url: str, tmp_path: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    api_url = str(PREFECT_API_URL.value())
    engine = open_engine(db_url)
    ctx = Context(engine)
    found, _ = validate([DEFINITIONS])
    plan_service.load(ctx, found)
    command = [
        "tests.support.cli",
        "--db",
        db_url,
        "flows",
        "aggregate",
        "--org",
        "LSN-SKHDT",
        "--period",
        "2024",
        "--out",
        str(tmp_path / "out"),
        "--format",
        "json",
    ]

    proc, mark = spawn(tmp_path, api_url, *command, pause="INSERT INTO report_snapshots")
    wait_for(mark, proc, timeout=120)  # the row written, its audit entry not yet
    kill_group(proc)
    assert counts(ctx) == (0, 0)

    proc, _ = spawn(tmp_path, api_url, *command)
    output, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0
    report = json.loads(output)
    assert report["created"] is True and report["revision"] == 1
    assert counts(ctx) == (1, 1)
    assert audit_service.verify(ctx).ok

    engine.dispose()
