"""Crash safety: real processes SIGKILLed in the middle of their work, on both backends.

Two ways to kill. Deterministic: the process runs with the pause hook (tests/support/pause.py),
which freezes it right after a given statement executed inside its transaction (a task row
updated but its audit entry not yet written; or 1,000 of 5,000 tasks inserted), and the test
kills it there. A move on PostgreSQL is one statement, a transaction by itself: there the
process is held just before it sends it, the test takes a lock that a trigger of its own makes
the statement wait for right after the task's UPDATE (or the entry's INSERT), lets it go, and
kills both the process and its server backend while the statement waits there. Random: the unmodified program is killed after a random number of moves or a
random delay, wherever it happens to be. Afterwards, always: every task's state has its audit
entry and every entry its state change (`audit replay`), the chain verifies, and running the
interrupted command again finishes the work without duplicating any of it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from tests.e2e.conftest import ROOT
from workflow.cli.main import run
from workflow.definitions.models import OrganisationSpec
from workflow.domain.audit_chain import Verification
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import tasks as svc
from workflow.store.tables import audit_log, organisations, plans, tasks

P = "so-test."
TASKS = 30
PATH = ["task.create", "start", "submit", "verify", "close"]


# ------------------------------------------------------------------ helpers


def spawn(
    tmp_path: Path, *args: str, pause: tuple[str, int] | None = None, resume: Path | None = None
) -> tuple[subprocess.Popen[str], Path]:
    """Start a real process (stdout piped); with `pause`, it freezes inside a transaction
    (with `resume`: before the statement is sent, until that file exists)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANFLOW_")}
    mark = tmp_path / f"paused-{time.monotonic_ns()}"
    if pause:
        env |= {
            "PLANFLOW_TEST_PAUSE_ON": pause[0],
            "PLANFLOW_TEST_PAUSE_AFTER": str(pause[1]),
            "PLANFLOW_TEST_PAUSE_MARK": str(mark),
        }
    if resume:
        env |= {"PLANFLOW_TEST_PAUSE_BEFORE": "1", "PLANFLOW_TEST_PAUSE_RESUME": str(resume)}
    with open(tmp_path / f"stderr-{time.monotonic_ns()}", "w") as stderr:  # kept for a look
        proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    return proc, mark


def wait_for(mark: Path, proc: subprocess.Popen[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not mark.exists():
        assert proc.poll() is None, f"the process ended (exit {proc.returncode}) before pausing"
        assert time.monotonic() < deadline, "the process never reached the pause point"
        time.sleep(0.02)


def kill(proc: subprocess.Popen[str]) -> str:
    """SIGKILL: no handler runs, no rollback is sent; returns what it had printed."""
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode in (-signal.SIGKILL, 0), proc.returncode
    return out


# A move on PostgreSQL: its one statement, held on the server right after a given step.
PG_MOVE = "WITH changed AS (UPDATE tasks"
PG_HOLD = 0x7465737400  # the test's own advisory lock
AFTER_STEP = {"UPDATE tasks": "UPDATE ON tasks", "INSERT INTO audit_log": "INSERT ON audit_log"}


@contextmanager
def held_on_server(engine: Engine, point: str) -> Iterator[None]:
    """While inside: a trigger makes every statement wait for PG_HOLD right after `point`
    (free until `killed_inside` takes it)."""
    table = AFTER_STEP[point].split()[-1]
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN PERFORM pg_advisory_xact_lock({PG_HOLD}); RETURN NULL; END $$"
            )
        )
        conn.execute(
            text(
                f"CREATE TRIGGER test_hold AFTER {AFTER_STEP[point]} "
                "FOR EACH ROW EXECUTE FUNCTION test_hold()"
            )
        )
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TRIGGER test_hold ON {table}"))
            conn.execute(text("DROP FUNCTION test_hold()"))


def killed_inside(engine: Engine, proc: subprocess.Popen[str], mark: Path, resume: Path) -> str:
    """The process paused before sending its move: hold PG_HOLD, let the move go until it
    waits for it on the server (inside its transaction), then SIGKILL the process and
    terminate its backend: a crash on both sides. Returns what the process printed."""
    wait_for(mark, proc)
    with engine.connect() as holder:
        holder.execute(text(f"SELECT pg_advisory_lock({PG_HOLD})"))
        resume.touch()
        waiting = text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
        )
        deadline = time.monotonic() + 60
        while not (pids := list(holder.execute(waiting).scalars())):
            assert time.monotonic() < deadline, "the move never reached the held step"
            time.sleep(0.01)
        out = kill(proc)
        for pid in pids:
            holder.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
        holder.execute(text(f"SELECT pg_advisory_unlock({PG_HOLD})"))
        holder.commit()
    return out


