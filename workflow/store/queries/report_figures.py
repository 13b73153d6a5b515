"""The SQL aggregates a report's figures come from: one grouped scan of the tasks
(`GROUP BY` organisation, plan, category, unit, whether open in the window and the trend's
quarter of completion; conditional `sum`s for the classes; the withdraw moves looked up by
task only for tasks closed without a result), one of the audit log's moves in the window
(by the `at` index, joined to their tasks), one of the dossiers, two small ones for letters
and inspections. Each returns a few
grouped rows, which `workflow.domain.report_content` adds up; what each figure counts is
stated in `workflow.domain.reporting` (the tests check that this SQL agrees).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, case, distinct, exists, func, literal, not_, or_, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from workflow.clock import LOCAL_TZ
from workflow.domain.audit_chain import format_at
from workflow.domain.lifecycle import Move, State
from workflow.domain.report_content import (
    MOVED,
    STATES,
    DossierGroup,
    MoveGroup,
    TaskGroup,
)
from workflow.domain.reporting import Span, Window
from workflow.store.queries.base import Queries
from workflow.store.tables import (
    audit_log,
    dossiers,
    inspection_targets,
    notices,
    plan_versions,
    plans,
    tasks,
)

TASK_KINDS = ("plan", "fix")  # inspection and conclusion tasks feed the inspection figures
_LETTERS = {"apology": "apology_letters", "escalation": "escalations"}


class ReportFigureQueries(Queries):
    def task_groups(
        self, org: str | None, span: Span, quarters: Sequence[Window] = ()
    ) -> list[TaskGroup]:
        """One grouped scan of the tasks, per (organisation, plan, category, lead unit),
        every organisation's when `org` is None (the province roll-up), split by two flags:
        `listed`, open in the window (`reporting`: created before its end, not completed or
        withdrawn before its start), and `done_in`, the quarter of `quarters` (the trend's)
        the task was completed in (-1: none). The figures are the listed groups'; the trend
        adds up the groups of each quarter."""
        t = tasks.c
        win, lo, hi = span.window, span.start, span.end
        mine = [] if org is None else [t.organisation == org]
        whole = self.backend.reads_whole_table(
            self.conn,
            select(func.count()).select_from(tasks).where(*mine),
            select(func.max(t.id)),
        )
        done = and_(t.completed_at.is_not(None), t.completed_at < hi)
        on_time = and_(done, self.backend.local_date(t.completed_at) <= t.due_date)
        withdrawn = _withdrawn_before(t, hi)
        still_open = and_(not_(done), not_(withdrawn))
        nxt = span.next_window
        counted: dict[str, ColumnElement[bool]] = {
            "tasks_due": t.due_date.between(win.start, win.end),
            "tasks_completed": done,
            "tasks_completed_on_time": on_time,
            "tasks_withdrawn": withdrawn,
            "tasks_open_at_end": still_open,
            "tasks_overdue": and_(still_open, t.due_date < span.overdue_before),
            "tasks_due_next": and_(still_open, t.due_date.between(nxt.start, nxt.end)),
        }
        listed = case(
            (
                and_(
                    or_(t.completed_at.is_(None), t.completed_at >= lo),
                    not_(_withdrawn_before(t, lo)),
                ),
                1,
            ),
            else_=0,
        ).label("listed")
        bounds = [q.instants(LOCAL_TZ) for q in quarters]
        since = min([lo, *(b[0] for b in bounds)])
        done_in = (
            case(
                *(
                    (and_(t.completed_at >= b_lo, t.completed_at < b_hi), i)
                    for i, (b_lo, b_hi) in enumerate(bounds)
                ),
                else_=-1,
            )
            if bounds
            else literal(-1)
        ).label("done_in")
        # Read through the table when it is most of it: without the unary plus, SQLite
        # serves the OR below by two range lookups of the completion index, a row each.
        organisation = _unindexed(t.organisation, whole)
        completed = _unindexed(t.completed_at, whole)
        stmt = (
            select(
                t.organisation,
                t.plan_id,
                t.category,
                t.lead_unit,
                listed,
                done_in,
                func.count().label("tasks"),
                *(_count(condition).label(name) for name, condition in counted.items()),
                *(_count(t.state == s).label(f"state_{s}") for s in STATES),
            )
            .where(
                *([] if org is None else [organisation == org]),
                t.kind.in_(TASK_KINDS),
                t.created_at < hi,
                or_(completed.is_(None), completed >= since),
            )
            # The flags first: grouped by an indexed column first, SQLite would walk that
            # column's index, a row lookup each, instead of reading the table through.
            .group_by(listed, done_in, t.organisation, t.plan_id, t.category, t.lead_unit)
        )
        out = []
        for r in self.conn.execute(stmt):
            m = r._mapping
            counts = {name: int(m[name]) for name in ("tasks", *counted)}
            counts["tasks_completed_late"] = (
                counts["tasks_completed"] - counts["tasks_completed_on_time"]
            )
            by_state = {s: int(m[f"state_{s}"]) for s in STATES}
            key = (r.plan_id, r.category, r.lead_unit)
            out.append(
                TaskGroup(r.organisation, key, counts, by_state, bool(r.listed), int(r.done_in))
            )
        return out

    def move_groups(self, org: str, span: Span) -> list[MoveGroup]:
        """Per (plan, category, lead unit): the tasks that made each move of MOVED in the
        window, from the audit log's entries by their recorded time (a task counted once
        per kind of move, however often it made it): the window's entries (by the `at`
        index) folded into one row per task, then joined to their tasks."""
        t, a = tasks.c, audit_log.c
        lo, hi = format_at(span.start), format_at(span.end)
        per_task = (
            select(
                a.task_id.label("task_id"),
                *(
                    func.max(case((a.action == move, 1), else_=0)).label(name)
                    for move, name in MOVED.items()
                ),
            )
            .where(a.at >= lo, a.at < hi, a.action.in_(list(MOVED)))
            .group_by(a.task_id)
            .subquery("moved")
        )
        m = per_task.c
        stmt = (
            select(
                t.plan_id,
                t.category,
                t.lead_unit,
                *(func.sum(m[name]).label(name) for name in MOVED.values()),
            )
            .select_from(per_task.join(tasks, t.id == m.task_id))
            .where(t.organisation == org, t.kind.in_(TASK_KINDS))
            .group_by(t.plan_id, t.category, t.lead_unit)
        )
        return [
            MoveGroup(
                org,
                (r.plan_id, r.category, r.lead_unit),
                {name: int(r._mapping[name] or 0) for name in MOVED.values()},
            )
            for r in self.conn.execute(stmt)
        ]

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


def _withdrawn_before(t: Any, moment: dt.datetime) -> ColumnElement[bool]:
    """Closed without a result (withdrawn) before `moment`: by the withdraw entry's time; a
    closed task without a completion time and no withdraw entry at or after `moment` (none
    at all: an older store) counts as withdrawn before it."""
    a = audit_log.c
    later = exists().where(
        a.task_id == t.id, a.action == Move.WITHDRAW.value, a.at >= format_at(moment)
    )
    return and_(t.state == State.CLOSED.value, t.completed_at.is_(None), not_(later))


def _unindexed(column: ColumnElement[Any], whole: bool) -> ColumnElement[Any]:
    """The column itself; when `whole` (`Backend.reads_whole_table`), as SQLite's unary plus
    (`+column`: the same value, which no index can serve), so that SQLite reads the table
    through instead of one row lookup per index entry."""
    if not whole:
        return column
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)
