"""Task use cases: create, move through the lifecycle, list, show, history."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from workflow.context import Context
from workflow.domain.filters import AuditFilter, TaskFilter
from workflow.domain.lifecycle import Decision, Move, MoveRequest, State, decide
from workflow.domain.roles import Actor
from workflow.domain.tasks import MoveSubject, TaskView
from workflow.errors import Conflict, InvalidInput, NotFound
from workflow.store.queries.organisations import OrganisationQueries
from workflow.store.queries.tasks import TaskQueries
from workflow.store.uow import Tx

# The events load where a task is created or moved, not for a read (`tasks list`): their
# classes take as long to build as a short read takes to run.
if TYPE_CHECKING:
    from workflow.domain.events import Event, TaskMoved


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
    tx: Tx, new: Sequence[NewTask], *, actor: str, role: str, reason: str
) -> list[int]:
    """Insert tasks and their creation events inside the caller's transaction."""
    from workflow.domain.events import TaskCreated

    for organisation, unit in dict.fromkeys((t.organisation, t.lead_unit) for t in new):
        if not tx.organisations.unit_exists(organisation, unit):
            raise NotFound(f"unit {unit!r} does not exist in {organisation}")
    now = tx.now
    ids = tx.tasks.insert(
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
        ]
    )
    tx.record(
        *(
            TaskCreated(
                actor=actor,
                role=role,
                organisation=t.organisation,
                task_id=task_id,
                plan_id=t.plan,
                to_state=State.ASSIGNED.value,
                code=t.code,
                period=t.period,
                lead_unit=t.lead_unit,
                due_date=t.due_date.isoformat() if t.due_date else None,
                reason=reason,
                parent_task=t.parent_task,
                cooperating_units=list(t.cooperating_units),
                kind=t.kind,
                title=t.title,
                category=t.category,
            )
            for task_id, t in zip(ids, new, strict=True)
        )
    )
    return ids


def create_tasks(ctx: Context, new: Sequence[NewTask], *, reason: str = "created") -> list[int]:
    with ctx.uow.writing() as tx:
        return insert_new_tasks(tx, new, actor=ctx.acting, role="admin", reason=reason)


def get_task(ctx: Context, task_id: int) -> TaskView:
    with ctx.uow.reading() as r:
        return _require(r.tasks, task_id)


