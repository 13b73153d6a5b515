"""Reading the audit log: the auditors' query, the scans of verify, replay and export, and
the entry a document or a draw is checked against."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select

from workflow.domain.audit_chain import SafeguardProblem, Span
from workflow.domain.filters import AuditFilter
from workflow.store.queries.base import Queries
from workflow.store.tables import audit_log


class AuditQueries(Queries):
    def query(self, where: AuditFilter) -> list[dict[str, Any]]:
        """Entries matching every given filter, oldest first; `data` decoded to an object."""
        return self.backend.recorder.query(self.conn, where)

    def entries(self, batch: int = 20_000) -> Iterator[dict[str, Any]]:
        """Every entry as stored (`data` its canonical JSON text), oldest first."""
        return self.backend.recorder.entries(self.conn, batch)

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Every entry as a tuple of `audit_chain.FIELDS`, oldest first (verify's scan)."""
        return self.backend.recorder.scan(self.conn)

    def last_seq(self) -> int:
        return self.backend.recorder.last_seq(self.conn)

    def head(self) -> tuple[int, str]:
        """The last entry's seq and hash as this transaction sees them ((0, genesis) when
        the log is empty)."""
        seq, last, _at = self.backend.recorder.head(self.conn)
        return seq, last

    def hash_at(self, seq: int) -> str | None:
        return self.backend.recorder.hash_at(self.conn, seq)

    def verify_span(self, lo: int, hi: int | None, anchor: tuple[int, str] | None) -> Span:
        return self.backend.recorder.verify_span(self.conn, lo, hi, anchor)

    def safeguards(self) -> list[SafeguardProblem]:
        """The append-only triggers and functions missing, disabled or changed."""
        return self.backend.safeguards.problems(self.conn)

    def last_notes(self, task_ids: Sequence[int], action: str) -> dict[int, str]:
        """The note of each task's last `action` entry (a submission's: what was delivered),
        for a page of tasks in one statement (the task index), not one query a row."""
        if not task_ids:
            return {}
        c = audit_log.c
        stmt = (
            select(c.task_id, c.data)
            .where(c.task_id.in_(list(task_ids)), c.action == action)
            .order_by(c.seq)
        )
        last: dict[int, str | None] = {}
        for task_id, data in self.conn.execute(stmt):
            note = json.loads(data).get("note") if data else None
            last[int(task_id)] = str(note) if note else None
        return {task: note for task, note in last.items() if note is not None}

    def of_task(self, task_id: int) -> list[dict[str, Any]]:
        """Every entry about a task, oldest first, as stored (`data` as text)."""
        return self.backend.recorder.query(self.conn, AuditFilter(task_id=task_id), decode=False)

    def first(self, action: str, subject: str) -> dict[str, Any] | None:
        """The first entry of `action` about `subject`, as stored (`data` as text)."""
        found = self.backend.recorder.query(
            self.conn, AuditFilter(action=action, subject=subject, limit=1), decode=False
        )
        return found[0] if found else None
