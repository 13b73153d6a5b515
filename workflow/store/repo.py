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

from workflow.domain.lifecycle import State
from workflow.domain.roles import Actor, Role
from workflow.domain.tasks import TaskView
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
    )


# ------------------------------------------------------------------ plain SQL, hot paths


def driver_execute(
    conn: Connection, sql: str, params: Sequence[Any] = (), *, many: bool = False
) -> Any:
    """Run `sql` (written with `?` placeholders) on the connection's DBAPI cursor.

    Same transaction as every other statement of `conn`. Fires `before_cursor_execute` and
    `after_cursor_execute` (with no execution context, as documented for such calls) and turns
    driver errors into SQLAlchemy's wrapped ones, disconnects included, exactly as
    `Connection.execute` does. Returns the cursor; the caller fetches from it and closes it.
    """
    if conn.dialect.paramstyle != "qmark":
        sql = _pyformat(sql)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    dispatch = conn.dispatch
    if dispatch.before_cursor_execute:  # any listeners (the engine's included)?
        dispatch.before_cursor_execute(conn, cursor, sql, params, None, many)
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except BaseException as exc:
        cursor.close()
        conn._handle_dbapi_exception(exc, sql, params, cursor, None)
    if dispatch.after_cursor_execute:
        dispatch.after_cursor_execute(conn, cursor, sql, params, None, many)
    return cursor


_PYFORMAT: dict[str, str] = {}


def _pyformat(sql: str) -> str:
    found = _PYFORMAT.get(sql)
    if found is None:
        found = _PYFORMAT[sql] = sql.replace("%", "%%").replace("?", "%s")
    return found


# The columns a TaskView is made of, in the order _task_from_values unpacks them.
TASK_COLUMNS = (
    "id", "organisation", "plan_id", "kind", "code", "period", "title", "category", "lead_unit",
    "cooperating_units", "schedule_text", "deliverable", "target", "due_date", "state",
    "version", "submitted_by", "returned_count", "since_plan_version", "created_at", "updated_at",
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
     submitted_by, returned_count, _since_plan_version, created_at, updated_at) = values[
        : len(TASK_COLUMNS)
    ]  # fmt: skip
    return TaskView(
        id=id_,
        organisation=organisation,
        plan=plan_id,
        kind=kind,
        code=code,
        period=period,
        title=title,
        category=category,
        state=State(state),
        lead_unit=lead_unit,
        due_date=due_date,
        version=version,
        submitted_by=submitted_by,
        returned_count=returned_count,
        cooperating_units=json.loads(cooperating_units),
        schedule_text=schedule_text,
        deliverable=deliverable,
        target=target,
        created_at=_aware(created_at),
        updated_at=_aware(updated_at),
    )


_TASK_AND_ACTOR = (
    f"SELECT {_TASK_SELECT}, people.organisation, people.unit, person_roles.role "
    "FROM tasks LEFT OUTER JOIN people ON people.id = ? "
    "LEFT OUTER JOIN person_roles ON person_roles.person_id = people.id "
    "WHERE tasks.id = ?"
)


def get_task_and_actor(
    conn: Connection, task_id: int, person_id: str
) -> tuple[TaskView | None, Actor | None]:
    """The task and the person about to act on it, in one statement (no task: no actor)."""
    cursor = driver_execute(conn, _TASK_AND_ACTOR, (person_id, task_id))
    rows = cursor.fetchall()
    cursor.close()
    if not rows:
        return None, None
    width = len(TASK_COLUMNS)
    first = rows[0]
    task = _task_from_values(first[:width], conn.dialect)
    organisation, unit = first[width], first[width + 1]
    if organisation is None:
        return task, None
    roles = frozenset(Role(row[width + 2]) for row in rows if row[width + 2] is not None)
    return task, Actor(person_id, organisation, unit, roles)


def get_task_version(conn: Connection, task_id: int) -> int | None:
    cursor = driver_execute(conn, "SELECT tasks.version FROM tasks WHERE tasks.id = ?", (task_id,))
    row = cursor.fetchone()
    cursor.close()
    return None if row is None else int(row[0])


_CAS_SQL: dict[tuple[str, ...], str] = {}


def compare_and_set_returning(
    conn: Connection, task_id: int, expected_version: int, values: dict[str, Any]
) -> TaskView | None:
    """`compare_and_set`, returning the updated task (None: someone changed it first)."""
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
    cursor = driver_execute(conn, sql, params)
    rows = cursor.fetchall()
    cursor.close()
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
