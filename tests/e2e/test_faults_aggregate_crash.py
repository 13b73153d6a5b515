"""Crash safety of a report: a real `planflow flows aggregate` process SIGKILLed after it
stored the snapshot row, before its audit entry and commit. Nothing of it remains (no
snapshot without its entry, no entry without its snapshot); the next run stores exactly one
snapshot with its entry, and the chain verifies. (Asking again returns the stored snapshot:
tests/e2e/test_aggregate_cli.py.)
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from tests.e2e.test_faults_apology_crash import kill_group, spawn
from tests.e2e.test_faults_crash import ROOT, wait_for
from workflow.definitions.checks import validate
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import plans as plan_service
from workflow.store.engine import open_engine
from workflow.store.tables import audit_log, report_snapshots

DEFINITIONS = ROOT / "definitions"


def counts(ctx: Context) -> tuple[int, int]:
    """(snapshots, report.snapshot entries)."""
    with ctx.uow.reading() as r:
        snapshots = r.conn.execute(select(func.count()).select_from(report_snapshots)).scalar_one()
        entries = r.conn.execute(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.action == "report.snapshot")
        ).scalar_one()
    return int(snapshots), int(entries)


def test_a_report_killed_before_its_audit_entry_leaves_nothing_and_is_made_once(
    prefect_server: None, db_url: str, tmp_path: Path
) -> None:
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

    proc, mark = spawn(tmp_path, *command, pause="INSERT INTO report_snapshots", pause_after=1)
    wait_for(mark, proc, timeout=120)  # the row written, its audit entry not yet
    kill_group(proc)
    assert counts(ctx) == (0, 0)

    proc, _ = spawn(tmp_path, *command)
    output, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0
    report = json.loads(output)
    assert report["created"] is True and report["revision"] == 1
    assert counts(ctx) == (1, 1)
    assert audit_service.verify(ctx).ok

    engine.dispose()
