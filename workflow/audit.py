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
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy import Connection, and_, select

from workflow.store.engine import driver_execute, driver_pipeline, driver_transaction, run_alone
from workflow.store.tables import audit_log

GENESIS_HASH = "0" * 64
# Any constant works; it only has to be the same for every appender of one database.
PG_CHAIN_LOCK = 0x706C616E666C6F77  # "planflow"

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
    utc = when.astimezone(dt.UTC)
    if utc.year >= 1000:
        # The same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), a tenth of the cost; strftime's
        # %Y does not pad years below 1000 to four digits as isoformat does.
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(row: Mapping[str, Any]) -> str:
    return _digest(_hashed_values(row))


# The canonical JSON of an entry is always the same 14 keys in the same (sorted) order, so it
# is a fixed template filled with the JSON encodings of the values: byte for byte what
# canonical_json(body) gives (str through json's own C escaper, None as null, int as digits,
# anything else through canonical_json itself), three times faster (verify's inner loop).
_HASHED = tuple(name for name in FIELDS if name != "hash")
_hashed_values = operator.itemgetter(*_HASHED)
_BODY = "{" + ",".join(f'"{name}":%s' for name in sorted(_HASHED)) + "}"
_in_key_order = operator.itemgetter(*(FIELDS.index(name) for name in sorted(_HASHED)))
_quote = json.encoder.encode_basestring  # what json.dumps uses with ensure_ascii=False
_sha256 = hashlib.sha256


def _json(value: Any) -> str:
    return "null" if value is None else canonical_json(value)


def _digest(values: Sequence[Any]) -> str:
    """entry_hash of an entry given as its values in FIELDS order (the hash itself optional)."""
    (action, actor, at, data, from_state, organisation, plan_id, prev_hash, role, seq, subject,
     task_id, to_state, unit) = _in_key_order(values)  # fmt: skip
    body = _BODY % (
        _quote(action) if action.__class__ is str else _json(action),
        _quote(actor) if actor.__class__ is str else _json(actor),
        _quote(at) if at.__class__ is str else _json(at),
        _quote(data) if data.__class__ is str else _json(data),
        _quote(from_state) if from_state.__class__ is str else _json(from_state),
        _quote(organisation) if organisation.__class__ is str else _json(organisation),
        _quote(plan_id) if plan_id.__class__ is str else _json(plan_id),
        _quote(prev_hash) if prev_hash.__class__ is str else _json(prev_hash),
        _quote(role) if role.__class__ is str else _json(role),
        seq if seq.__class__ is int else _json(seq),
        _quote(subject) if subject.__class__ is str else _json(subject),
        task_id if task_id.__class__ is int else _json(task_id),
        _quote(to_state) if to_state.__class__ is str else _json(to_state),
        _quote(unit) if unit.__class__ is str else _json(unit),
    )
    return _sha256(body.encode("utf-8")).hexdigest()


def data_json(data: Mapping[str, Any]) -> str:
    """canonical_json(data), built directly when data is a flat object of text and integers
    (every move's data): json.dumps sets up an encoder per call, several times the cost."""
    parts = []
    for key in sorted(data):
        value = data[key]
        kind = value.__class__
        if key.__class__ is not str:
            return canonical_json(dict(data))
        if kind is str:
            encoded = _quote(value)
        elif kind is int:
            encoded = int.__repr__(value)  # what json.dumps writes for an int
        elif value is None:
            encoded = "null"
        else:  # floats, booleans, nested values: json's own rules
            return canonical_json(dict(data))
        parts.append(f"{_quote(key)}:{encoded}")
    return "{" + ",".join(parts) + "}"


def content_hash(content: bytes | str) -> str:
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(raw).hexdigest()


# The append path and the full scans run as plain SQL on the driver's cursor (see
# repo.driver_execute): the audit table holds only text and integers, nothing to convert.
_COLUMNS = ", ".join(FIELDS)
_INSERT = f"INSERT INTO audit_log ({_COLUMNS}) VALUES ({', '.join('?' for _ in FIELDS)})"
_HEAD = "SELECT audit_log.seq, audit_log.hash FROM audit_log ORDER BY audit_log.seq DESC LIMIT 1"
_PG_LOCK = f"SELECT pg_advisory_xact_lock({PG_CHAIN_LOCK})"
# The lock and the head in one round trip: two statements in one simple query. Under READ
# COMMITTED each statement takes its own snapshot when it starts, so the SELECT, which
# starts once the lock is granted, sees every entry committed by the lock's previous holder.
# (In one statement, `SELECT ... FROM audit_log, pg_advisory_xact_lock(...)`, the snapshot
# would predate the wait and the chain could fork.)
_PG_LOCK_AND_HEAD = f"{_PG_LOCK}; {_HEAD}"


