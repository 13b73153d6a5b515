"""Time goes forward: an entry is never dated before the one chained before it, whoever
appends it (the service, the recorder below it, SQL on the server), and verify and replay
name one that is."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text, update

from tests.integration.test_faults_tampering import owner, rehash_from
from tests.support import log
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.models import OrganisationSpec
from workflow.domain.audit_chain import Record
from workflow.domain.filters import AuditFilter
from workflow.domain.lifecycle import Move
from workflow.errors import InvalidInput
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import tasks as svc
from workflow.store.tables import audit_log

P = "so-test."


def a_task(ctx: Context) -> int:
    [task_id] = svc.create_tasks(ctx, [svc.NewTask("SO-TEST", "T.1", "Báo cáo", "QLDT")])
    return task_id


def test_a_move_dated_before_the_last_entry_is_refused_and_nothing_is_written(
    ctx: Context, agency: OrganisationSpec, clock: FixedClock
) -> None:
    task_id = a_task(ctx)
    svc.move(ctx, task_id, Move.START, P + "lan")
    clock.set(clock.now() - dt.timedelta(minutes=1))  # a clock that went back
    with pytest.raises(
        InvalidInput, match=r"is refused: the log's last entry is dated .*time goes"
    ):
        svc.move(ctx, task_id, Move.SUBMIT, P + "lan", note="Báo cáo")
    assert svc.get_task(ctx, task_id).version == 2  # the compare-and-set rolled back too
    clock.set(clock.now() + dt.timedelta(minutes=2))
    assert svc.move(ctx, task_id, Move.SUBMIT, P + "lan", note="Báo cáo").version == 3
    assert audit_service.verify(ctx).ok


@pytest.mark.parametrize("year", [1, 1999, 2100, 9999])
def test_years_outside_the_sane_range_are_refused(
    ctx: Context, agency: OrganisationSpec, clock: FixedClock, year: int
) -> None:
    task_id = a_task(ctx)
    clock.set(dt.datetime(year, 6, 1, 9, tzinfo=LOCAL_TZ))
    with pytest.raises(InvalidInput, match="entries are dated between 2000 and 2099"):
        svc.move(ctx, task_id, Move.START, P + "lan")
    assert svc.get_task(ctx, task_id).version == 1


def test_an_append_crafted_below_the_service_is_refused(
    ctx: Context, agency: OrganisationSpec, clock: FixedClock
) -> None:
    """The recorder itself dates entries under the chain's lock and refuses an earlier one,
    whatever its caller; so does PostgreSQL's append function, called by hand."""
    a_task(ctx)
    earlier = FixedClock(clock.now() - dt.timedelta(days=1))
    record = Record(actor=P + "lan", action="start", subject="task:1", task_id=1)
    with pytest.raises(InvalidInput, match="time goes forward"), ctx.uow.writing() as tx:
        tx.backend.recorder.append(tx.conn, [record], earlier)
    if ctx.engine.dialect.name == "postgresql":
        with ctx.engine.connect() as conn, pytest.raises(Exception, match="time goes forward"):
            conn.execute(
                text(
                    "SELECT planflow_append(1, :g, '2000-01-01T00:00:00.000000Z', 'x', NULL, "
                    "NULL, NULL, 'start', 'task:1', 1, NULL, NULL, NULL, '{}', NULL, NULL, "
                    "'a', 'b', 'c')"
                ),
                {"g": "0" * 64},
            )
    with ctx.engine.connect() as conn:
        assert log.query_on(conn, AuditFilter(action="start")) == []
    assert audit_service.verify(ctx).ok


def test_verify_and_replay_name_an_entry_dated_before_the_one_it_follows(
    ctx: Context, agency: OrganisationSpec, clock: FixedClock
) -> None:
    """A database owner re-dates a verify before its submit and re-hashes the chain from
    there: verify names the entry whose time goes backwards, replay the move that comes
    before the move that enabled it."""
    task_id = a_task(ctx)
    for move, who, note in (
        (Move.START, "lan", None),
        (Move.SUBMIT, "lan", "Báo cáo"),
        (Move.VERIFY, "office1", None),
    ):
        clock.advance(dt.timedelta(hours=1))
        svc.move(ctx, task_id, move, P + who, note=note)
    [submitted] = log.entries(ctx, action="submit")
    [verified] = log.entries(ctx, action="verify")
    backdated = "2024-03-01T01:00:00.000000Z"  # before the submit (02:00 UTC + 2 h)
    assert backdated < submitted["at"]
    with owner(ctx) as conn:
        conn.execute(
            update(audit_log).where(audit_log.c.seq == verified["seq"]).values(at=backdated)
        )
        rehash_from(conn, verified["seq"])
    result = audit_service.verify(ctx)
    assert (result.ok, result.first_bad_seq) == (False, verified["seq"])
    assert f"is dated {backdated}, before entry {submitted['seq']}" in (result.problem or "")
    replayed = audit_service.replay(ctx)
    assert [(p.seq, p.task) for p in replayed.log_problems] == [(verified["seq"], task_id)]
    assert "verify is dated" in replayed.log_problems[0].problem
