"""Task use cases: create, move through the lifecycle, list, show, history."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from workflow import audit
from workflow.clock import today_local
from workflow.domain.lifecycle import Decision, Move, MoveRequest, State, decide
from workflow.domain.roles import Actor
from workflow.domain.tasks import TaskView
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.services.context import Context
from workflow.store import repo
from workflow.store.engine import connected, read_alone, reading, write_transaction, writing


@dataclass(frozen=True)
class NewTask:
    organisation: str
    code: str
    title: str
    lead_unit: str
    plan: str | None = None
    kind: str = "plan"
    period: str = ""
    category: str | None = None
    due_date: dt.date | None = None
    cooperating_units: list[str] = field(default_factory=list)
    schedule_text: str | None = None
    deliverable: str | None = None
    target: str | None = None
    since_plan_version: int | None = None
    parent_task: int | None = None


def insert_new_tasks(
    conn: Connection, ctx: Context, new: Sequence[NewTask], *, actor: str, role: str, reason: str
) -> list[int]:
    """Insert tasks and their creation entries inside the caller's transaction."""
    now = ctx.clock.now()
    for organisation, unit in dict.fromkeys((t.organisation, t.lead_unit) for t in new):
        if not repo.unit_exists(conn, organisation, unit):
            raise NotFound(f"unit {unit!r} does not exist in {organisation}")
    ids = repo.insert_tasks(
        conn,
        [
            {
                "organisation": t.organisation,
                "plan_id": t.plan,
                "kind": t.kind,
                "code": t.code,
                "period": t.period,
                "title": t.title,
                "category": t.category,
                "lead_unit": t.lead_unit,
                "cooperating_units": json.dumps(t.cooperating_units, ensure_ascii=False),
                "schedule_text": t.schedule_text,
                "deliverable": t.deliverable,
                "target": t.target,
                "due_date": t.due_date,
                "state": State.ASSIGNED.value,
                "version": 1,
                "returned_count": 0,
                "since_plan_version": t.since_plan_version,
                "parent_task": t.parent_task,
                "created_at": now,
                "updated_at": now,
            }
            for t in new
        ],
    )
    audit.append_many(
        conn,
        [
            audit.Record(
                actor=actor,
                role=role,
                organisation=t.organisation,
                action="task.create",
                subject=f"task:{task_id}",
                task_id=task_id,
                plan_id=t.plan,
                to_state=State.ASSIGNED.value,
                data={
                    "code": t.code,
                    "period": t.period,
                    "lead_unit": t.lead_unit,
                    "due_date": t.due_date.isoformat() if t.due_date else None,
                    "reason": reason,
                    **({"parent_task": t.parent_task} if t.parent_task is not None else {}),
                },
            )
            for task_id, t in zip(ids, new, strict=True)
        ],
        now,
    )
    return ids


def create_tasks(ctx: Context, new: Sequence[NewTask], *, reason: str = "created") -> list[int]:
    with writing(ctx.engine) as conn:
        return insert_new_tasks(conn, ctx, new, actor=ctx.operator, role="admin", reason=reason)


def get_task(ctx: Context, task_id: int) -> TaskView:
    with reading(ctx.engine) as conn:
        return _require(conn, task_id)