def _lock_chain(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        driver_execute(conn, _PG_LOCK).close()
    # SQLite: the writer already holds the database write lock (BEGIN IMMEDIATE).


def _head(conn: Connection) -> tuple[int, str]:
    cursor = driver_execute(conn, _HEAD)
    row = cursor.fetchone()
    cursor.close()
    return (int(row[0]), row[1]) if row else (0, GENESIS_HASH)


def _locked_head(conn: Connection) -> tuple[int, str]:
    """Take the chain's append lock (held to commit) and read the head entry."""
    if conn.dialect.name != "postgresql":
        return _head(conn)  # SQLite: the writer already holds the database write lock
    cursor = driver_execute(conn, _PG_LOCK_AND_HEAD)
    cursor.nextset()
    row = cursor.fetchone()
    cursor.close()
    return (int(row[0]), row[1]) if row else (0, GENESIS_HASH)


def _own_values(record: Record, stamp: str) -> tuple[Any, ...]:
    """The stored fields of `record` but seq, prev_hash and hash, in FIELDS order."""
    return (
        stamp,
        record.actor,
        record.role,
        record.unit,
        record.organisation,
        record.action,
        record.subject,
        record.task_id,
        record.plan_id,
        record.from_state,
        record.to_state,
        data_json(record.data),
    )


def _entry(record: Record, seq: int, stamp: str, prev: str) -> tuple[Any, ...]:
    """The stored row of `record` as entry `seq` after the entry hashing to `prev`."""
    hashed = (seq, *_own_values(record, stamp), prev)
    return (*hashed, _digest(hashed))


def lock_after(
    conn: Connection, statements: Sequence[tuple[str, Sequence[Any]]]
) -> tuple[list[Any], tuple[int, str]]:
    """Run `statements`, then take the chain's append lock and read its head: all in one
    round trip on PostgreSQL (`driver_pipeline`; the head's SELECT is a statement of its
    own, so it sees every entry committed before the lock was granted). For a writer about
    to append: hand the head to `append`. Returns the statements' cursors and the head."""
    if conn.dialect.name != "postgresql":
        return [driver_execute(conn, sql, params) for sql, params in statements], _head(conn)
    cursors = driver_pipeline(conn, [*statements, (_PG_LOCK, ()), (_HEAD, ())])
    head, lock = cursors.pop(), cursors.pop()
    lock.close()
    row = head.fetchone()
    head.close()
    return cursors, (int(row[0]), row[1]) if row else (0, GENESIS_HASH)


def append(
    conn: Connection, record: Record, at: dt.datetime, *, head: tuple[int, str] | None = None
) -> dict[str, Any]:
    """Append one entry inside the caller's transaction; returns the stored row.

    `head`: the chain's head as `lock_after` returned it in this transaction (whose lock
    is held since); without it the lock is taken and the head read here.
    """
    stamp = format_at(at)  # everything that needs no lock is done before taking it
    seq, prev = head if head is not None else _locked_head(conn)
    row = _entry(record, seq + 1, stamp, prev)
    driver_execute(conn, _INSERT, row).close()
    return dict(zip(FIELDS, row, strict=True))


# PostgreSQL: an entry the database numbers, links and hashes itself, from the head it finds
# once it holds the chain's lock, so that the lock is held only while the server works, never
# across a round trip to this process. Its canonical JSON is `_digest`'s template cut where
# the head's hash and the new seq go, its fields encoded here exactly as `_digest` encodes
# them: the database hashes byte for byte the body `verify` rebuilds. (On SQLite the writer
# holds the database's lock in-process: hashing here costs less than hashing in SQL.)
_KEYS = sorted(_HASHED)
_AT_PREV, _AT_SEQ = _KEYS.index("prev_hash"), _KEYS.index("seq")
_BODY_HEAD = "{" + "".join(f'"{k}":%s,' for k in _KEYS[:_AT_PREV]) + '"prev_hash":"'
_BODY_MIDDLE = '",' + "".join(f'"{k}":%s,' for k in _KEYS[_AT_PREV + 1 : _AT_SEQ]) + '"seq":'
_BODY_TAIL = "".join(f',"{k}":%s' for k in _KEYS[_AT_SEQ + 1 :]) + "}"
_OWN = _HASHED[1:-1]  # what a record fills (`_own_values`): all hashed but seq and prev_hash
_ENCODED_ORDER = [_OWN.index(key) for key in _KEYS if key not in ("prev_hash", "seq")]
# A move's statement: the change, then the entry (store/migrations/versions/0005) for the
# row it changed. The parameters are typed, as the function's signature is.
_PG_ARGS = ", ".join("?::integer" if name == "task_id" else "?::text" for name in _OWN)
_PG_WITH_ENTRY = (
    "WITH changed AS ({}) SELECT changed.*, "
    f"planflow_append({PG_CHAIN_LOCK}, '{GENESIS_HASH}', "
    + _PG_ARGS
    + ", ?::text, ?::text, ?::text) FROM changed"
)
_PG_STATEMENTS: dict[str, str] = {}


def commit_with_entry(
    conn: Connection, change: tuple[str, Sequence[Any]], record: Record, at: dt.datetime
) -> tuple[list[tuple[Any, ...]], int | None]:
    """`change`, a statement returning the rows it changed (a compare-and-set), and, when it
    changed a row, the entry of `record` after it: one transaction of their own, on a
    connection with none open, committed. Returns the changed rows and the entry's seq
    (None: nothing changed, nothing appended).

    SQLite: a writing transaction under the database's lock. PostgreSQL: one statement, a
    transaction of its own; the chain's lock is taken only if the change happened, and the
    entry is numbered, linked and hashed by the server (`planflow_append`).
    """
    if conn.dialect.name != "postgresql":
        with driver_transaction(conn):
            cursor = driver_execute(conn, *change)
            changed: list[tuple[Any, ...]] = cursor.fetchall()
            cursor.close()
            return changed, append(conn, record, at)["seq"] if changed else None
    values = _own_values(record, format_at(at))
    encoded = tuple(_encoded(values[i]) for i in _ENCODED_ORDER)
    sql = _PG_STATEMENTS.get(change[0])
    if sql is None:
        sql = _PG_STATEMENTS[change[0]] = _PG_WITH_ENTRY.format(change[0])
    rows = run_alone(
        conn,
        sql,
        (
            *change[1],
            *values,
            _BODY_HEAD % encoded[:_AT_PREV],
            _BODY_MIDDLE % encoded[_AT_PREV : _AT_SEQ - 1],
            _BODY_TAIL % encoded[_AT_SEQ - 1 :],
        ),
    )
    if not rows:
        return rows, None
    return [row[:-1] for row in rows], int(rows[0][-1])


def _encoded(value: Any) -> str:
    """A field's JSON as `_digest` writes it."""
    kind = value.__class__
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    return _json(value)


def append_many(
    conn: Connection, records: Sequence[Record], at: dt.datetime
) -> list[dict[str, Any]]:
    """Append entries in order under one lock and one multi-row INSERT."""
    if not records:
        return []
    if len(records) == 1:
        return [append(conn, records[0], at)]
    stamp = format_at(at)
    seq, prev = _locked_head(conn)
    values: list[tuple[Any, ...]] = []
    for record in records:
        seq += 1
        row = _entry(record, seq, stamp, prev)
        prev = row[-1]
        values.append(row)
    driver_execute(conn, _INSERT, values, many=True).close()
    return [dict(zip(FIELDS, row, strict=True)) for row in values]


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
    return RawEntries(conn, batch)


_BEFORE = "SELECT seq, hash FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1"
_RANGE = f"SELECT {_COLUMNS} FROM audit_log WHERE seq > ? AND seq <= ? ORDER BY seq"
_NEXT = "SELECT seq FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1"


def verify_stored_span(
    conn: Connection,
    lo: int,
    hi: int | None,
    anchor: tuple[int, str] | None,
    batch: int = 20_000,
) -> Span:
    """`verify_span` over the stored entries lo <= seq < hi (hi None: to the end), from where
    the stored log stands before lo."""
    cursor = driver_execute(conn, _BEFORE, (lo,))
    row = cursor.fetchone()
    cursor.close()
    before = (int(row[0]), row[1]) if row else (0, GENESIS_HASH)
    return verify_span(_scan_span(conn, lo, hi, batch), before, anchor)


def _scan_span(conn: Connection, lo: int, hi: int | None, batch: int = 20_000) -> Iterator[Any]:
    """The entries lo <= seq < hi (hi None: to the end) in seq order, `batch` seqs at a time
    (bounded memory).

    Each query is a range bounded on both sides: with an open end, a PostgreSQL planner
    without statistics of the table (a log just loaded, autovacuum off) takes the rest of
    the table for a few hundred rows and sorts all of it for every batch (one process then
    checked about 70,000 entries a second, not 160,000). A gap in the seqs wider than a
    batch costs one probe.
    """
    last, end = lo - 1, None if hi is None else hi - 1  # end: the span's last seq
    while end is None or last < end:
        upper = last + batch if end is None else min(last + batch, end)
        cursor = driver_execute(conn, _RANGE, (last, upper))
        rows = cursor.fetchall()
        cursor.close()
        if rows:
            yield from rows
            last = upper
            continue
        cursor = driver_execute(conn, _NEXT, (upper,))  # where does the log go on?
        found = cursor.fetchall()
        cursor.close()
        if not found or (end is not None and found[0][0] > end):
            return
        last = found[0][0] - 1


class RawEntries(Iterator[dict[str, Any]]):
    """What iter_raw yields: each entry as a dict; `verify` reads the plain rows instead."""

    def __init__(self, conn: Connection, batch: int) -> None:
        self._rows = _scan_span(conn, 0, None, batch)

    def __next__(self) -> dict[str, Any]:
        return dict(zip(FIELDS, next(self._rows), strict=True))

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """The entries not yet read, as tuples in FIELDS order."""
        return self._rows


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
    rows: Iterable[Sequence[Any]] = (
        entries.rows()
        if isinstance(entries, RawEntries)
        else map(operator.itemgetter(*FIELDS), entries)
    )
    span = verify_span(rows, (0, GENESIS_HASH), anchor)
    return finish([span], anchor)


@dataclass(frozen=True, slots=True)
class Span:
    """What `verify_span` found over consecutive entries: a problem (the first), or where
    the chain stands after them."""

    problem: Verification | None
    checked: int  # the seq of the last entry before the problem, or of the span's last one
    head_hash: str  # the hash of that entry (GENESIS_HASH before the first)
    anchor_seen: bool


def verify_span(
    rows: Iterable[Sequence[Any]], before: tuple[int, str], anchor: tuple[int, str] | None
) -> Span:
    """`verify`'s check of `rows` (FIELDS order, by seq), the chain standing at `before`:
    the seq and stored hash of the entry before the first row ((0, GENESIS_HASH) at the
    start). The same check on consecutive spans, each starting where the stored log stands
    before it, finds what one pass over all of them finds: the parallel verify's unit."""
    expected_seq, prev = before[0] + 1, before[1]
    anchor_seq = anchor[0] if anchor is not None else None
    anchor_seen = False
    digest = _digest
    for row in rows:
        seq = row[0]
        if seq != expected_seq:
            checked = expected_seq - 1
            if seq > expected_seq:
                missing = (
                    f"entry {expected_seq} is missing"
                    if seq == expected_seq + 1
                    else f"entries {expected_seq} to {seq - 1} are missing"
                )
                return _stop(
                    Verification(
                        False,
                        checked,
                        expected_seq,
                        f"{missing}: entry {seq} follows entry {expected_seq - 1}",
                    ),
                    prev,
                )
            return _stop(
                Verification(
                    False,
                    checked,
                    seq,
                    f"entry {seq} is out of order: expected entry {expected_seq}",
                ),
                prev,
            )
        if row[13] != prev:
            return _stop(
                Verification(
                    False,
                    seq - 1,
                    seq,
                    f"entry {seq} does not link to entry {seq - 1}: its prev_hash is "
                    f"{row[13][:12]}…, entry {seq - 1} hashes to {prev[:12]}… "
                    "(an entry was inserted, removed or rewritten here)",
                ),
                prev,
            )
        actual = digest(row)
        if actual != row[14]:
            return _stop(
                Verification(
                    False,
                    seq - 1,
                    seq,
                    f"entry {seq} was altered: its content hashes to {actual[:12]}…, "
                    f"not to its recorded hash {row[14][:12]}…",
                ),
                prev,
            )
        if seq == anchor_seq:
            assert anchor is not None
            if row[14] != anchor[1]:
                return _stop(
                    Verification(
                        False,
                        seq - 1,
                        seq,
                        f"entry {seq} does not match the anchor: the chain hashes to "
                        f"{row[14][:12]}…, the anchor says {anchor[1][:12]}… "
                        "(the log was rewritten)",
                    ),
                    prev,
                )
            anchor_seen = True
        prev, expected_seq = row[14], seq + 1
    return Span(None, expected_seq - 1, prev, anchor_seen)


def _stop(problem: Verification, prev: str) -> Span:
    return Span(problem, problem.checked, prev, False)


def finish(spans: Sequence[Span], anchor: tuple[int, str] | None) -> Verification:
    """The verification of the whole log from its consecutive spans' findings."""
    for span in spans:
        if span.problem is not None:
            return span.problem
    checked = spans[-1].checked if spans else 0
    prev = spans[-1].head_hash if spans else GENESIS_HASH
    if anchor is not None and not any(span.anchor_seen for span in spans):
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


def lock_chain(conn: Connection) -> None:
    """Take the chain's append lock early (held to commit), for writers that number things."""
    _lock_chain(conn)
