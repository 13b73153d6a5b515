"""The audit recorder: how the log is appended to and read, one subclass per backend
(`store.sqlite.SqliteRecorder`, `store.postgres.PostgresRecorder`).

Appends are serialised (one chain, never forked); each backend says how next to the code
that takes its lock. Reads are the same SQL on both: keyset scans for verify and export, and
the filtered query for auditors.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, TextClause, and_, select

from workflow.clock import Clock
from workflow.domain.audit_chain import FIELDS, START, Record, Span, format_at, verify_span
from workflow.domain.filters import AuditFilter
from workflow.store import driver
from workflow.store.tables import audit_log

COLUMNS = ", ".join(FIELDS)
INSERT = f"INSERT INTO audit_log ({COLUMNS}) VALUES ({', '.join('?' for _ in FIELDS)})"
HEAD = (
    "SELECT audit_log.seq, audit_log.hash, audit_log.at FROM audit_log "
    "ORDER BY audit_log.seq DESC LIMIT 1"
)
_BEFORE = "SELECT seq, hash, at FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1"
_RANGE = f"SELECT {COLUMNS} FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq"
_NEXT = "SELECT seq FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1"
_LAST = "SELECT COALESCE(MAX(seq), 0) FROM audit_log"
_AT = "SELECT hash FROM audit_log WHERE seq = ?"

Change = tuple[str, Sequence[Any]]  # a statement returning the rows it changed, its parameters


def head_of(rows: Sequence[Sequence[Any]]) -> tuple[int, str, str]:
    """(seq, hash, time) of the head entry from its query's rows (`START` when empty)."""
    return (int(rows[0][0]), rows[0][1], rows[0][2]) if rows else START


class AuditRecorder(ABC):
    @abstractmethod
    def append(self, conn: Connection, records: Sequence[Record], clock: Clock) -> None:
        """Append entries in order, inside the caller's writing transaction: the chain's
        lock (held to commit), its head, the time (read from `clock` under the lock, so
        that entries are dated in the order they are chained, and refused when earlier than
        the head: `audit_chain.stamp_after`), one multi-row INSERT."""

    @abstractmethod
    def move(
        self, conn: Connection, change: Change, record: Record, clock: Clock
    ) -> tuple[list[tuple[Any, ...]], int | None]:
        """`change` (a compare-and-set returning the row it changed) and, when it changed a
        row, the entry of `record` after it: one transaction of their own, committed, on a
        connection with none open. Returns the changed rows and the entry's seq (None:
        nothing changed, nothing appended)."""

    # ------------------------------------------------------------------ reads

    def head(self, conn: Connection) -> tuple[int, str, str]:
        return head_of(driver.rows(conn, HEAD))

    def last_seq(self, conn: Connection) -> int:
        return int(driver.rows(conn, _LAST)[0][0])

    def hash_at(self, conn: Connection, seq: int) -> str | None:
        found = driver.rows(conn, _AT, (seq,))
        return str(found[0][0]) if found else None

    def verify_span(
        self,
        conn: Connection,
        lo: int,
        hi: int | None,
        anchor: tuple[int, str] | None,
        batch: int = 20_000,
    ) -> Span:
        """The chain's check over the stored entries lo <= seq < hi (hi None: to the end),
        from where the stored log stands before lo."""
        before = head_of(driver.rows(conn, _BEFORE, (lo,)))
        return verify_span(self.scan(conn, lo, hi, batch), before, anchor)

    def scan(
        self, conn: Connection, lo: int = 1, hi: int | None = None, batch: int = 20_000
    ) -> Iterator[tuple[Any, ...]]:
        """The entries lo <= seq < hi (hi None: to the end), as tuples in FIELDS order, in seq
        order, `batch` seqs at a time (bounded memory).

        Each query is a range bounded on both sides: with an open end, a PostgreSQL planner
        without statistics of the table (a log just loaded, autovacuum off) takes the rest of
        the table for a few hundred rows and sorts all of it for every batch. A gap in the
        seqs wider than a batch costs one probe.
        """
        last, end = lo - 1, None if hi is None else hi - 1  # end: the span's last seq
        while end is None or last < end:
            upper = last + batch if end is None else min(last + batch, end)
            found = driver.rows(conn, _RANGE, (last, upper))
            if found:
                yield from found
                last = upper
                continue
            following = driver.rows(conn, _NEXT, (upper,))  # where does the log go on?
            if not following or (end is not None and following[0][0] > end):
                return
            last = following[0][0] - 1

    def entries(self, conn: Connection, batch: int = 20_000) -> Iterator[dict[str, Any]]:
        """Every entry as stored (`data` the canonical JSON text), oldest first."""
        for row in self.scan(conn, 1, None, batch):
            yield dict(zip(FIELDS, row, strict=True))

    @abstractmethod
    def note_words(self, words: Sequence[str]) -> TextClause:
        """A condition: the entry's indexed notes (`audit_text`, migration 0011) hold every
        word, each as a word or a word's beginning. The words are folded and made of letters
        and digits only (`services.audit_pages.words_of`); quoted anyway."""

    def query(
        self, conn: Connection, where: AuditFilter, *, decode: bool = True
    ) -> list[dict[str, Any]]:
        """Entries matching every given filter, oldest first; `data` decoded to an object
        (`decode`) or as stored, the text that was hashed."""
        c = audit_log.c
        conditions: list[ColumnElement[bool] | TextClause] = []
        for column, value in (
            (c.task_id, where.task_id),
            (c.plan_id, where.plan_id),
            (c.unit, where.unit),
            (c.actor, where.actor),
            (c.action, where.action),
            (c.subject, where.subject),
        ):
            if value is not None:
                conditions.append(column == value)
        if where.organisations is not None:
            conditions.append(c.organisation.in_(sorted(where.organisations)))
        if where.since is not None:
            conditions.append(c.at >= format_at(where.since))
        if where.until is not None:
            conditions.append(c.at < format_at(where.until))
        if where.after_seq is not None:
            conditions.append(c.seq > where.after_seq)
        if where.note_words:
            conditions.append(self.note_words(where.note_words))
        stmt = select(audit_log).where(and_(True, *conditions)).order_by(c.seq)
        if where.limit is not None:
            stmt = stmt.limit(where.limit)
        found = (row._asdict() for row in conn.execute(stmt))
        return [decoded(row) for row in found] if decode else list(found)


def decoded(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["data"] = json.loads(out["data"])
    return out
