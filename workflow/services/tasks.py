"""Task use cases: create, move through the lifecycle, list, show, history."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
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
from workflow.store.engine import moving, reading, run_alone, writing


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

    `expected_version` is the version the person saw: if the task changed since, the move is
    a Conflict (of several people acting on the same version, exactly one wins, on every
    backend). Without it, the move reads the task first, as a person would look at it
    before acting, and expects the version it read: a move committed in between (by another
    process or connection) makes it a Conflict. On SQLite the threads of one process take
    turns from that read on, so a later one decides on the earlier one's result.
    """
    # One connection checkout. The task and the person are read in a statement of their
    # own and the rules decide on what it found, before the writing transaction: its
    # compare-and-set on that version proves the task is still the one decided on. The
    # transaction is then only the compare-and-set and the append (on PostgreSQL one
    # statement, the entry hashed by the server), so the chain's lock, which serialises
    # every writer, is never held across a round trip to this process.
    with moving(ctx.engine) as conn:
        subject = run_alone(conn, *repo.move_subject_statement(task_id, actor_id))
        task, actor = repo.move_subject_from_rows(subject, actor_id)
        if expected_version is None and task is not None:
            expected_version = task.version

        def unit_exists(organisation: str, unit: str) -> bool:
            return bool(run_alone(conn, repo.UNIT_EXISTS, (organisation, unit)))

        planned = _plan(
            ctx, task_id, which, actor_id, expected_version or 0, task, actor, note, to_unit,
            unit_exists=unit_exists,
        )  # fmt: skip
        changed, seq = audit.commit_with_entry(
            conn,
            repo.compare_and_set_statement(conn, task_id, planned.version, planned.values),
            planned.record,
            planned.now,
        )
        updated = repo.compare_and_set_from_rows(conn, changed)
        if updated is None or seq is None:
            raise _conflict(repo.get_task(conn, task_id) or planned.task, planned.version)
    done = MoveDone(updated, planned.decision, planned.actor, seq)
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
    task, actor = repo.get_move_subject(conn, task_id, actor_id)
    planned = _plan(
        ctx, task_id, which, actor_id, expected_version, task, actor, note, to_unit,
        unit_exists=partial(repo.unit_exists, conn), data=data, via=via,
    )  # fmt: skip
    # The compare-and-set, then the chain's lock and head: one round trip on PostgreSQL.
    # The UPDATE returns the row as it now is: no second read.
    [changed], head = audit.lock_after(
        conn, [repo.compare_and_set_statement(conn, task_id, expected_version, planned.values)]
    )
    updated = repo.compare_and_set_result(conn, changed)
    if updated is None:
        raise _conflict(repo.get_task(conn, task_id) or planned.task, expected_version)
    stored = audit.append(conn, planned.record, planned.now, head=head)
    return MoveDone(updated, planned.decision, planned.actor, int(stored["seq"]))


@dataclass(frozen=True, slots=True)
class PlannedMove:
    """A move the rules allow, worked out before anything is written."""

    task: repo.MoveSubject
    version: int  # the version it expects the task at
    decision: Decision
    actor: Actor
    values: dict[str, Any]  # what the compare-and-set writes
    record: audit.Record
    now: dt.datetime


def _plan(
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
    unit_exists: Callable[[str, str], bool],
    data: dict[str, Any] | None = None,
    via: str | None = None,
) -> PlannedMove:
    """Check the move on the task and the person as read (`repo.get_move_subject`) and
    work out its writes; a refusal raises its typed error, having written nothing."""
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
    if which is Move.REASSIGN and not unit_exists(task.organisation, decision.lead_unit):
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
    return PlannedMove(task, expected_version, decision, actor, values, record, now)


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


def _conflict(task: TaskView | repo.MoveSubject, expected_version: int) -> Conflict:
    return Conflict(
        f"task {task.id} was changed by someone else meanwhile (you saw version "
        f"{expected_version}, it is now version {task.version}, {task.state}); "
        "look at it again and retry"
    )