def consistent(ctx: Context) -> Verification:
    """Every state has its entry, every entry its state change, and the chain is whole."""
    report = audit_service.replay(ctx)
    assert report.ok, report.as_json()
    result = audit_service.verify(ctx)
    assert result.ok, result.problem
    return result


def actions_by_task(ctx: Context) -> dict[int, list[str]]:
    with ctx.uow.reading() as r:
        conn = r.conn
        out: dict[int, list[str]] = {}
        for row in conn.execute(
            select(audit_log.c.task_id, audit_log.c.action)
            .where(audit_log.c.task_id.is_not(None))
            .order_by(audit_log.c.seq)
        ):
            out.setdefault(row.task_id, []).append(row.action)
        return out


def check_moves(ctx: Context) -> int:
    """The log is consistent and each task's entries are a prefix of the path, once each."""
    consistent(ctx)
    moves = 0
    for task_id, actions in actions_by_task(ctx).items():
        assert actions == PATH[: len(actions)], (task_id, actions)
        assert svc.get_task(ctx, task_id).version == len(actions)
        moves += len(actions) - 1
    return moves


# ------------------------------------------------------------------ a batch of moves


@pytest.fixture
def thirty(ctx: Context, agency: OrganisationSpec) -> list[int]:
    return svc.create_tasks(
        ctx, [svc.NewTask("SO-TEST", f"K.{i}", f"Nhiệm vụ {i}", "QLDT") for i in range(TASKS)]
    )


def finish_loop(tmp_path: Path, db_url: str, ctx: Context, already: int) -> None:
    """Run the loop again, to the end: it resumes from the stored states."""
    proc, _ = spawn(tmp_path, "tests.support.move_loop", db_url, P)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, out
    assert out.splitlines()[-1] == f"done {4 * TASKS - already}"
    assert check_moves(ctx) == 4 * TASKS
    assert all(actions == PATH for actions in actions_by_task(ctx).values())
    assert {svc.get_task(ctx, i).state.value for i in range(1, TASKS + 1)} == {"closed"}


@pytest.mark.parametrize("point", ["UPDATE tasks", "INSERT INTO audit_log"])
def test_a_batch_killed_inside_a_move_leaves_no_trace_of_it(
    point: str, ctx: Context, thirty: list[int], db_url: str, tmp_path: Path
) -> None:
    # Frozen inside the 7th move: its task row changed (and, at the second point, its entry
    # written) but not committed. Six moves are committed and printed.
    loop = ("tests.support.move_loop", db_url, P)
    if ctx.engine.dialect.name == "postgresql":
        resume = tmp_path / "resume"
        with held_on_server(ctx.engine, point):
            proc, mark = spawn(tmp_path, *loop, pause=(PG_MOVE, 7), resume=resume)
            out = killed_inside(ctx.engine, proc, mark, resume)
    else:
        proc, mark = spawn(tmp_path, *loop, pause=(point, 7))
        wait_for(mark, proc)
        out = kill(proc)
    printed = [line for line in out.splitlines() if line.startswith("moved")]
    assert len(printed) == 6
    assert check_moves(ctx) == 6
    seventh = svc.get_task(ctx, thirty[1])  # #1 closed (4 moves); #2 started, submitted
    assert (seventh.state.value, seventh.version) == ("submitted", 3)
    finish_loop(tmp_path, db_url, ctx, already=6)