def _require(conn: Connection, task_id: int) -> TaskView:
    task = repo.get_task(conn, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    return task


def list_tasks(ctx: Context, where: repo.TaskFilter) -> list[TaskView]:
    with reading(ctx.engine) as conn:
        return repo.list_tasks(conn, where)


def overdue_filter(ctx: Context) -> dt.date:
    return today_local(ctx.clock)


def history(ctx: Context, task_id: int) -> list[dict[str, Any]]:
    with reading(ctx.engine) as conn:
        _require(conn, task_id)
        return audit.query(conn, audit.AuditFilter(task_id=task_id))


def move(
    ctx: Context,
    task_id: int,
    which: Move,
    actor_id: str,
    *,
    note: str | None = None,
    to_unit: str | None = None,
    expected_version: int | None = None,
) -> TaskView:
    """Make one move: check it, compare-and-set the task, append its audit entry, commit.

    `expected_version` is the version the person saw. Without it, the task is read first,
    in a statement of its own, as a person would look at it before acting: when several act
    at once, exactly one wins and the others get a Conflict, on every backend.
    """
    # One connection checkout for the look and the move (a checkout costs as much as a
    # statement). The look is a statement of its own, before the move's re-read: on SQLite
    # it runs alone before the transaction (whose BEGIN IMMEDIATE waits for the write lock,
    # so a look inside it would only ever see the last writer's result). On PostgreSQL it is
    # the transaction's first statement and goes in the round trip of its BEGIN and the
    # re-read: under READ COMMITTED each statement reads what was committed when it starts,
    # exactly what a transaction of its own would read, and reads never wait for writers.
    with connected(ctx.engine) as conn:
        first = [repo.move_subject_statement(task_id, actor_id)]
        look_inside = expected_version is None and conn.dialect.name == "postgresql"
        if look_inside:
            first.insert(0, (repo.TASK_VERSION, (task_id,)))
        elif expected_version is None:
            expected_version = _version_seen(
                read_alone(conn, repo.TASK_VERSION, (task_id,)), task_id
            )
        with write_transaction(conn, first) as cursors:
            if look_inside:
                look = cursors.pop(0)
                expected_version = _version_seen(look.fetchall(), task_id)
                look.close()
            assert expected_version is not None
            task, actor = repo.move_subject_result(cursors[0], actor_id)
            done = _apply(
                conn, ctx, task_id, which, actor_id, expected_version, task, actor, note, to_unit
            )
    log_move(ctx, done)
    return done.task


@dataclass(frozen=True, slots=True)
class MoveDone:
    """A move applied inside a transaction: the task as it now is, and what was decided."""

    task: TaskView
    decision: Decision
    actor: Actor
    seq: int  # the audit entry's sequence number


# Kinds of task whose submission carries a document and goes through its own use case.
SUBMITTED_ELSEWHERE = {"inspection": "planflow inspections record"}


def apply_move(
    conn: Connection,
    ctx: Context,
    task_id: int,
    which: Move,
    actor_id: str,
    expected_version: int,
    *,
    note: str | None = None,
    to_unit: str | None = None,
    data: dict[str, Any] | None = None,
    via: str | None = None,
) -> MoveDone:
    """The move inside the caller's transaction (the caller commits, then `log_move`).

    `data` adds to the audit entry; `via` names the use case that carries a document with a
    submission (inspection records), which plain `move` must not bypass.
    """
    # What the rules and the entry need; the whole row comes back from the compare-and-set.
    task, actor = repo.get_move_subject(conn, task_id, actor_id)
    return _apply(
        conn, ctx, task_id, which, actor_id, expected_version, task, actor, note, to_unit,
        data=data, via=via,
    )  # fmt: skip


def _apply(
    conn: Connection,
    ctx: Context,
    task_id: int,
    which: Move,
    actor_id: str,
    expected_version: int,
    task: repo.MoveSubject | None,
    actor: Actor | None,
    note: str | None,
    to_unit: str | None,
    *,
    data: dict[str, Any] | None = None,
    via: str | None = None,
) -> MoveDone:
    """`apply_move` once the task and the person are read (`repo.get_move_subject`)."""
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    if actor is None:
        raise NotFound(f"person {actor_id!r} does not exist")
    if task.version != expected_version:
        raise _conflict(task, expected_version)
    decision = decide(task.facts(), actor, MoveRequest(which, note, to_unit))
    elsewhere = SUBMITTED_ELSEWHERE.get(task.kind)
    if which is Move.SUBMIT and elsewhere and via != task.kind:
        raise InvalidInput(
            f"task {task.id} is an {task.kind} task: submit it with its record, "
            f"`{elsewhere} {task.id} --file RECORD --as PERSON`"
        )
    if which is Move.REASSIGN and not repo.unit_exists(conn, task.organisation, decision.lead_unit):
        raise NotFound(f"unit {decision.lead_unit!r} does not exist in {task.organisation}")
    now = ctx.clock.now()
    values: dict[str, Any] = {"state": decision.to_state.value, "updated_at": now}
    if which is Move.SUBMIT:
        values["submitted_by"] = actor.id
    elif which is Move.RETURN:
        values["returned_count"] = task.returned_count + 1
    elif which is Move.VERIFY:
        values["completed_at"] = now
    elif which is Move.REASSIGN:
        values["lead_unit"] = decision.lead_unit
        values["submitted_by"] = None
    entry: dict[str, Any] = {"version": expected_version + 1}
    if note:
        entry["note"] = note.strip()
    if which is Move.REASSIGN:
        entry["from_unit"], entry["to_unit"] = task.lead_unit, decision.lead_unit
    if data:
        entry.update(data)
    record = audit.Record(
        actor=actor.id,
        role=decision.role.value,
        unit=actor.unit,
        organisation=task.organisation,
        action=which.value,
        subject=f"task:{task.id}",
        task_id=task.id,
        plan_id=task.plan,
        from_state=decision.from_state.value,
        to_state=decision.to_state.value,
        data=entry,
    )
    # The compare-and-set, then the chain's lock and head: one round trip on PostgreSQL.
    # The UPDATE returns the row as it now is: no second read.
    [changed], head = audit.lock_after(
        conn, [repo.compare_and_set_statement(conn, task.id, expected_version, values)]
    )
    updated = repo.compare_and_set_result(conn, changed)
    if updated is None:
        current = repo.get_task(conn, task.id)
        raise _conflict(current or task, expected_version)
    stored = audit.append(conn, record, now, head=head)
    return MoveDone(updated, decision, actor, int(stored["seq"]))


def log_move(ctx: Context, done: MoveDone) -> None:
    """One structured event per state change, once it is committed."""
    ctx.log.info(
        "task.transition",
        task=done.task.id,
        code=done.task.code,
        move=done.decision.move.value,
        actor=done.actor.id,
        role=done.decision.role.value,
        **{"from": done.decision.from_state.value, "to": done.decision.to_state.value},
    )


def _version_seen(rows: list[tuple[Any, ...]], task_id: int) -> int:
    """The version of the task as the person's look (`repo.TASK_VERSION`) found it."""
    if not rows:
        raise NotFound(f"task {task_id} does not exist")
    return int(rows[0][0])


def _conflict(task: TaskView | repo.MoveSubject, expected_version: int) -> Conflict:
    return Conflict(
        f"task {task.id} was changed by someone else meanwhile (you saw version "
        f"{expected_version}, it is now version {task.version}, {task.state}); "
        "look at it again and retry"
    )
