"""The SQL aggregates a report's figures come from, over the indexed columns of 0004: one
grouped scan of the tasks (`GROUP BY` quarter, plan, category and unit, conditional `sum`s
for the classes; the quarters give the on-time trend from the same pass), one of the
dossiers, two small ones for letters and inspections. Each returns a few grouped rows,
which `workflow.domain.report_content` adds up; what each figure counts is stated in
`workflow.domain.reporting` (the tests check that this SQL agrees).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from workflow.clock import LOCAL_TZ
from workflow.domain.lifecycle import NOT_DONE, State
from workflow.domain.report_content import STATES, TASK_COUNTS, DossierGroup, TaskGroup
from workflow.domain.reporting import Window
from workflow.store.queries.base import Queries
from workflow.store.tables import (
    dossiers,
    inspection_targets,
    notices,
    plan_versions,
    plans,
    tasks,
)

TASK_KINDS = ("plan", "fix")  # inspection and conclusion tasks feed the inspection figures
_NOT_DONE = sorted(s.value for s in NOT_DONE)
_LETTERS = {"apology": "apology_letters", "escalation": "escalations"}


class ReportFigureQueries(Queries):
    def task_groups(self, org: str, quarters: Sequence[Window], as_of: dt.date) -> list[TaskGroup]:
        """Tasks due in the quarters, per (quarter, plan, category, lead unit)."""
        t = tasks.c
        first, last = quarters[0].start, quarters[-1].end
        whole = self.backend.reads_whole_table(
            self.conn,
            select(func.count()).where(t.organisation == org, t.due_date.between(first, last)),
            select(func.max(t.id)),
        )
        completed = t.completed_at.is_not(None)
        on_time = and_(completed, self.backend.local_date(t.completed_at) <= t.due_date)
        bucket = _bucket(t.due_date, [q.end for q in quarters]).label("bucket")
        stmt = (
            select(
                bucket,
                t.plan_id,
                t.category,
                t.lead_unit,
                func.count().label("tasks"),
                _count(completed).label("tasks_completed"),
                _count(on_time).label("tasks_completed_on_time"),
                _count(and_(t.state.in_(_NOT_DONE), t.due_date < as_of)).label("tasks_overdue"),
                _count(t.returned_count > 0).label("tasks_returned"),
                _count(and_(t.completed_at.is_(None), t.state == State.CLOSED.value)).label(
                    "tasks_withdrawn"
                ),
                *(_count(t.state == s).label(f"state_{s}") for s in STATES),
            )
            .where(
                _unindexed(t.organisation, whole) == org,
                t.kind.in_(TASK_KINDS),
                _unindexed(t.due_date, whole) >= first,
                _unindexed(t.due_date, whole) <= last,
            )
            .group_by(bucket, t.plan_id, t.category, t.lead_unit)
        )
        out = []
        for r in self.conn.execute(stmt):
            m = r._mapping
            counts = {name: int(m[name]) for name in TASK_COUNTS if name != "tasks_completed_late"}
            done, on_time_n = counts["tasks_completed"], counts["tasks_completed_on_time"]
            counts["tasks_completed_late"] = done - on_time_n
            by_state = {s: int(m[f"state_{s}"]) for s in STATES}
            key = (r.plan_id, r.category, r.lead_unit)
            out.append(TaskGroup(int(r.bucket), key, counts, by_state))
        return out

    def dossier_groups(
        self, org: str, quarters: Sequence[Window], as_of: dt.date
    ) -> list[DossierGroup]:
        """Dossiers received in the quarters, per (quarter, handling unit)."""
        t, d = tasks.c, dossiers.c
        bounds = [q.instants(LOCAL_TZ) for q in quarters]
        lo, hi = bounds[0][0], bounds[-1][1]
        whole = self.backend.reads_whole_table(
            self.conn,
            select(func.count()).where(
                d.organisation == org, d.received_at >= lo, d.received_at < hi
            ),
            select(func.count()).select_from(dossiers),
        )
        resolved = t.completed_at.is_not(None)
        done_on = self.backend.local_date(t.completed_at)
        pending = and_(t.completed_at.is_(None), t.state != State.CLOSED.value)
        # received_at < the next quarter's first instant: the bucket's end, exclusive
        bucket = case(*((d.received_at < end, i) for i, (_, end) in enumerate(bounds))).label(
            "bucket"
        )
        stmt = (
            select(
                bucket,
                t.lead_unit,
                func.count().label("dossiers_received"),
                _count(resolved).label("dossiers_resolved"),
                _count(and_(resolved, done_on <= d.original_due)).label(
                    "dossiers_resolved_on_time"
                ),
                _count(pending).label("dossiers_pending"),
                _count(and_(pending, d.current_due < as_of)).label("dossiers_overdue"),
            )
            .select_from(dossiers.join(tasks, t.id == d.task_id))
            .where(
                _unindexed(d.organisation, whole) == org,
                _unindexed(d.received_at, whole) >= lo,
                _unindexed(d.received_at, whole) < hi,
            )
            .group_by(bucket, t.lead_unit)
        )
        out = []
        for r in self.conn.execute(stmt):
            counts = {k: int(v) for k, v in r._mapping.items() if k not in ("bucket", "lead_unit")}
            counts["dossiers_resolved_late"] = (
                counts["dossiers_resolved"] - counts["dossiers_resolved_on_time"]
            )
            out.append(DossierGroup(int(r.bucket), r.lead_unit, counts))
        return out

    def notice_groups(self, org: str, win: Window) -> list[tuple[str | None, dict[str, int]]]:
        """Apology letters and escalations issued in the window, per unit."""
        n = notices.c
        lo, hi = win.instants(LOCAL_TZ)
        stmt = (
            select(n.unit, n.kind, func.count())
            .where(
                n.organisation == org,
                n.kind.in_(list(_LETTERS)),
                n.issued_at >= lo,
                n.issued_at < hi,
            )
            .group_by(n.unit, n.kind)
        )
        return [
            (unit, {_LETTERS[kind]: int(count)}) for unit, kind, count in self.conn.execute(stmt)
        ]

    def inspection_groups(self, org: str, win: Window) -> list[tuple[str, int]]:
        """Per inspected unit: inspection tasks completed (verified) in the window. A redraw
        that keeps a unit keeps its task, hence DISTINCT."""
        t, it = tasks.c, inspection_targets.c
        lo, hi = win.instants(LOCAL_TZ)
        stmt = (
            select(it.unit, func.count(distinct(t.id)))
            .select_from(inspection_targets.join(tasks, t.id == it.task_id))
            .where(
                t.organisation == org,
                t.kind == "inspection",
                t.completed_at >= lo,
                t.completed_at < hi,
            )
            .group_by(it.unit)
        )
        return [(unit, int(count)) for unit, count in self.conn.execute(stmt)]

    def plan_versions(self, org: str, ids: set[str]) -> dict[str, dict[str, Any]]:
        """The version of each plan the figures come from (id, title, version, and that
        version's content hash)."""
        if not ids:
            return {}
        p, v = plans.c, plan_versions.c
        rows = self.conn.execute(
            select(p.id, p.title, p.current_version, v.content_hash)
            .join(plan_versions, and_(v.plan_id == p.id, v.version == p.current_version))
            .where(p.organisation == org, p.id.in_(sorted(ids)))
        ).all()
        return {
            r.id: {
                "id": r.id,
                "title": r.title,
                "version": r.current_version,
                "hash": r.content_hash,
            }
            for r in rows
        }


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _bucket(column: Any, ends: Sequence[dt.date]) -> ColumnElement[Any]:
    """The index of the first quarter whose last day the date is not after (ascending)."""
    return case(*((column <= end, i) for i, end in enumerate(ends)))


def _unindexed(column: ColumnElement[Any], whole: bool) -> ColumnElement[Any]:
    """The column itself; when `whole` (`Backend.reads_whole_table`), as SQLite's unary plus
    (`+column`: the same value, which no index can serve), so that SQLite reads the table
    through instead of one row lookup per index entry."""
    if not whole:
        return column
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
