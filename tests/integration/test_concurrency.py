"""People acting at once, on real concurrent connections: one winner, no fork, no lost write."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from tests.conftest import agency_entries
from tests.support import log
from workflow.definitions.models import OrganisationSpec
from workflow.domain.filters import AuditFilter
from workflow.domain.lifecycle import Move, State
from workflow.errors import Conflict, PlanflowError
from workflow.services import Context
from workflow.services import tasks as svc
from workflow.store.tables import audit_log

P = "so-test."
WORKERS = 8


def test_same_task_same_moment_exactly_one_wins(ctx: Context, agency: OrganisationSpec) -> None:
    [task_id] = svc.create_tasks(ctx, [svc.NewTask("SO-TEST", "A.1", "Báo cáo", "QLDT")])
    seen = svc.get_task(ctx, task_id).version
    barrier = threading.Barrier(WORKERS)
    people = [P + "lan", P + "hung"] * (WORKERS // 2)

    def act(person: str) -> str:
        barrier.wait()  # everyone saw version 1 and presses the button together
        try:
            svc.move(ctx, task_id, Move.START, person, expected_version=seen)
            return "won"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = Counter(pool.map(act, people))
    assert outcomes == {"won": 1, "conflict": WORKERS - 1}
    task = svc.get_task(ctx, task_id)
    assert (task.state, task.version) == (State.IN_PROGRESS, 2)
    with ctx.engine.connect() as conn:
        starts = log.query_on(conn, AuditFilter(task_id=task_id, action="start"))
        assert len(starts) == 1  # nothing of the losers was written
        assert log.verify_on(conn).ok


def test_without_a_version_late_comers_are_refused_and_nothing_is_written(
    ctx: Context, agency: OrganisationSpec
) -> None:
    [task_id] = svc.create_tasks(ctx, [svc.NewTask("SO-TEST", "A.1", "Báo cáo", "QLDT")])
    barrier = threading.Barrier(WORKERS)

    def act(i: int) -> int:
        barrier.wait()
        try:
            svc.move(ctx, task_id, Move.START, P + "lan")
            return 0
        except PlanflowError as exc:
            return exc.exit_code

    with ThreadPoolExecutor(WORKERS) as pool:
        codes = Counter(pool.map(act, range(WORKERS)))
    assert codes[0] == 1
    assert set(codes) <= {0, 3, 5}  # the others: conflict, or "already in_progress"
    with ctx.engine.connect() as conn:
        assert len(log.query_on(conn, AuditFilter(task_id=task_id, action="start"))) == 1


def test_many_writers_on_many_tasks_never_fork_the_chain(
    ctx: Context, agency: OrganisationSpec
) -> None:
    ids = svc.create_tasks(
        ctx, [svc.NewTask("SO-TEST", f"T.{i}", f"Nhiệm vụ {i}", "QLDT") for i in range(WORKERS * 3)]
    )
    barrier = threading.Barrier(WORKERS)

    def work(worker: int) -> int:
        mine = ids[worker::WORKERS]
        barrier.wait()
        for task_id in mine:
            svc.move(ctx, task_id, Move.START, P + "lan")
            svc.move(ctx, task_id, Move.SUBMIT, P + "lan", note="xong")
            svc.move(ctx, task_id, Move.VERIFY, P + "office1")
        return len(mine) * 3

    with ThreadPoolExecutor(WORKERS) as pool:
        moves = sum(pool.map(work, range(WORKERS)))
    with ctx.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
        result = log.verify_on(conn)
    assert result.ok and result.checked == total == agency_entries() + len(ids) + moves
    assert all(svc.get_task(ctx, i).state is State.VERIFIED for i in ids)
