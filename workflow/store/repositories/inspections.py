"""Writing inspections: a draw, the draw it supersedes, its targets, the records submitted.
No draw and no record is ever deleted: a redraw adds a revision, a resubmission a record."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, update

from workflow.domain.audit_chain import canonical_json
from workflow.store.queries.inspections import InspectionQueries
from workflow.store.tables import inspection_records, inspection_targets, inspections


@dataclass(frozen=True, slots=True)
class NewDraw:
    organisation: str
    period: str
    revision: int
    ratio: float
    seed: int
    algorithm: str
    selected: Sequence[str]  # in ranking order
    record_hash: str  # of the record its audit entry holds
    drawn_by: str
    drawn_at: dt.datetime
    reason: str | None  # why it was redrawn (None: a first draw)


@dataclass(frozen=True, slots=True)
class NewTarget:
    unit: str
    task_id: int
    checklist: Sequence[int]


class InspectionRepository(InspectionQueries):
    def add(self, draw: NewDraw) -> int:
        """Store a draw; returns its id."""
        return int(
            self.conn.execute(
                insert(inspections)
                .values(
                    organisation=draw.organisation,
                    period=draw.period,
                    revision=draw.revision,
                    ratio=str(draw.ratio),  # as written: "0.3"
                    seed=draw.seed,
                    algorithm=draw.algorithm,
                    selected=json.dumps(list(draw.selected)),
                    record_hash=draw.record_hash,
                    drawn_by=draw.drawn_by,
                    drawn_at=draw.drawn_at,
                    reason=draw.reason,
                )
                .returning(inspections.c.id)
            ).scalar_one()
        )

    def supersede(self, inspection_id: int, by: int, at: dt.datetime) -> None:
        """Link a draw to the redraw that replaces it."""
        self.conn.execute(
            update(inspections)
            .where(inspections.c.id == inspection_id)
            .values(superseded_by=by, superseded_at=at)
        )

    def add_targets(self, inspection_id: int, targets: Sequence[NewTarget]) -> None:
        """The draw's units with their tasks and checklists, in one batched statement."""
        if not targets:
            return
        self.conn.execute(
            insert(inspection_targets),
            [
                {
                    "inspection_id": inspection_id,
                    "unit": t.unit,
                    "task_id": t.task_id,
                    "checklist": json.dumps(list(t.checklist)),
                }
                for t in targets
            ],
        )

    def add_record(
        self,
        task_id: int,
        revision: int,
        content: dict[str, Any],
        record_hash: str,
        submitted_by: str,
        submitted_at: dt.datetime,
    ) -> None:
        """A submitted record, kept as its canonical JSON (what `record_hash` hashes)."""
        self.conn.execute(
            insert(inspection_records).values(
                task_id=task_id,
                revision=revision,
                record=canonical_json(content),
                record_hash=record_hash,
                submitted_by=submitted_by,
                submitted_at=submitted_at,
            )
        )
