"""Repositories: the statements services use to read and write tasks and people.

Core statements, not ORM round trips: a move costs a handful of indexed statements. The
hottest of them (a move's reads and its compare-and-set, the audit log's appends and scans)
run as plain SQL on the connection's own DBAPI cursor (`driver_execute`), inside the same
transaction: SQLAlchemy's per-statement overhead is several times the statement's own cost
on SQLite. They still fire the cursor events and raise the same wrapped errors.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, Row, and_, select, update

from workflow.domain.lifecycle import State, TaskFacts
from workflow.domain.roles import Actor, Role
from workflow.domain.tasks import TaskView
from workflow.store.engine import driver_execute as driver_execute  # re-exported
from workflow.store.tables import people, person_roles, tasks, units


def as_utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; we only ever store UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else as_utc(value)


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
        completed_at=_aware(m["completed_at"]),
        parent_task=m["parent_task"],
    )


# ------------------------------------------------------------------ plain SQL, hot paths

# The columns a TaskView is made of, in the order _task_from_values unpacks them.
TASK_COLUMNS = (
    "id", "organisation", "plan_id", "kind", "code", "period", "title", "category", "lead_unit",
    "cooperating_units", "schedule_text", "deliverable", "target", "due_date", "state",
    "version", "submitted_by", "returned_count", "since_plan_version", "created_at", "updated_at",
    "completed_at", "parent_task",
)  # fmt: skip
_TASK_SELECT = ", ".join(f"tasks.{name}" for name in TASK_COLUMNS)
_Processor = Callable[[Any], Any] | None
_Results = list[tuple[int, Callable[[Any], Any]]]
_PROCESSORS: dict[tuple[str, str, str], tuple[_Results, dict[str, _Processor]]] = {}


def _processors(dialect: Dialect) -> tuple[_Results, dict[str, _Processor]]:
    """The column types' own conversions (SQLite keeps dates as text), per dialect:
    (position, result processor) for the columns that have one, bind processors by name."""
    key = (dialect.name, dialect.driver, type(dialect).__qualname__)
    found = _PROCESSORS.get(key)
    if found is None:
        impls = [tasks.c[name].type.dialect_impl(dialect) for name in TASK_COLUMNS]
        results = [(i, impl.result_processor(dialect, None)) for i, impl in enumerate(impls)]
        found = _PROCESSORS[key] = (
            [(i, p) for i, p in results if p is not None],
            {
                name: impl.bind_processor(dialect)
                for name, impl in zip(TASK_COLUMNS, impls, strict=True)
            },
        )
    return found


def _task_from_values(values: Sequence[Any], dialect: Dialect) -> TaskView:
    """A TaskView from a plain row of TASK_COLUMNS (what `task_from_row` makes of a Row)."""
    results, _binds = _processors(dialect)
    if results:
        values = list(values[: len(TASK_COLUMNS)])
        for i, process in results:
            values[i] = process(values[i])
    (id_, organisation, plan_id, kind, code, period, title, category, lead_unit,
     cooperating_units, schedule_text, deliverable, target, due_date, state, version,
     submitted_by, returned_count, _since_plan_version, created_at, updated_at, completed_at,
     parent_task) = values[
        : len(TASK_COLUMNS)
    ]  # fmt: skip
    # Positional, in TaskView's field order (a move builds one; keywords cost a third more).
    return TaskView(
        id_, organisation, plan_id, kind, code, period, title, category, State(state),
        lead_unit, due_date, version, submitted_by, returned_count,
        [] if cooperating_units == "[]" else json.loads(cooperating_units),
        schedule_text, deliverable, target, _aware(created_at), _aware(updated_at),
        _aware(completed_at), parent_task,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class MoveSubject:
    """What a move reads of its task before deciding: the rules' facts and what the entry
    records. The full row comes back from the compare-and-set, so it is parsed once."""

    id: int
    organisation: str
    plan: str | None
    kind: str
    state: State
    lead_unit: str
    version: int
    submitted_by: str | None
    returned_count: int

    def facts(self) -> TaskFacts:
        return TaskFacts(self.id, self.organisation, self.lead_unit, self.state, self.submitted_by)


_SUBJECT_AND_ACTOR = (
    "SELECT tasks.id, tasks.organisation, tasks.plan_id, tasks.kind, tasks.state, "
    "tasks.lead_unit, tasks.version, tasks.submitted_by, tasks.returned_count, "
    "people.organisation, people.unit, person_roles.role "
    "FROM tasks LEFT OUTER JOIN people ON people.id = ? "
    "LEFT OUTER JOIN person_roles ON person_roles.person_id = people.id "
    "WHERE tasks.id = ?"
)


def get_move_subject(
    conn: Connection, task_id: int, person_id: str
) -> tuple[MoveSubject | None, Actor | None]:
    """The task as a move needs it and the person about to act on it, in one statement."""
    cursor = driver_execute(conn, *move_subject_statement(task_id, person_id))
    rows = cursor.fetchall()
    cursor.close()
    return move_subject_from_rows(rows, person_id)


def move_subject_statement(task_id: int, person_id: str) -> tuple[str, tuple[Any, ...]]:
    """The statement of `get_move_subject`, to send with others."""
    return _SUBJECT_AND_ACTOR, (person_id, task_id)


def move_subject_from_rows(
    rows: Sequence[Sequence[Any]], person_id: str
) -> tuple[MoveSubject | None, Actor | None]:
    """What `get_move_subject` returns, from its statement's rows."""
    if not rows:
        return None, None
    first = rows[0]
    task = MoveSubject(
        first[0],
        first[1],
        first[2],
        first[3],
        State(first[4]),
        first[5],
        first[6],
        first[7],
        first[8],
    )
    organisation, unit = first[9], first[10]
    if organisation is None:
        return task, None
    roles = frozenset(Role(row[11]) for row in rows if row[11] is not None)
    return task, Actor(person_id, organisation, unit, roles)


_CAS_SQL: dict[tuple[str, ...], str] = {}


def compare_and_set_statement(
    conn: Connection, task_id: int, expected_version: int, values: dict[str, Any]
) -> tuple[str, list[Any]]:
    """`compare_and_set` as plain SQL returning the updated row (none: someone changed the
    task first), to run with `driver_execute` or send with other statements."""
    names = ("version", *values)
    sql = _CAS_SQL.get(names)
    if sql is None:
        assignments = ", ".join(f"{name}=?" for name in names)
        sql = _CAS_SQL[names] = (
            f"UPDATE tasks SET {assignments} WHERE tasks.id = ? AND tasks.version = ? "
            f"RETURNING {_TASK_SELECT}"
        )
    _results, binds = _processors(conn.dialect)
    params: list[Any] = [expected_version + 1]
    for name, value in values.items():
        bind = binds[name]
        params.append(value if bind is None or value is None else bind(value))
    params += [task_id, expected_version]
    return sql, params


def compare_and_set_result(conn: Connection, cursor: Any) -> TaskView | None:
    """The updated task (None: someone changed it first), from the cursor the
    `compare_and_set_statement` ran on."""
    rows = cursor.fetchall()
    cursor.close()
    return compare_and_set_from_rows(conn, rows)


def compare_and_set_from_rows(conn: Connection, rows: Sequence[Sequence[Any]]) -> TaskView | None:
    """The updated task (None: someone changed it first), from the rows of the
    `compare_and_set_statement`."""
    return _task_from_values(rows[0], conn.dialect) if rows else None


# ------------------------------------------------------------------ Core statements


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


UNIT_EXISTS = "SELECT 1 FROM units WHERE units.organisation = ? AND units.code = ?"


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
