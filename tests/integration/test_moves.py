"""Moves through the service layer on SQLite and PostgreSQL: state, version, audit, atomicity."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError

from tests.support import log
from workflow.definitions.models import OrganisationSpec
from workflow.domain.filters import AuditFilter
from workflow.domain.lifecycle import Move, State
from workflow.errors import Conflict, InvalidInput, MoveNotAllowed, NotFound, PermissionDenied
from workflow.services import Context
from workflow.services import tasks as svc
from workflow.store.tables import audit_log, tasks

P = "so-test."


def new_task(ctx: Context, code: str = "A.1", lead: str = "QLDT", **kw: object) -> int:
    [task_id] = svc.create_tasks(
        ctx,
        [
            svc.NewTask(
                "SO-TEST",
                code,
                f"Nhiệm vụ {code}",
                lead,
                due_date=dt.date(2024, 3, 31),
                cooperating_units=["VP", "DKKD"],
                deliverable="Báo cáo",
                **kw,
            )
        ],  # type: ignore[arg-type]
    )
    return task_id


def entries(ctx: Context) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def test_a_task_lives_its_whole_life_with_an_entry_per_move(
    ctx: Context, agency: OrganisationSpec
) -> None:
    task_id = new_task(ctx)
    steps = [
        (Move.START, P + "lan", None, State.IN_PROGRESS),
        (Move.SUBMIT, P + "lan", "Báo cáo quý I", State.SUBMITTED),
        (Move.RETURN, P + "office1", "Thiếu phụ lục số liệu", State.IN_PROGRESS),
        (Move.SUBMIT, P + "hung", "Báo cáo quý I, bổ sung phụ lục", State.SUBMITTED),
        (Move.VERIFY, P + "office1", None, State.VERIFIED),
        (Move.CLOSE, P + "leader", None, State.CLOSED),
    ]
    for version, (move, who, note, state) in enumerate(steps, start=2):
        ctx.clock.advance(dt.timedelta(hours=1))  # type: ignore[attr-defined]
        task = svc.move(ctx, task_id, move, who, note=note)
        assert (task.state, task.version) == (state, version)
        assert task == svc.get_task(ctx, task_id)  # the task a move returns is the stored one
    final = svc.get_task(ctx, task_id)
    assert final.returned_count == 1
    assert final.submitted_by == P + "hung"
    history = svc.history(ctx, task_id)
    assert [h["action"] for h in history] == ["task.create"] + [s[0].value for s in steps]
    assert [h["to_state"] for h in history[1:]] == [s[3].value for s in steps]
    assert [h["actor"] for h in history[1:]] == [s[1] for s in steps]
    assert history[3]["data"]["note"] == "Thiếu phụ lục số liệu"
    assert history[3]["role"] == "office" and history[3]["unit"] == "VP"
    assert history[1]["at"] == "2024-03-01T03:00:00.000000Z"  # 10:00 in Vietnam, stored UTC
    with ctx.engine.connect() as conn:
        assert log.verify_on(conn).ok


def test_the_task_a_move_returns_is_the_task_as_stored(
    ctx: Context, agency: OrganisationSpec
) -> None:
    """Without cooperating units, due date or plan too (the move builds it from its own row)."""
    [bare] = svc.create_tasks(ctx, [svc.NewTask("SO-TEST", "B.1", "Nhiệm vụ B.1", "QLDT")])
    started = svc.move(ctx, bare, Move.START, P + "lan")
    assert started == svc.get_task(ctx, bare)
    assert (started.cooperating_units, started.due_date, started.plan) == ([], None, None)
    assert started.updated_at is not None and started.updated_at.tzinfo is not None


@pytest.mark.parametrize(
    ("move", "who", "error"),
    [
        (Move.VERIFY, P + "office1", MoveNotAllowed),  # not submitted yet
        (Move.START, P + "mai", PermissionDenied),  # not the lead unit
        (Move.START, P + "auditor", PermissionDenied),
        (Move.START, "nobody", NotFound),
    ],
)
def test_a_refused_move_writes_nothing(
    ctx: Context, agency: OrganisationSpec, move: Move, who: str, error: type[Exception]
) -> None:
    task_id = new_task(ctx)
    before = entries(ctx)
    with pytest.raises(error):
        svc.move(ctx, task_id, move, who)
    assert svc.get_task(ctx, task_id).version == 1
    assert svc.get_task(ctx, task_id).state is State.ASSIGNED
    assert entries(ctx) == before


def test_submit_without_a_note_is_invalid_input(ctx: Context, agency: OrganisationSpec) -> None:
    task_id = new_task(ctx)
    svc.move(ctx, task_id, Move.START, P + "lan")
    with pytest.raises(InvalidInput, match="submit needs --note"):
        svc.move(ctx, task_id, Move.SUBMIT, P + "lan", note="  ")
    assert svc.get_task(ctx, task_id).state is State.IN_PROGRESS


def test_reassign_moves_the_task_to_another_unit(ctx: Context, agency: OrganisationSpec) -> None:
    task_id = new_task(ctx)
    svc.move(ctx, task_id, Move.START, P + "lan")
    with pytest.raises(NotFound, match="unit 'XYZ' does not exist"):
        svc.move(ctx, task_id, Move.REASSIGN, P + "office2", note="x", to_unit="XYZ")
    task = svc.move(
        ctx, task_id, Move.REASSIGN, P + "office2", note="Đúng chức năng", to_unit="DKKD"
    )
    assert (task.state, task.lead_unit) == (State.ASSIGNED, "DKKD")
    with pytest.raises(PermissionDenied):
        svc.move(ctx, task_id, Move.START, P + "lan")  # QLDT no longer leads it
    assert svc.move(ctx, task_id, Move.START, P + "mai").state is State.IN_PROGRESS
    [entry] = [h for h in svc.history(ctx, task_id) if h["action"] == "reassign"]
    assert entry["data"]["from_unit"] == "QLDT" and entry["data"]["to_unit"] == "DKKD"


def test_a_stale_version_is_a_conflict_and_writes_nothing(
    ctx: Context, agency: OrganisationSpec
) -> None:
    task_id = new_task(ctx)
    svc.move(ctx, task_id, Move.START, P + "lan", expected_version=1)
    before = entries(ctx)
    with pytest.raises(Conflict, match="you saw version 1, it is now version 2, in_progress"):
        svc.move(ctx, task_id, Move.SUBMIT, P + "lan", note="x", expected_version=1)
    assert entries(ctx) == before and svc.get_task(ctx, task_id).version == 2


@contextmanager
def audit_appends_refused(engine: Engine, message: str) -> Iterator[None]:
    """A real fault in the database: every INSERT into audit_log fails (a full disk, say)."""
    if engine.dialect.name == "sqlite":
        install = [
            "CREATE TRIGGER test_refuse_appends BEFORE INSERT ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        ]
        remove = ["DROP TRIGGER test_refuse_appends"]
    else:
        install = [
            "CREATE FUNCTION test_refuse_appends() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$",
            "CREATE TRIGGER test_refuse_appends BEFORE INSERT ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse_appends()",
        ]
        remove = [
            "DROP TRIGGER test_refuse_appends ON audit_log",
            "DROP FUNCTION test_refuse_appends()",
        ]
    with engine.begin() as conn:
        for sql in install:
            conn.exec_driver_sql(sql)
    try:
        yield
    finally:
        with engine.begin() as conn:
            for sql in remove:
                conn.exec_driver_sql(sql)


@pytest.mark.parametrize("expected_version", [None, 1])
def test_a_failing_audit_append_rolls_the_move_back(
    ctx: Context, agency: OrganisationSpec, expected_version: int | None
) -> None:
    """The compare-and-set went through, then the database refused the entry: neither stays,
    and the connection is fit for the next move."""
    task_id = new_task(ctx)
    before = entries(ctx)
    with audit_appends_refused(ctx.engine, "disk full while appending"):
        for _ in range(2):  # the same pooled connection, twice
            with pytest.raises(DBAPIError, match="disk full while appending"):
                svc.move(ctx, task_id, Move.START, P + "lan", expected_version=expected_version)
            task = svc.get_task(ctx, task_id)
            assert (task.state, task.version) == (State.ASSIGNED, 1)
            assert entries(ctx) == before
    assert svc.move(ctx, task_id, Move.START, P + "lan").version == 2
    assert entries(ctx) == before + 1


def test_people_of_another_agency_cannot_act(ctx: Context, agency: OrganisationSpec) -> None:
    from tests.conftest import small_agency
    from workflow.services import organisations

    organisations.upsert_organisation(ctx, small_agency("SO-KHAC"))
    task_id = new_task(ctx)
    svc.move(ctx, task_id, Move.START, P + "lan")
    svc.move(ctx, task_id, Move.SUBMIT, P + "lan", note="xong")
    with pytest.raises(PermissionDenied, match="belongs to SO-KHAC"):
        svc.move(ctx, task_id, Move.VERIFY, "so-khac.office1")


def test_listing_filters(ctx: Context, agency: OrganisationSpec) -> None:
    from workflow.domain.filters import TaskFilter

    a = new_task(ctx, "A.1")
    b = new_task(ctx, "A.2", lead="DKKD")
    svc.move(ctx, b, Move.START, P + "mai")
    assert [t.id for t in svc.list_tasks(ctx, TaskFilter(unit="DKKD"))] == [b]
    assert [t.id for t in svc.list_tasks(ctx, TaskFilter(state=State.ASSIGNED))] == [a]
    overdue = svc.list_tasks(ctx, TaskFilter(overdue_on=dt.date(2024, 4, 1)))
    assert {t.id for t in overdue} == {a, b}
    assert svc.list_tasks(ctx, TaskFilter(overdue_on=dt.date(2024, 3, 31))) == []


def test_task_rows_keep_their_version_column_in_step(
    ctx: Context, agency: OrganisationSpec
) -> None:
    task_id = new_task(ctx)
    svc.move(ctx, task_id, Move.START, P + "lan")
    with ctx.engine.connect() as conn:
        version = conn.execute(select(tasks.c.version).where(tasks.c.id == task_id)).scalar_one()
        last = log.query_on(conn, AuditFilter(task_id=task_id))[-1]
    assert version == 2 and last["data"]["version"] == 2
