"""Contention: 16 processes make random moves on 50 shared tasks for a fixed time.

Each process reports every attempt's exit code and every move that succeeded, with the
version it produced. From those reports alone the database must follow exactly: for every
task, the successful moves' versions are 2, 3, ..., N+1 with no gap and no repeat (no lost
update: two winners at one version would repeat it), the stored version is N+1, the stored
state is the state the last of them produced, and the task's audit entries are those moves in
that order. The chain verifies, is contiguous and is exactly as long as the reports say, and
`audit replay` finds nothing. CI runs a few seconds per backend; `--long` a minute.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import agency_entries, small_agency
from tests.support import log
from workflow.cli.main import run
from workflow.definitions.models import OrganisationSpec
from workflow.domain.filters import AuditFilter
from workflow.services import Context
from workflow.services import organisations as org_service
from workflow.services import tasks as svc

ROOT = Path(__file__).resolve().parents[2]
WORKERS, TASKS = 16, 50
ALLOWED_CODES = {"0", "2", "3", "4", "5"}
OUTSIDER = "so-khac.lan"  # a person of another agency


def run_contention(db_url: str, out: Path, seconds: float, seed: int) -> list[dict[str, Any]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.support.contention",
            db_url,
            str(out),
            str(WORKERS),
            str(seconds),
            str(seed),
            OUTSIDER,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    reports = [json.loads(p.read_text()) for p in sorted(out.glob("worker-*.json"))]
    assert len(reports) == WORKERS
    return reports


def test_sixteen_processes_fifty_tasks_no_lost_update_no_fork(
    ctx: Context,
    agency: OrganisationSpec,
    db_url: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    org_service.upsert_organisation(ctx, small_agency("SO-KHAC"))
    ids = svc.create_tasks(
        ctx, [svc.NewTask("SO-TEST", f"C.{i}", f"Nhiệm vụ {i}", "QLDT") for i in range(TASKS)]
    )
    seconds = 60.0 if request.config.getoption("--long") else 3.0
    reports = run_contention(db_url, tmp_path, seconds, seed=len(db_url))

    # Every attempt is accounted for, with a documented exit code (never 1: a bug).
    codes: Counter[str] = Counter()
    for report in reports:
        assert report["unexpected"] == [], report["unexpected"]
        assert sum(report["codes"].values()) == report["attempts"]
        codes.update(report["codes"])
    assert set(codes) <= ALLOWED_CODES, codes
    assert codes["0"] > 0 and codes["5"] > 0, codes  # moves happened, and people collided

    won: dict[int, list[list[Any]]] = defaultdict(list)
    for report in reports:
        for task_id, move, version, actor, state in report["successes"]:
            won[task_id].append([move, version, actor, state])
    assert sum(len(w) for w in won.values()) == codes["0"]

    with ctx.engine.connect() as conn:
        for task_id in ids:
            mine = sorted(won[task_id], key=lambda w: w[1])
            stored = svc.get_task(ctx, task_id)
            # No lost update: one winner per version, no gap, and the row counts them all.
            assert [w[1] for w in mine] == list(range(2, len(mine) + 2)), (task_id, mine)
            assert stored.version == len(mine) + 1
            assert stored.state.value == (mine[-1][3] if mine else "assigned")
            entries = [
                [e["action"], e["data"]["version"], e["actor"], e["to_state"]]
                for e in log.query_on(conn, AuditFilter(task_id=task_id))
                if e["action"] != "task.create"
            ]
            assert entries == mine, task_id
        result = log.verify_on(conn)
    # No fork: one contiguous chain holding exactly the two organisations (their loads and
    # role grants), the tasks and every reported success.
    assert result.ok, result.problem
    loads = agency_entries() + agency_entries(small_agency("SO-KHAC"))
    assert result.checked == result.head_seq == loads + TASKS + codes["0"]

    capsys.readouterr()
    assert run(["--db", db_url, "audit", "replay", "--format", "json"]) == 0
    replay = json.loads(capsys.readouterr().out)
    assert replay["ok"] and replay["tasks_checked"] == TASKS and replay["mismatches"] == []
