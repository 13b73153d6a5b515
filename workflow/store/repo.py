"""Repositories: the statements services use to read and write tasks and people.

Core statements, not ORM round trips: a move costs a handful of indexed statements.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, select, update

from workflow.domain.lifecycle import State
from workflow.domain.roles import Actor, Role
from workflow.domain.tasks import TaskView
from workflow.store.tables import people, person_roles, tasks, units


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns; we only ever store UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def task_from_row(row: Row[Any]) -> TaskView:
    m = row._mapping
    return TaskView(
        id=m["id"],
        organisation=m["organisation"],
        plan=m["plan_id"],
        kind=m["kind"],
        code=m["code"],
        period=m["period"],
        title=m["title"],
        category=m["category"],
        state=State(m["state"]),
        lead_unit=m["lead_unit"],
        due_date=m["due_date"],
        version=m["version"],
        submitted_by=m["submitted_by"],
        returned_count=m["returned_count"],
        cooperating_units=json.loads(m["cooperating_units"]),
        schedule_text=m["schedule_text"],
        deliverable=m["deliverable"],
        target=m["target"],
        created_at=_aware(m["created_at"]),
        updated_at=_aware(m["updated_at"]),
    )


def get_task(conn: Connection, task_id: int) -> TaskView | None:
    row = conn.execute(select(tasks).where(tasks.c.id == task_id)).first()
    return task_from_row(row) if row else None


def get_actor(conn: Connection, person_id: str) -> Actor | None:
    person = conn.execute(
        select(people.c.id, people.c.organisation, people.c.unit).where(people.c.id == person_id)
    ).first()
    if person is None:
        return None
    roles = conn.execute(
        select(person_roles.c.role).where(person_roles.c.person_id == person_id)
    ).scalars()
    return Actor(person.id, person.organisation, person.unit, frozenset(Role(r) for r in roles))


def unit_exists(conn: Connection, organisation: str, code: str) -> bool:
    return (
        conn.execute(
            select(units.c.code).where(units.c.organisation == organisation, units.c.code == code)
        ).first()
        is not None
    )


def compare_and_set(
    conn: Connection, task_id: int, expected_version: int, values: dict[str, Any]
) -> bool:
    """Apply `values` only if nobody changed the task since `expected_version`."""
    result = conn.execute(
        update(tasks)
        .where(tasks.c.id == task_id, tasks.c.version == expected_version)
        .values(version=expected_version + 1, **values)
    )
    return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class TaskFilter:
    organisation: str | None = None
    plan: str | None = None
    unit: str | None = None
    state: State | None = None
    overdue_on: dt.date | None = None  # only tasks overdue as of this date
    kind: str | None = None
    limit: int | None = None


def list_tasks(conn: Connection, where: TaskFilter) -> list[TaskView]:
    c = tasks.c
    conditions = []
    if where.organisation is not None:
        conditions.append(c.organisation == where.organisation)
    if where.plan is not None:
        conditions.append(c.plan_id == where.plan)
    if where.unit is not None:
        conditions.append(c.lead_unit == where.unit)
    if where.state is not None:
        conditions.append(c.state == where.state.value)
    if where.kind is not None:
        conditions.append(c.kind == where.kind)
    if where.overdue_on is not None:
        conditions.append(c.due_date < where.overdue_on)
        conditions.append(
            c.state.in_([State.ASSIGNED.value, State.IN_PROGRESS.value, State.SUBMITTED.value])
        )
    stmt = select(tasks).where(and_(True, *conditions)).order_by(c.id)
    if where.limit is not None:
        stmt = stmt.limit(where.limit)
    return [task_from_row(row) for row in conn.execute(stmt)]


def insert_tasks(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert task rows in one batched statement; returns their ids in the rows' order."""
    if not rows:
        return []
    result = conn.execute(
        tasks.insert().returning(tasks.c.id, sort_by_parameter_order=True), list(rows)
    )
    return [int(i) for i in result.scalars()]
