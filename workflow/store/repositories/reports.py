"""Writing reports: a snapshot is inserted once and never changed (the table's triggers
refuse UPDATE and DELETE, 0004); a revision is a new row naming the one it revises."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import insert

from workflow.store.queries.reports import ReportQueries
from workflow.store.tables import report_snapshots


@dataclass(frozen=True, slots=True)
class NewSnapshot:
    organisation: str
    period: str
    window_rule: str
    revision: int
    window_from: dt.date
    window_to: dt.date
    previous_id: int | None
    generated_at: dt.datetime
    generated_by: str
    reason: str | None
    content: str  # canonical JSON, exactly as hashed
    content_hash: str


class ReportRepository(ReportQueries):
    def add(self, new: NewSnapshot) -> int:
        """Store the snapshot; its id."""
        return int(
            self.conn.execute(
                insert(report_snapshots).values(**asdict(new)).returning(report_snapshots.c.id)
            ).scalar_one()
        )
