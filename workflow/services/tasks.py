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
from workflow.domain.lifecycle import Move, MoveRequest, State, decide
from workflow.domain.tasks import TaskView
from workflow.errors import Conflict, NotFound
from workflow.services.context import Context
from workflow.store import repo
from workflow.store.engine import reading, writing
from workflow.store.engine import translated as translated_errors


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

    `expected_version` is the version the person saw. Without it, the task is read first in
    its own transaction, as a person would look at it before acting: when several act at
    once, exactly one wins and the others get a Conflict, on every backend.
    """
    if expected_version is None:
        expected_version = _current_version(ctx, task_id)
    with writing(ctx.engine) as conn:
        task, actor = repo.get_task_and_actor(conn, task_id, actor_id)
        if task is None:
            raise NotFound(f"task {task_id} does not exist")
        if actor is None:
            raise NotFound(f"person {actor_id!r} does not exist")
        if task.version != expected_version:
            raise _conflict(task, expected_version)
        decision = decide(task.facts(), actor, MoveRequest(which, note, to_unit))
        if which is Move.REASSIGN and not repo.unit_exists(
            conn, task.organisation, decision.lead_unit
        ):
            raise NotFound(f"unit {decision.lead_unit!r} does not exist in {task.organisation}")
        now = ctx.clock.now()
        values: dict[str, Any] = {"state": decision.to_state.value, "updated_at": now}
        if which is Move.SUBMIT:
            values["submitted_by"] = actor.id
        elif which is Move.RETURN:
            values["returned_count"] = task.returned_count + 1
        elif which is Move.REASSIGN:
            values["lead_unit"] = decision.lead_unit
            values["submitted_by"] = None
        # The UPDATE returns the row as it now is: no second read.
        updated = repo.compare_and_set_returning(conn, task.id, expected_version, values)
        if updated is None:
            current = repo.get_task(conn, task.id)
            raise _conflict(current or task, expected_version)
        data: dict[str, Any] = {"version": expected_version + 1}
        if note:
            data["note"] = note.strip()
        if which is Move.REASSIGN:
            data["from_unit"], data["to_unit"] = task.lead_unit, decision.lead_unit
        audit.append(
            conn,
            audit.Record(
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
                data=data,
            ),
            now,
        )
    ctx.log.info(
        "task.transition",
        task=task.id,
        code=task.code,
        move=which.value,
        actor=actor.id,
        role=decision.role.value,
        **{"from": decision.from_state.value, "to": decision.to_state.value},
    )
    return updated


def _current_version(ctx: Context, task_id: int) -> int:
    """The version the person sees before acting, read on its own.

    One statement, which is its own transaction: no BEGIN and COMMIT around it (SQLite
    connections run in autocommit mode unless a transaction is begun; PostgreSQL is asked
    for autocommit on this connection only).
    """
    with translated_errors(), ctx.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        version = repo.get_task_version(conn, task_id)
    if version is None:
        raise NotFound(f"task {task_id} does not exist")
    return version


def _conflict(task: TaskView, expected_version: int) -> Conflict:
    return Conflict(
        f"task {task.id} was changed by someone else meanwhile (you saw version "
        f"{expected_version}, it is now version {task.version}, {task.state}); "
        "look at it again and retry"
    )