def test_a_batch_killed_at_random_moments_resumes_without_duplicates(
    ctx: Context, thirty: list[int], db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    rng = random.Random(len(db_url))
    done = 0
    for _ in range(8 if request.config.getoption("--long") else 3):
        proc, _ = spawn(tmp_path, "tests.support.move_loop", db_url, P)
        assert proc.stdout is not None
        wanted, seen = rng.randint(2, 12), 0
        while seen < wanted:
            line = proc.stdout.readline()
            assert line, "the loop ended early"
            seen += line.startswith("moved")
        kill(proc)  # somewhere in the next move: reading, deciding, writing or committing
        moves = check_moves(ctx)
        assert moves >= done + wanted
        done = moves
    finish_loop(tmp_path, db_url, ctx, already=done)


# ------------------------------------------------------------------ single CLI calls


def test_killed_cli_moves_are_all_or_nothing_and_a_rerun_does_them_once(
    ctx: Context,
    thirty: list[int],
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def start(task_id: int) -> list[str]:
        return ["tasks", "start", str(task_id), "--as", P + "lan", "--db", db_url]

    # Frozen inside the transaction, after the task row's update or after the entry.
    for task_id, point in ((thirty[0], "UPDATE tasks"), (thirty[1], "INSERT INTO audit_log")):
        cli = ("tests.support.cli", *start(task_id))
        if ctx.engine.dialect.name == "postgresql":
            resume = tmp_path / f"resume-{task_id}"
            with held_on_server(ctx.engine, point):
                proc, mark = spawn(tmp_path, *cli, pause=(PG_MOVE, 1), resume=resume)
                killed_inside(ctx.engine, proc, mark, resume)
        else:
            proc, mark = spawn(tmp_path, *cli, pause=(point, 1))
            wait_for(mark, proc)
            kill(proc)
        task = svc.get_task(ctx, task_id)
        assert (task.state.value, task.version) == ("assigned", 1)
        assert actions_by_task(ctx)[task_id] == ["task.create"]
        consistent(ctx)
    # The unmodified CLI, killed after a random delay: during start-up, the move, or after.
    rng = random.Random(len(db_url) + 1)
    for task_id in thirty[2:4]:
        proc, _ = spawn(tmp_path, "workflow.cli", *start(task_id))
        time.sleep(rng.uniform(0.5, 1.5))
        kill(proc)
        consistent(ctx)
    # Running each command again: it is done now, or it was done and is refused (exit 3).
    codes = Counter()
    for task_id in thirty[:4]:
        codes[run(start(task_id))] += 1
        assert run(start(task_id)) == 3  # never twice
        assert actions_by_task(ctx)[task_id] == ["task.create", "start"]
    assert codes[0] >= 2 and set(codes) <= {0, 3}
    capsys.readouterr()
    consistent(ctx)


# ------------------------------------------------------------------ a large plan load

ROWS = 1250  # each quarterly: 5,000 tasks


def write_large_plan(folder: Path) -> Path:
    (folder / "plans").mkdir(parents=True)
    (folder / "organisation.yaml").write_text(
        """kind: organisation
code: SO-LON
name: Sở Thử nghiệm tải lớn
province: Quảng Nam
office_unit: VP
units:
  - {code: VP, name: Văn phòng Sở}
  - {code: QLDT, name: Phòng Quản lý đầu tư}
people:
  - {id: so-lon.lan, name: Trần Thị Lan, unit: QLDT, roles: [staff]}
  - {id: so-lon.an, name: Nguyễn Văn An, unit: VP, roles: [office]}
""",
        encoding="utf-8",
    )
    rows = "\n".join(
        f'  - {{code: "T.{i}", title: "Nhiệm vụ cải cách hành chính số {i}", '
        "category: papi.transparency, lead_unit: QLDT, cooperating_units: [VP], "
        "schedule: {periodic: quarterly}}"
        for i in range(ROWS)
    )
    (folder / "plans" / "large.yaml").write_text(
        "kind: plan\nid: so-lon-large-2025\norganisation: SO-LON\n"
        "title: Kế hoạch thử tải 5.000 nhiệm vụ\nissuer: Sở Thử nghiệm tải lớn\n"
        f"period: {{start: 2025-01-01, end: 2025-12-31}}\ntasks:\n{rows}\n",
        encoding="utf-8",
    )
    return folder


def counts(ctx: Context) -> dict[str, Any]:
    with ctx.uow.reading() as r:
        conn = r.conn

        def n(table: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

        head = audit_service.verify(ctx)
        return {
            "organisations": n(organisations),
            "plans": n(plans),
            "tasks": n(tasks),
            "entries": n(audit_log),
            "head": head.head_hash,
        }


def test_a_plan_load_killed_while_writing_loads_nothing_and_a_rerun_loads_it_once(
    ctx: Context, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    defs = write_large_plan(tmp_path / "defs")
    empty = counts(ctx)
    load = ["plans", "load", str(defs), "--db", db_url, "--format", "json"]
    # Frozen after the second batch of task rows (2,000 of 5,000) went into the transaction.
    proc, mark = spawn(tmp_path, "tests.support.cli", *load, pause=("INSERT INTO tasks", 2))
    wait_for(mark, proc)
    kill(proc)
    assert counts(ctx) == empty  # all or nothing: not even the organisation
    consistent(ctx)
    # The unmodified CLI, killed after a random delay: validating, writing, or done.
    proc, _ = spawn(tmp_path, "workflow.cli", *load)
    time.sleep(random.Random(len(db_url)).uniform(1.0, 4.0))
    kill(proc)
    after = counts(ctx)
    assert after == empty or (after["tasks"], after["plans"]) == (4 * ROWS, 1), after
    consistent(ctx)
    # Again, to the end: the same result as a load never interrupted.
    capsys.readouterr()
    assert run(load) == 0
    outcome = {o["kind"]: o for o in json.loads(capsys.readouterr().out)}
    full = counts(ctx)
    assert (full["organisations"], full["plans"], full["tasks"]) == (1, 1, 4 * ROWS)
    # the organisation, its two role grants, the plan, its tasks
    assert full["entries"] == empty["entries"] + 1 + 2 + 1 + 4 * ROWS
    assert outcome["plan"]["tasks_created"] in (0, 4 * ROWS)
    consistent(ctx)
    # And once more: nothing changes, nothing is duplicated.
    assert run(load) == 0
    assert counts(ctx) == full
