"""Crash safety of the inspection flow: a real `planflow flows inspect` process SIGKILLed
inside the draw's transaction, then inside a conclusion's. Nothing half written survives (no
draw without its tasks and audit entry, no notice without its fix tasks), and the next run
does the work exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tests.e2e.test_faults_apology_crash import DEFINITIONS, kill_group, spawn
from tests.e2e.test_faults_crash import consistent, wait_for
from workflow.clock import SystemClock, today_local
from workflow.definitions.checks import validate
from workflow.domain.lifecycle import Move
from workflow.services import Context
from workflow.services import inspection_records as records
from workflow.services import inspections as service
from workflow.services import plans as plan_service
from workflow.services import tasks as task_service
from workflow.store.engine import open_engine
from workflow.store.tables import audit_log, inspections, notices, tasks

ORG, INSPECTOR, OFFICE = "LSN-SKHDT", "lsn.ttr.lang-thi-mai", "lsn.vp.luong-thi-thu"


def counts(ctx: Context) -> tuple[int, int, int, int, int]:
    """(draws, inspection tasks, draw entries, conclusion notices, fix tasks)."""
    with ctx.uow.reading() as r:

        def count(stmt: Any) -> int:
            return int(r.conn.execute(stmt).scalar_one())

        return (
            count(select(func.count()).select_from(inspections)),
            count(select(func.count()).select_from(tasks).where(tasks.c.kind == "inspection")),
            count(
                select(func.count())
                .select_from(audit_log)
                .where(audit_log.c.action == "inspection.draw")
            ),
            count(select(func.count()).select_from(notices).where(notices.c.kind == "conclusion")),
            count(select(func.count()).select_from(tasks).where(tasks.c.kind == "fix")),
        )


def test_an_inspection_run_killed_mid_draw_and_mid_conclusion_is_finished_once(
    prefect_server: None, db_url: str, tmp_path: Path
) -> None:
    engine = open_engine(db_url)
    # The system's clock, as the spawned runs have: the log's entries go forward in time.
    ctx = Context(engine, clock=SystemClock())
    found, _ = validate([DEFINITIONS])
    plan_service.load(ctx, found)
    out = tmp_path / "out"
    command = [
        "tests.support.cli", "--db", db_url, "flows", "inspect", "--org", ORG,
        "--period", "2024Q2", "--seed", "4", "--as", INSPECTOR, "--out", str(out),
        "--format", "json",
    ]  # fmt: skip

    # Killed once the draw's audit entries are written (its tasks' entries, then its own:
    # one statement, after every row of the draw), before the commit.
    proc, mark = spawn(tmp_path, *command, pause="INSERT INTO AUDIT_LOG", pause_after=1)
    wait_for(mark, proc, timeout=180)
    kill_group(proc)
    consistent(ctx)
    assert counts(ctx) == (0, 0, 0, 0, 0)

    proc, _ = spawn(tmp_path, *command)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0
    drawn = json.loads(output)
    assert len(drawn["selected"]) == 2 and not drawn["existing"]  # ceil(0.3 × 6)
    assert counts(ctx) == (1, 2, 1, 0, 0)

    # Two records submitted and verified; the run that concludes them is killed inside the
    # second conclusion's notice insert (the batch is one transaction): neither survives.
    targets = service.show(ctx, drawn["inspection"])["targets"]
    due = (today_local(ctx.clock) + dt.timedelta(days=30)).isoformat()  # after the visit
    for item in drawn["tasks"][:2]:
        task_id = item["task"]
        ids = next(t["checklist"] for t in targets if t["task"] == task_id)
        task_service.move(ctx, task_id, Move.START, INSPECTOR)
        record = {
            "findings": [{"task": i, "compliant": False, "note": "Chậm tiến độ"} for i in ids],
            "fixes": [{"title": f"Khắc phục nhiệm vụ {i}", "due": due, "task": i} for i in ids],
            "strengths": ["Có kế hoạch triển khai"],
        }
        records.submit_record(ctx, task_id, INSPECTOR, record)
        task_service.move(ctx, task_id, Move.VERIFY, OFFICE)
    proc, mark = spawn(tmp_path, *command, pause="INSERT INTO NOTICES")
    wait_for(mark, proc, timeout=180)
    kill_group(proc)
    consistent(ctx)
    assert counts(ctx) == (1, 2, 1, 0, 0)

    proc, _ = spawn(tmp_path, *command)
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0
    result = json.loads(output)
    assert result["existing"] and len(result["conclusions"]) == 2
    fixes = sum(len(c["fix_tasks"]) for c in result["conclusions"])
    assert counts(ctx) == (1, 2, 1, 2, fixes)
    assert len(list(out.rglob("*.docx"))) == 2  # the killed run's files rewritten, not doubled

    proc, _ = spawn(tmp_path, *command)  # once more: nothing new
    output, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0 and json.loads(output)["conclusions"] == []
    assert counts(ctx) == (1, 2, 1, 2, fixes)
    engine.dispose()