def _require(tasks: TaskQueries, task_id: int) -> TaskView:
    task = tasks.get(task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    return task


def list_tasks(ctx: Context, where: TaskFilter) -> list[TaskView]:
    with ctx.uow.reading() as r:
        return r.tasks.find(where)


def history(ctx: Context, task_id: int) -> list[dict[str, Any]]:
    with ctx.uow.reading() as r:
        _require(r.tasks, task_id)
        return r.audit.query(AuditFilter(task_id=task_id))


# ----------------------------------------------------------------------------- moves


@dataclass(frozen=True, slots=True)
class MoveDone:
    """A move applied: the task as it now is, and what was decided."""

    task: TaskView
    decision: Decision
    actor: Actor


@dataclass(frozen=True, slots=True)
class AttachedRecord:
    """A document submitted with a move (an inspection record), recorded in its entry."""

    content: dict[str, Any]
    hash: str
    revision: int


class Mover(Protocol):
    """Where a move is made: its own transaction (`UnitOfWork.moving`) or a larger one."""

    @property
    def tasks(self) -> TaskQueries: ...

    @property
    def organisations(self) -> OrganisationQueries: ...

    @property
    def now(self) -> dt.datetime: ...

    def apply_to_task(
        self, task_id: int, expected_version: int, values: Mapping[str, Any], event: Event
    ) -> TaskView | None: ...


# Kinds of task whose submission carries a document and goes through its own use case.
SUBMITTED_ELSEWHERE = {"inspection": "planflow inspections record"}


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
    """Make one move in a transaction of its own (`make_move`), then log it.

    `expected_version` is the version the person saw: if the task changed since, the move is
    a Conflict (of several people acting on the same version, exactly one wins, on every
    backend). Without it, the move reads the task first, as a person would look at it
    before acting, and expects the version it read: a move committed in between (by another
    process or connection) makes it a Conflict. On SQLite the threads of one process take
    turns from that read on, so a later one decides on the earlier one's result.
    """
    with ctx.uow.moving() as tx:
        done = make_move(tx, task_id, which, actor_id, expected_version, note=note, to_unit=to_unit)
    log_move(ctx, done)
    return done.task


def make_move(
    tx: Mover,
    task_id: int,
    which: Move,
    actor_id: str,
    expected_version: int | None,
    *,
    note: str | None = None,
    to_unit: str | None = None,
    attached: AttachedRecord | None = None,
    via: str | None = None,
) -> MoveDone:
    """The one move path (the CLI's, the flows', the HTTP API's): read the task and the
    person in one statement, let the lifecycle decide on what was read, then write the
    compare-and-set on that version with its audit event. A refusal raises its typed
    error, having written nothing.

    `attached` goes into the entry; `via` names the use case that carries a document with a
    submission (inspection records), which a plain move must not bypass.
    """
    task, actor = tx.tasks.move_subject(task_id, actor_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    if actor is None:
        raise NotFound(f"person {actor_id!r} does not exist")
    expected = task.version if expected_version is None else expected_version
    if task.version != expected:
        raise _conflict(task, expected)
    decision = decide(task.facts(), actor, MoveRequest(which, note, to_unit))
    elsewhere = SUBMITTED_ELSEWHERE.get(task.kind)
    if which is Move.SUBMIT and elsewhere and via != task.kind:
        raise InvalidInput(
            f"task {task.id} is an {task.kind} task: submit it with its record, "
            f"`{elsewhere} {task.id} --file RECORD --as PERSON`"
        )
    if which is Move.REASSIGN and not tx.organisations.unit_exists(
        task.organisation, decision.lead_unit
    ):
        raise NotFound(f"unit {decision.lead_unit!r} does not exist in {task.organisation}")
    effects = _effects(task, decision, actor, tx.now)
    updated = tx.apply_to_task(
        task_id,
        expected,
        effects,
        _event(task, decision, actor, note, attached, expected, effects.get("completed_at")),
    )
    if updated is None:
        raise _conflict(tx.tasks.get(task_id) or task, expected)
    return MoveDone(updated, decision, actor)


def _effects(
    task: MoveSubject, decision: Decision, actor: Actor, now: dt.datetime
) -> dict[str, Any]:
    """What the compare-and-set writes besides the next version."""
    values: dict[str, Any] = {"state": decision.to_state.value, "updated_at": now}
    which = decision.move
    if which is Move.SUBMIT:
        values["submitted_by"] = actor.id
    elif which is Move.RETURN:
        values["returned_count"] = task.returned_count + 1
    elif which is Move.VERIFY:
        values["completed_at"] = now
    elif which is Move.REASSIGN:
        values["lead_unit"] = decision.lead_unit
        values["submitted_by"] = None
    return values


def _event(
    task: MoveSubject,
    decision: Decision,
    actor: Actor,
    note: str | None,
    attached: AttachedRecord | None,
    expected: int,
    completed_at: dt.datetime | None,
) -> TaskMoved:
    from workflow.domain.events import TaskMoved

    reassigned = decision.move is Move.REASSIGN
    return TaskMoved(
        actor=actor.id,
        role=decision.role.value,
        unit=actor.unit,
        organisation=task.organisation,
        task_id=task.id,
        plan_id=task.plan,
        from_state=decision.from_state.value,
        to_state=decision.to_state.value,
        move=decision.move,
        version=expected + 1,
        note=note.strip() if note else None,
        from_unit=task.lead_unit if reassigned else None,
        to_unit=decision.lead_unit if reassigned else None,
        record=attached.content if attached else None,
        record_hash=attached.hash if attached else None,
        record_revision=attached.revision if attached else None,
        completed_at=completed_at.astimezone(dt.UTC).isoformat() if completed_at else None,
    )


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


def _conflict(task: TaskView | MoveSubject, expected_version: int) -> Conflict:
    return Conflict(
        f"task {task.id} was changed by someone else meanwhile (you saw version "
        f"{expected_version}, it is now version {task.version}, {task.state}); "
        "look at it again and retry"
    )
