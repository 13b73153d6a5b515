"""Reading inspections: draws, their targets and checklists, records, what waits for a
conclusion, and the risk signals a draw ranks units by (each one SQL aggregate)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select

from workflow.clock import as_utc
from workflow.domain.audit_chain import format_at
from workflow.domain.lifecycle import NOT_DONE, Move, State
from workflow.store.queries.base import Queries
from workflow.store.tables import (
    audit_log,
    dossiers,
    inspection_records,
    inspection_targets,
    inspections,
    notices,
    tasks,
)


@dataclass(frozen=True, slots=True)
class StoredDraw:
    """A row of `inspections`: one draw of a period (a redraw is another revision)."""

    id: int
    organisation: str
    period: str
    revision: int
    ratio: float
    seed: int
    algorithm: str
    selected: list[str]  # in ranking order
    record_hash: str
    drawn_by: str
    drawn_at: dt.datetime
    reason: str | None
    superseded_by: int | None


@dataclass(frozen=True, slots=True)
class Target:
    """A selected unit, its inspection task, and the tasks its record must cover."""

    inspection_id: int
    unit: str
    task_id: int
    checklist: list[int]


@dataclass(frozen=True, slots=True)
class TargetView:
    """A target with its inspection task's code and state, as `inspections show` lists it."""

    unit: str
    task_id: int
    code: str
    state: str
    checklist: list[int]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A submitted inspection record (one revision)."""

    task_id: int
    revision: int
    record: dict[str, Any]
    record_hash: str
    submitted_by: str


@dataclass(frozen=True, slots=True)
class CheckedTask:
    """A task on a checklist, as a record template and a conclusion notice name it."""

    id: int
    code: str
    title: str
    category: str | None


@dataclass(frozen=True, slots=True)
class RiskCounts:
    """Per unit (lead unit), the counts a draw's risk signals are made of."""

    overdue_tasks: dict[str, int]
    returned_submissions: dict[str, int]
    late_dossiers: dict[str, int]


