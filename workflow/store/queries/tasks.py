"""Reading tasks: one, a filtered list, what a move decides on, what replay compares.

A task is read as a `TaskView`, whose fields say which columns are read and how each is
converted: adding a column to the view is adding a field to `TaskView` (and the column).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import and_, func, select

from workflow.clock import as_utc
from workflow.domain.filters import TaskFilter
from workflow.domain.lifecycle import NOT_DONE, State
from workflow.domain.roles import Actor, Role
from workflow.domain.tasks import MoveSubject, TaskView
from workflow.store import driver
from workflow.store.queries.base import Queries
from workflow.store.tables import tasks

_COLUMN_OF = {"plan": "plan_id"}  # a view field named otherwise than its column
TASK_COLUMNS = tuple(_COLUMN_OF.get(f.name, f.name) for f in dataclasses.fields(TaskView))
TASK_SELECT = ", ".join(f"tasks.{name}" for name in TASK_COLUMNS)


def _date(value: Any) -> dt.date | None:
    # SQLite hands dates back as text through the driver; SQLAlchemy and psycopg as dates.
    return dt.date.fromisoformat(value) if value.__class__ is str else value


def _instant(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    return as_utc(dt.datetime.fromisoformat(value) if value.__class__ is str else value)


def _units(value: Any) -> list[str]:
    return [] if value == "[]" else list(json.loads(value))


# How a stored value becomes the view's, by the field's declared type (none: as stored).
_BY_TYPE: dict[str, Callable[[Any], Any]] = {
    "State": State,
    "dt.date | None": _date,
    "dt.datetime | None": _instant,
    "list[str]": _units,
}
_AS_STORED = {"int", "str", "int | None", "str | None"}
assert all(
    str(f.type) in _BY_TYPE or str(f.type) in _AS_STORED for f in dataclasses.fields(TaskView)
), "a TaskView field of a type the store does not know how to read: add it to _BY_TYPE"
_CONVERT = [
    (i, _BY_TYPE[str(f.type)])
    for i, f in enumerate(dataclasses.fields(TaskView))
    if str(f.type) in _BY_TYPE
]


def task_from_values(values: Sequence[Any]) -> TaskView:
    """A TaskView from a row of TASK_COLUMNS, as the driver or SQLAlchemy returns it."""
    converted = list(values)
    for i, convert in _CONVERT:
        if converted[i] is not None:
            converted[i] = convert(converted[i])
    return TaskView(*converted)  # positional: a move builds one; keywords cost a third more


_SUBJECT_AND_ACTOR = (
    "SELECT tasks.id, tasks.organisation, tasks.plan_id, tasks.kind, tasks.state, "
    "tasks.lead_unit, tasks.version, tasks.submitted_by, tasks.returned_count, "
    "people.organisation, people.unit, person_roles.role "
    "FROM tasks LEFT OUTER JOIN people ON people.id = ? "
    "LEFT OUTER JOIN person_roles ON person_roles.person_id = people.id "
    "WHERE tasks.id = ?"
)


def replay_text(name: str, value: Any) -> Any:
    """A stored value in the form the audit log records it (replay compares those): dates and
    instants as ISO 8601 text (instants in UTC), lists of units as lists."""
    if value is None:
        return None
    if name == "cooperating_units":
        return _units(value)
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if name == "completed_at" and isinstance(value, str):  # text, as SQLite's driver gives
        return as_utc(dt.datetime.fromisoformat(value)).isoformat()
    return value


class TaskQueries(Queries):
    def get(self, task_id: int) -> TaskView | None:
        row = self.conn.execute(_select().where(tasks.c.id == task_id)).first()
        return task_from_values(row) if row is not None else None

    def find(self, where: TaskFilter) -> list[TaskView]:
        c = tasks.c
        conditions = []
        for column, value in (
            (c.organisation, where.organisation),
            (c.plan_id, where.plan),
            (c.lead_unit, where.unit),
            (c.kind, where.kind),
        ):
            if value is not None:
                conditions.append(column == value)
        fence = where.organisations
        if fence is not None and where.organisation is not None:
            # One organisation asked for: inside the fence, the equality alone (the planner
            # then reads the inbox index in order); outside it, nothing.
            if where.organisation not in fence:
                return []
        elif fence is not None:
            conditions.append(c.organisation.in_(sorted(fence)))
        if where.state is not None:
            conditions.append(c.state == where.state.value)
        if where.overdue_on is not None:
            conditions.append(c.due_date < where.overdue_on)
            conditions.append(c.state.in_(sorted(NOT_DONE)))
        if where.after_id is not None:
            conditions.append(c.id > where.after_id)
        stmt = _select().where(and_(True, *conditions)).order_by(c.id)
        if where.limit is not None:
            stmt = stmt.limit(where.limit)
        return [task_from_values(row) for row in self.conn.execute(stmt)]

    def waiting(self, organisation: str, state: State, limit: int) -> list[TaskView]:
        """The organisation's tasks in `state`, the longest waiting first (a task stays in
        submitted or verified untouched, so its last change is when it arrived there): the
        inbox, read from the (organisation, state) index and cut to `limit` by the database."""
        c = tasks.c
        stmt = (
            _select()
            .where(c.organisation == organisation, c.state == state.value)
            .order_by(c.updated_at.is_(None).desc(), c.updated_at, c.id)
            .limit(limit)
        )
        return [task_from_values(row) for row in self.conn.execute(stmt)]

    def unit_choices(self, organisation: str, unit: str) -> tuple[list[str], list[str]]:
        """The plans and the periods of a unit's tasks (what "Việc của tôi" filters by)."""
        c = tasks.c
        mine = (c.organisation == organisation, c.lead_unit == unit)
        plans = self.conn.execute(select(c.plan_id).where(*mine).distinct()).scalars()
        periods = self.conn.execute(select(c.period).where(*mine).distinct()).scalars()
        return sorted(p for p in plans if p), sorted(p for p in periods if p)

    def unit_counts(
        self, organisation: str, unit: str, plan: str | None, period: str | None
    ) -> dict[State, int]:
        """How many of a unit's tasks (of a plan, of a period, when given) are in each state."""
        c = tasks.c
        stmt = select(c.state, func.count()).where(*_unit_tasks(organisation, unit, plan, period))
        return {State(state): int(n) for state, n in self.conn.execute(stmt.group_by(c.state))}

    def unit_tasks(
        self,
        organisation: str,
        unit: str,
        plan: str | None,
        period: str | None,
        states: Sequence[State],
        limit: int,
    ) -> list[TaskView]:
        """A unit's tasks in one of `states`, by due date (none last), at most `limit`."""
        c = tasks.c
        stmt = (
            _select()
            .where(
                *_unit_tasks(organisation, unit, plan, period),
                c.state.in_(sorted(s.value for s in states)),
            )
            .order_by(c.due_date.is_(None), c.due_date, c.id)
            .limit(limit)
        )
        return [task_from_values(row) for row in self.conn.execute(stmt)]

    def of_ids(self, task_ids: Sequence[int]) -> list[TaskView]:
        """These tasks (those that exist), by id."""
        stmt = _select().where(tasks.c.id.in_(list(task_ids))).order_by(tasks.c.id)
        return [task_from_values(row) for row in self.conn.execute(stmt)]

    def of_plan(self, plan_id: str) -> dict[tuple[str, str], TaskView]:
        """A plan's tasks by (row code, period)."""
        return {(t.code, t.period): t for t in self.find(TaskFilter(plan=plan_id))}

    def count_by_plan(self) -> dict[str | None, int]:
        return {
            plan_id: int(n)
            for plan_id, n in self.conn.execute(
                select(tasks.c.plan_id, func.count()).group_by(tasks.c.plan_id)
            )
        }

    def move_subject(self, task_id: int, person_id: str) -> tuple[MoveSubject | None, Actor | None]:
        """The task as a move needs it and the person about to act on it, in one statement."""
        found = driver.rows(self.conn, _SUBJECT_AND_ACTOR, (person_id, task_id))
        if not found:
            return None, None
        first = found[0]
        task = MoveSubject(
            first[0], first[1], first[2], first[3], State(first[4]), first[5], first[6],
            first[7], first[8],
        )  # fmt: skip
        organisation, unit = first[9], first[10]
        if organisation is None:
            return task, None
        roles = frozenset(Role(row[11]) for row in found if row[11] is not None)
        return task, Actor(person_id, organisation, unit, roles)

    def as_replay_compares(self) -> list[dict[str, Any]]:
        """Every task's columns that `audit replay` rebuilds from the log, by id."""
        # Imported here: it loads every audit event's class, which listing tasks never needs.
        from workflow.domain import replay_model

        # The columns replay compares (the domain names them), and the id to match them by.
        columns = [tasks.c[name] for name in ("id", *replay_model.COMPARED)]
        return [
            {name: replay_text(name, value) for name, value in row._asdict().items()}
            for row in self.conn.execute(select(*columns).order_by(tasks.c.id))
        ]


def _unit_tasks(organisation: str, unit: str, plan: str | None, period: str | None) -> list[Any]:
    c = tasks.c
    where: list[Any] = [c.organisation == organisation, c.lead_unit == unit]
    if plan is not None:
        where.append(c.plan_id == plan)
    if period is not None:
        where.append(c.period == period)
    return where


def _select() -> Any:
    return select(*(tasks.c[name] for name in TASK_COLUMNS))
