"""Writing notices: each side effect of a flow recorded once, under a unique key, in the same
transaction as its audit entry (running the flow again finds the key and does nothing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, fields

from sqlalchemy import insert

from workflow.store.queries.notices import NoticeQueries
from workflow.store.tables import notices


@dataclass(frozen=True, slots=True)
class NewNotice:
    key: str  # unique: `apology:<task>:<missed due>`, `reminder:<task>:<due>`, ...
    kind: str  # apology, reminder, escalation, conclusion
    task_id: int
    organisation: str
    unit: str | None
    due_date: dt.date  # the due date missed or at risk (a conclusion: the inspection's day)
    issued_at: dt.datetime
    new_due: dt.date | None = None
    path: str | None = None  # the document written, if any
    content_hash: str | None = None  # its SHA-256


_NAMES = tuple(f.name for f in fields(NewNotice))


class NoticeRepository(NoticeQueries):
    def add(self, new: Sequence[NewNotice]) -> None:
        if new:
            # Field by field: `asdict` deep-copies each value, 30 times the cost per notice.
            self.conn.execute(
                insert(notices), [{n: getattr(row, n) for n in _NAMES} for row in new]
            )
