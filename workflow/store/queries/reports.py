"""Reading reports: the stored snapshots (the latest revision of a report, one by id, the
list), and through `figures` the aggregates a new snapshot is computed from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import and_, select

from workflow.clock import as_utc
from workflow.store.queries.base import Queries
from workflow.store.queries.report_figures import ReportFigureQueries
from workflow.store.tables import report_snapshots


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stored snapshot as its check needs it: its content exactly as hashed."""

    id: int
    revision: int
    content: str  # canonical JSON
    content_hash: str


@dataclass(frozen=True, slots=True)
class SnapshotSummary:
    """A stored snapshot without its content (the list)."""

    id: int
    organisation: str
    period: str
    window_rule: str
    revision: int
    window_from: dt.date
    window_to: dt.date
    generated_at: dt.datetime  # aware, UTC
    generated_by: str
    previous_id: int | None
    reason: str | None
    content_hash: str


_S = report_snapshots.c
_SNAPSHOT = (_S.id, _S.revision, _S.content, _S.content_hash)


class ReportQueries(Queries):
    @cached_property
    def figures(self) -> ReportFigureQueries:
        """The aggregates of a report's figures, on this transaction."""
        return ReportFigureQueries(self.conn, self.backend)

    def latest(self, organisation: str, period: str, rule: str) -> Snapshot | None:
        """The latest revision of the report of that organisation, period and window rule."""
        row = self.conn.execute(
            select(*_SNAPSHOT)
            .where(_S.organisation == organisation, _S.period == period, _S.window_rule == rule)
            .order_by(_S.revision.desc())
            .limit(1)
        ).first()
        return None if row is None else Snapshot(*row)

    def get(self, snapshot_id: int) -> Snapshot | None:
        row = self.conn.execute(select(*_SNAPSHOT).where(_S.id == snapshot_id)).first()
        return None if row is None else Snapshot(*row)

    def summaries(
        self, organisation: str | None = None, period: str | None = None
    ) -> list[SnapshotSummary]:
        """Every stored snapshot (revisions included) of the organisation and period key,
        when given, oldest first."""
        conditions = []
        if organisation is not None:
            conditions.append(_S.organisation == organisation)
        if period is not None:
            conditions.append(_S.period == period)
        rows = self.conn.execute(
            select(
                _S.id,
                _S.organisation,
                _S.period,
                _S.window_rule,
                _S.revision,
                _S.window_from,
                _S.window_to,
                _S.generated_at,
                _S.generated_by,
                _S.previous_id,
                _S.reason,
                _S.content_hash,
            )
            .where(and_(True, *conditions))
            .order_by(_S.id)
        ).all()
        return [
            SnapshotSummary(
                id=r.id,
                organisation=r.organisation,
                period=r.period,
                window_rule=r.window_rule,
                revision=r.revision,
                window_from=r.window_from,
                window_to=r.window_to,
                generated_at=as_utc(r.generated_at),
                generated_by=r.generated_by,
                previous_id=r.previous_id,
                reason=r.reason,
                content_hash=r.content_hash,
            )
            for r in rows
        ]