class InspectionQueries(Queries):
    # ------------------------------------------------------------------ draws

    def get(self, inspection_id: int) -> StoredDraw | None:
        row = self.conn.execute(select(inspections).where(inspections.c.id == inspection_id))
        return _draw(row.first())

    def current(self, organisation: str, period: str) -> StoredDraw | None:
        """The period's draw in force (not superseded by a redraw)."""
        i = inspections.c
        row = self.conn.execute(
            select(inspections).where(
                i.organisation == organisation, i.period == period, i.superseded_by.is_(None)
            )
        ).first()
        return _draw(row)

    def find(self, organisation: str | None = None, period: str | None = None) -> list[StoredDraw]:
        """Every draw (of an organisation, of a period), by organisation, period, revision."""
        i = inspections.c
        stmt = select(inspections).order_by(i.organisation, i.period, i.revision)
        if organisation is not None:
            stmt = stmt.where(i.organisation == organisation)
        if period is not None:
            stmt = stmt.where(i.period == period)
        return [_draw_of(row) for row in self.conn.execute(stmt)]

    def predecessor(self, inspection_id: int) -> int | None:
        """The draw this one superseded (None: it is a first draw)."""
        found = self.conn.execute(
            select(inspections.c.id).where(inspections.c.superseded_by == inspection_id)
        ).scalar_one_or_none()
        return None if found is None else int(found)

    # ------------------------------------------------------------------ targets

    def targets(self, inspection_id: int) -> dict[str, int]:
        """The draw's units and their inspection tasks."""
        t = inspection_targets.c
        rows = self.conn.execute(select(t.unit, t.task_id).where(t.inspection_id == inspection_id))
        return {unit: int(task_id) for unit, task_id in rows}

    def target_views(self, inspection_id: int) -> list[TargetView]:
        """The draw's targets with their tasks' code and state, by unit."""
        t = inspection_targets.c
        rows = self.conn.execute(
            select(t.unit, t.task_id, tasks.c.code, tasks.c.state, t.checklist)
            .join(tasks, tasks.c.id == t.task_id)
            .where(t.inspection_id == inspection_id)
            .order_by(t.unit)
        )
        return [
            TargetView(unit, int(task_id), code, state, json.loads(checklist))
            for unit, task_id, code, state, checklist in rows
        ]

    def target_of(self, task_id: int) -> Target | None:
        """The target an inspection task was created for (the latest draw that keeps it)."""
        t = inspection_targets.c
        row = self.conn.execute(
            select(t.inspection_id, t.unit, t.task_id, t.checklist)
            .where(t.task_id == task_id)
            .order_by(t.inspection_id.desc())
        ).first()
        if row is None:
            return None
        return Target(int(row.inspection_id), row.unit, int(row.task_id), json.loads(row.checklist))

    def checklists(
        self,
        organisation: str,
        units: Collection[str],
        start: dt.date,
        end: dt.date,
        kinds: Sequence[str],
    ) -> dict[str, list[int]]:
        """Each unit's tasks (of `kinds`) an inspection of [start, end] looks at, by id: those
        due in the period, and those still open that were due before it or have no due date
        (ongoing duties). One statement for every unit."""
        c = tasks.c
        rows = self.conn.execute(
            select(c.lead_unit, c.id)
            .where(
                c.organisation == organisation,
                c.lead_unit.in_(sorted(units)),
                c.kind.in_(list(kinds)),
                or_(
                    and_(c.due_date >= start, c.due_date <= end),
                    and_(
                        c.state != State.CLOSED.value,
                        or_(c.due_date.is_(None), c.due_date < start),
                    ),
                ),
            )
            .order_by(c.id)
        )
        found: dict[str, list[int]] = {unit: [] for unit in units}
        for unit, task_id in rows:
            found[unit].append(int(task_id))
        return found

    def checked_tasks(self, ids: Collection[int]) -> dict[int, CheckedTask]:
        """These tasks (those that exist), by id."""
        if not ids:
            return {}
        c = tasks.c
        rows = self.conn.execute(
            select(c.id, c.code, c.title, c.category).where(c.id.in_(sorted(ids)))
        )
        return {int(i): CheckedTask(int(i), code, title, cat) for i, code, title, cat in rows}

    def fix_tasks(self, parent_ids: Collection[int]) -> dict[int, list[int]]:
        """The fix tasks each of these inspection tasks gave rise to, by id."""
        found: dict[int, list[int]] = {int(p): [] for p in parent_ids}
        if not parent_ids:
            return found
        c = tasks.c
        rows = self.conn.execute(
            select(c.parent_task, c.id).where(c.parent_task.in_(sorted(parent_ids))).order_by(c.id)
        )
        for parent, task_id in rows:
            found[int(parent)].append(int(task_id))
        return found

    # ------------------------------------------------------------------ records

    def record_count(self, task_id: int) -> int:
        """How many records were submitted for the task (its revisions so far)."""
        return int(
            self.conn.execute(
                select(func.count()).where(inspection_records.c.task_id == task_id)
            ).scalar_one()
        )

    def latest_record(self, task_id: int) -> StoredRecord | None:
        r = inspection_records.c
        row = self.conn.execute(
            select(r.task_id, r.revision, r.record, r.record_hash, r.submitted_by)
            .where(r.task_id == task_id)
            .order_by(r.revision.desc())
        ).first()
        if row is None:
            return None
        return StoredRecord(
            int(row.task_id), int(row.revision), json.loads(row.record), row.record_hash,
            row.submitted_by,
        )  # fmt: skip

    def pending_conclusions(self, organisation: str | None = None) -> list[int]:
        """Inspection tasks whose record was verified and that have no conclusion notice."""
        c = tasks.c
        stmt = (
            select(c.id)
            .where(
                c.kind == "inspection",
                c.completed_at.is_not(None),
                ~select(notices.c.id)
                .where(notices.c.task_id == c.id, notices.c.kind == "conclusion")
                .exists(),
            )
            .order_by(c.id)
        )
        if organisation is not None:
            stmt = stmt.where(c.organisation == organisation)
        return [int(i) for i in self.conn.execute(stmt).scalars()]

    # ------------------------------------------------------------------ risk signals

    def risk_counts(
        self, organisation: str, kinds: Sequence[str], today: dt.date, since: dt.datetime
    ) -> RiskCounts:
        """Per lead unit, each one aggregate:

        - overdue tasks: tasks of `kinds` past their due date (`today`) and not yet done;
        - returned submissions: `return` moves on the unit's tasks since `since`;
        - late dossiers: dossiers received since `since` resolved after their original due
          date (its Vietnam date), or still unresolved past it.
        """
        c = tasks.c
        overdue = self._by_unit(
            select(c.lead_unit, func.count())
            .where(
                c.organisation == organisation,
                c.kind.in_(list(kinds)),
                c.due_date < today,
                c.state.in_(sorted(s.value for s in NOT_DONE)),
            )
            .group_by(c.lead_unit)
        )
        returned = self._by_unit(
            select(c.lead_unit, func.count())
            .select_from(audit_log.join(tasks, tasks.c.id == audit_log.c.task_id))
            .where(
                audit_log.c.action == Move.RETURN.value,
                audit_log.c.organisation == organisation,
                audit_log.c.at >= format_at(since),
            )
            .group_by(c.lead_unit)
        )
        done_on = self.backend.local_date(c.completed_at)
        late = self._by_unit(
            select(c.lead_unit, func.count())
            .select_from(dossiers.join(tasks, tasks.c.id == dossiers.c.task_id))
            .where(
                dossiers.c.organisation == organisation,
                dossiers.c.received_at >= since,
                or_(
                    and_(c.completed_at.is_not(None), done_on > dossiers.c.original_due),
                    and_(
                        c.completed_at.is_(None),
                        c.state != State.CLOSED.value,
                        dossiers.c.original_due < today,
                    ),
                ),
            )
            .group_by(c.lead_unit)
        )
        return RiskCounts(overdue, returned, late)

    def _by_unit(self, stmt: Any) -> dict[str, int]:
        return {unit: int(n) for unit, n in self.conn.execute(stmt)}

    def inspected(self, organisation: str) -> list[tuple[str, str]]:
        """(unit, period) of every unit chosen by a draw in force, any period."""
        rows = self.conn.execute(
            select(inspection_targets.c.unit, inspections.c.period)
            .join(inspections, inspections.c.id == inspection_targets.c.inspection_id)
            .where(
                inspections.c.organisation == organisation, inspections.c.superseded_by.is_(None)
            )
        )
        return [(unit, period) for unit, period in rows]


def _draw(row: Any) -> StoredDraw | None:
    return None if row is None else _draw_of(row)


def _draw_of(row: Any) -> StoredDraw:
    return StoredDraw(
        id=int(row.id),
        organisation=row.organisation,
        period=row.period,
        revision=int(row.revision),
        ratio=float(row.ratio),
        seed=int(row.seed),
        algorithm=row.algorithm,
        selected=json.loads(row.selected),
        record_hash=row.record_hash,
        drawn_by=row.drawn_by,
        drawn_at=as_utc(row.drawn_at),
        reason=row.reason,
        superseded_by=row.superseded_by,
    )
