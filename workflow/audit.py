"""The append-only, hash-chained audit log: append, query, verify, export.

Each entry's hash is SHA-256 over a canonical encoding (JSON, sorted keys, no spaces, UTF-8)
of every stored field but the hash itself, previous hash included. Appends happen inside the
caller's transaction and are serialised: by SQLite's write lock (writers BEGIN IMMEDIATE) or
by a PostgreSQL advisory lock held until commit, so the chain never forks.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import Connection, and_, insert, select, text

from workflow.store.tables import audit_log

GENESIS_HASH = "0" * 64
# Any constant works; it only has to be the same for every appender of one database.
_PG_CHAIN_LOCK = 0x706C616E666C6F77  # "planflow"

FIELDS = (
    "seq",
    "at",
    "actor",
    "role",
    "unit",
    "organisation",
    "action",
    "subject",
    "task_id",
    "plan_id",
    "from_state",
    "to_state",
    "data",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True, slots=True)
class Record:
    """What a caller asks to record; seq, time and hashes are the log's business."""

    actor: str
    action: str
    subject: str
    role: str | None = None
    unit: str | None = None
    organisation: str | None = None
    task_id: int | None = None
    plan_id: str | None = None
    from_state: str | None = None
    to_state: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def format_at(when: dt.datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(row: Mapping[str, Any]) -> str:
    body = {name: row[name] for name in FIELDS if name != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def content_hash(content: bytes | str) -> str:
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(raw).hexdigest()


def _lock_chain(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_LOCK})
    # SQLite: the writer already holds the database write lock (BEGIN IMMEDIATE).


def _head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)


def append(conn: Connection, record: Record, at: dt.datetime) -> dict[str, Any]:
    """Append one entry inside the caller's transaction; returns the stored row."""
    return append_many(conn, [record], at)[0]


def append_many(
    conn: Connection, records: Sequence[Record], at: dt.datetime
) -> list[dict[str, Any]]:
    """Append entries in order under one lock and one multi-row INSERT."""
    if not records:
        return []
    _lock_chain(conn)
    seq, prev = _head(conn)
    stamp = format_at(at)
    rows = []
    for record in records:
        seq += 1
        row: dict[str, Any] = {
            "seq": seq,
            "at": stamp,
            "actor": record.actor,
            "role": record.role,
            "unit": record.unit,
            "organisation": record.organisation,
            "action": record.action,
            "subject": record.subject,
            "task_id": record.task_id,
            "plan_id": record.plan_id,
            "from_state": record.from_state,
            "to_state": record.to_state,
            "data": canonical_json(dict(record.data)),
            "prev_hash": prev,
        }
        row["hash"] = prev = entry_hash(row)
        rows.append(row)
    conn.execute(insert(audit_log), rows)
    return rows


# ------------------------------------------------------------------ query


@dataclass(frozen=True, slots=True)
class AuditFilter:
    task_id: int | None = None
    plan_id: str | None = None
    unit: str | None = None
    actor: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after_seq: int | None = None
    limit: int | None = None


def query(conn: Connection, where: AuditFilter) -> list[dict[str, Any]]:
    """Entries matching every given filter, oldest first; `data` decoded to an object."""
    c = audit_log.c
    conditions = []
    if where.task_id is not None:
        conditions.append(c.task_id == where.task_id)
    if where.plan_id is not None:
        conditions.append(c.plan_id == where.plan_id)
    if where.unit is not None:
        conditions.append(c.unit == where.unit)
    if where.actor is not None:
        conditions.append(c.actor == where.actor)
    if where.action is not None:
        conditions.append(c.action == where.action)
    if where.since is not None:
        conditions.append(c.at >= format_at(where.since))
    if where.until is not None:
        conditions.append(c.at < format_at(where.until))
    if where.after_seq is not None:
        conditions.append(c.seq > where.after_seq)
    stmt = select(audit_log).where(and_(True, *conditions)).order_by(c.seq)
    if where.limit is not None:
        stmt = stmt.limit(where.limit)
    return [decoded(row._asdict()) for row in conn.execute(stmt)]


def decoded(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["data"] = json.loads(out["data"])
    return out


def iter_raw(conn: Connection, batch: int = 20_000) -> Iterator[dict[str, Any]]:
    """Every entry in seq order, in keyset-paginated batches (bounded memory)."""
    last = -1
    columns = [audit_log.c[name] for name in FIELDS]
    while True:
        rows = conn.execute(
            select(*columns).where(audit_log.c.seq > last).order_by(audit_log.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield dict(zip(FIELDS, row, strict=True))
        last = rows[-1][0]


# ------------------------------------------------------------------ verify


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_seq: int | None = None
    head_hash: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
        }


def verify(
    entries: Iterable[Mapping[str, Any]], anchor: tuple[int, str] | None = None
) -> Verification:
    """Recompute the chain and name the first entry that does not match.

    A deleted entry shows as a gap in seq, an edited one as a hash that no longer matches
    its content, an inserted or reordered one as a broken link to its predecessor. With an
    anchor (a head published outside the database), a chain rewritten from scratch is
    caught too, as long as it is at least as long as the anchor.
    """
    expected_seq, prev, checked = 1, GENESIS_HASH, 0
    anchor_seen = anchor is None
    for row in entries:
        seq = row["seq"]
        if seq != expected_seq:
            if seq > expected_seq:
                missing = (
                    f"entry {expected_seq} is missing"
                    if seq == expected_seq + 1
                    else f"entries {expected_seq} to {seq - 1} are missing"
                )
                return Verification(
                    False,
                    checked,
                    expected_seq,
                    f"{missing}: entry {seq} follows entry {expected_seq - 1}",
                )
            return Verification(
                False, checked, seq, f"entry {seq} is out of order: expected entry {expected_seq}"
            )
        if row["prev_hash"] != prev:
            return Verification(
                False,
                checked,
                seq,
                f"entry {seq} does not link to entry {seq - 1}: its prev_hash is "
                f"{row['prev_hash'][:12]}…, entry {seq - 1} hashes to {prev[:12]}… "
                "(an entry was inserted, removed or rewritten here)",
            )
        actual = entry_hash(row)
        if actual != row["hash"]:
            return Verification(
                False,
                checked,
                seq,
                f"entry {seq} was altered: its content hashes to {actual[:12]}…, "
                f"not to its recorded hash {row['hash'][:12]}…",
            )
        if anchor is not None and seq == anchor[0]:
            if row["hash"] != anchor[1]:
                return Verification(
                    False,
                    checked,
                    seq,
                    f"entry {seq} does not match the anchor: the chain hashes to "
                    f"{row['hash'][:12]}…, the anchor says {anchor[1][:12]}… "
                    "(the log was rewritten)",
                )
            anchor_seen = True
        prev, expected_seq, checked = row["hash"], seq + 1, checked + 1
    if not anchor_seen:
        assert anchor is not None
        return Verification(
            False,
            checked,
            checked + 1,
            f"the log ends at entry {checked} but the anchor names entry {anchor[0]}: "
            "entries were removed from the end",
        )
    return Verification(
        True, checked, head_seq=checked or None, head_hash=prev if checked else None
    )


# ------------------------------------------------------------------ export


def export_jsonl(entries: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    count = 0
    for row in entries:
        out.write(canonical_json(decoded(row)) + "\n")
        count += 1
    return count


def export_csv(entries: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=list(FIELDS), lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in entries:
        writer.writerow(dict(row))  # data stays the canonical JSON text that was hashed
        count += 1
    return count
