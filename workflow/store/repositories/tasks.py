"""Writing tasks: new ones, and changes made only by compare-and-set on the task's version
(someone else's change in between makes it none, and the caller's a Conflict)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update

from workflow.domain.tasks import TaskView
from workflow.store import driver
from workflow.store.queries.tasks import TASK_SELECT, TaskQueries, task_from_values
from workflow.store.recorder import Change
from workflow.store.tables import tasks

_CAS_SQL: dict[tuple[str, ...], str] = {}


@dataclass(frozen=True, slots=True)
class DueDateChange:
    """A task's due date re-set (an apology letter's new return date)."""

    task_id: int
    version: int  # the version it is expected at
    due: dt.date


class TaskRepository(TaskQueries):
    def insert(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert task rows in one batched statement; returns their ids in the rows' order."""
        if not rows:
            return []
        result = self.conn.execute(
            tasks.insert().returning(tasks.c.id, sort_by_parameter_order=True), list(rows)
        )
        return [int(i) for i in result.scalars()]

    def change(self, task_id: int, expected_version: int, values: Mapping[str, Any]) -> Change:
        """The compare-and-set of `values` (and the next version) as a plain statement
        returning the changed row (none: someone changed the task first)."""
        names = ("version", *values)
        sql = _CAS_SQL.get(names)
        if sql is None:
            assignments = ", ".join(f"{name}=?" for name in names)
            sql = _CAS_SQL[names] = (
                f"UPDATE tasks SET {assignments} WHERE tasks.id = ? AND tasks.version = ? "
                f"RETURNING {TASK_SELECT}"
            )
        bind = self.backend.bind
        params = [expected_version + 1, *(bind(v) for v in values.values())]
        params += [task_id, expected_version]
        return sql, params

    def compare_and_set(
        self, task_id: int, expected_version: int, values: Mapping[str, Any]
    ) -> TaskView | None:
        """Apply `values` only if nobody changed the task since `expected_version`; the
        task as it now is, or None."""
        return self.changed(driver.rows(self.conn, *self.change(task_id, expected_version, values)))

    @staticmethod
    def changed(rows: Sequence[Sequence[Any]]) -> TaskView | None:
        """The task a `change` statement returned (None: it changed nothing)."""
        return task_from_values(rows[0]) if rows else None

    def move_due_dates(self, changes: Sequence[DueDateChange], at: dt.datetime) -> bool:
        """Re-set due dates, each by compare-and-set; False (and the caller rolls back) if
        any task was changed meanwhile."""
        if not changes:
            return True
        changed = self.conn.execute(
            update(tasks)
            .where(tasks.c.id == bindparam("b_task"), tasks.c.version == bindparam("b_version"))
            .values(due_date=bindparam("b_due"), version=bindparam("b_next"), updated_at=at),
            [
                {
                    "b_task": c.task_id,
                    "b_version": c.version,
                    "b_next": c.version + 1,
                    "b_due": c.due,
                }
                for c in changes
            ],
        ).rowcount
        return bool(changed == len(changes))
