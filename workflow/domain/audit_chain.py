"""The audit chain's one specification: what an entry holds, its canonical encoding, its hash,
and the check of a span of entries. Pure: no I/O (the recorders in `workflow.store` store
and read entries; the PostgreSQL one has the server hash an entry from `body_parts`).

An entry's hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8, non-ASCII
characters as themselves) of every stored field but the hash itself, previous hash
included. `data` is stored, and hashed, as the canonical JSON text of its object: in the
entry's own JSON it is a string. The entry's own JSON holds only text, integers and null,
so its canonical form is RFC 8785's (JCS): docs/audit-log-encoding.md says it exactly, for a
verifier written without planflow (tools/verify_audit_export.py is one).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workflow.errors import InvalidInput

GENESIS_HASH = "0" * 64
START = (0, GENESIS_HASH, "")  # (seq, hash, time) before the first entry

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
    # Added in 2026-12 (who acted through what): in the canonical JSON only when not null, so
    # that every entry written before them hashes as it always did.
    "channel",
    "credential",
)
OPTIONAL = ("channel", "credential")


@dataclass(frozen=True, slots=True)
class Record:
    """An entry's own fields, as an event (`workflow.domain.events`) fills them; seq, time
    and hashes are the chain's business."""

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
    channel: str | None = None  # web, api, cli, flow
    credential: str | None = None  # the session or token acted with, hashed


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(content: bytes | str) -> str:
    raw = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(raw).hexdigest()


def format_at(when: dt.datetime) -> str:
    """An entry's time as stored and hashed: UTC, microseconds, 'Z'."""
    if when.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    utc = when.astimezone(dt.UTC)
    if utc.year >= 1000:
        # The same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), a tenth of the cost; strftime's
        # %Y does not pad years below 1000 to four digits as isoformat does.
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# The years an entry may be dated in: a clock outside them is wrong, not a date to record.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099


def stamp_after(at: dt.datetime, head: str) -> str:
    """`at` as stored (`format_at`), for an entry after one dated `head` (its stored text;
    "" before the first): refused when it is earlier (time goes forward) or outside the
    years an entry may be dated in. The stored text sorts as the instants do."""
    try:
        year = at.astimezone(dt.UTC).year
    except OverflowError:  # year 1 in Vietnam is before year 1 in UTC
        year = at.year
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise InvalidInput(
            f"an audit entry dated in {year} is refused: entries are dated between "
            f"{EARLIEST_YEAR} and {LATEST_YEAR} (is the clock right?)"
        )
    stamp = format_at(at)
    if stamp < head:
        raise InvalidInput(
            f"an audit entry dated {stamp} is refused: the log's last entry is dated {head}, "
            "and time goes forward"
        )
    return stamp


def entry_hash(row: Mapping[str, Any]) -> str:
    return digest(tuple(row.get(name) for name in FIELDS))


def hashed_object(row: Mapping[str, Any]) -> dict[str, Any]:
    """The entry as its hash covers it, with its hash: every field of FIELDS, `data` as the
    stored JSON text (a string), an optional field only when not null. Its canonical JSON
    without `hash` is the text SHA-256 is taken of (docs/audit-log-encoding.md); with it, one
    line of `audit export --format jsonl`."""
    return {
        name: row.get(name) for name in FIELDS if name not in OPTIONAL or row.get(name) is not None
    }


# The canonical JSON of an entry is the same keys in the same (sorted) order for every entry
# of one shape (which optional fields it has), so it is a fixed template per shape filled with
# the JSON encodings of the values: byte for byte what canonical_json(body) gives (str through
# json's own C escaper, None as null, int as digits, anything else through canonical_json
# itself), three times faster (verify's inner loop).
HASHED = tuple(name for name in FIELDS if name != "hash")
_quote = json.encoder.encode_basestring  # what json.dumps uses with ensure_ascii=False
_sha256 = hashlib.sha256
_AT_CHANNEL, _AT_CREDENTIAL = FIELDS.index("channel"), FIELDS.index("credential")


def _json(value: Any) -> str:
    return "null" if value is None else canonical_json(value)


def _keys(shape: tuple[bool, bool]) -> list[str]:
    """The keys of an entry's canonical JSON, sorted, for an entry with (channel, credential)
    present as `shape` says."""
    present = {name for name, there in zip(OPTIONAL, shape, strict=True) if there}
    return sorted(name for name in HASHED if name not in OPTIONAL or name in present)


_SHAPES = [(False, False), (True, False), (False, True), (True, True)]
_TEMPLATES = {
    shape: (
        "{" + ",".join(f'"{name}":%s' for name in _keys(shape)) + "}",
        operator.itemgetter(*(FIELDS.index(name) for name in _keys(shape))),
    )
    for shape in _SHAPES
}
_BODY, _in_key_order = _TEMPLATES[(False, False)]


def digest(values: Sequence[Any]) -> str:
    """entry_hash of an entry given as its values in FIELDS order (the hash itself, and the
    optional fields, may be left out at the end)."""
    if len(values) > _AT_CHANNEL and (
        values[_AT_CHANNEL] is not None
        or (len(values) > _AT_CREDENTIAL and values[_AT_CREDENTIAL] is not None)
    ):
        return _digest_shaped(values)
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


def _digest_shaped(values: Sequence[Any]) -> str:
    """`digest` of an entry that has optional fields."""
    padded = (*values, None, None)
    shape = (padded[_AT_CHANNEL] is not None, padded[_AT_CREDENTIAL] is not None)
    body, in_key_order = _TEMPLATES[shape]
    encoded = tuple(_encoded(value) for value in in_key_order(padded))
    return _sha256((body % encoded).encode("utf-8")).hexdigest()


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


# What a record fills: every hashed field but seq and prev_hash, in FIELDS order.
OWN = tuple(name for name in HASHED if name not in ("seq", "prev_hash"))
_AT_OPTIONAL = OWN.index("channel")  # where a record's own values reach the optional fields


def own_values(record: Record, stamp: str) -> tuple[Any, ...]:
    """The stored fields of `record` but seq, prev_hash and hash, in FIELDS order (`OWN`)."""
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
        record.channel,
        record.credential,
    )


def chained(record: Record, seq: int, stamp: str, prev: str) -> tuple[Any, ...]:
    """The stored row of `record` (FIELDS order) as entry `seq` after the entry hashing to
    `prev`."""
    own = own_values(record, stamp)
    head, optional = own[:_AT_OPTIONAL], own[_AT_OPTIONAL:]
    return (seq, *head, prev, digest((seq, *head, prev, None, *optional)), *optional)


def chain(records: Iterable[Record], stamp: str, head: tuple[int, str]) -> list[tuple[Any, ...]]:
    """The stored rows of `records`, in order, after the entry `head` (seq, hash)."""
    seq, prev = head
    rows = []
    for record in records:
        seq += 1
        row = chained(record, seq, stamp, prev)
        prev = row[14]
        rows.append(row)
    return rows


# An entry hashed by someone who knows its own fields but not yet the chain's head (the
# PostgreSQL server, once it holds the chain's lock): the canonical JSON above cut where the
# head's hash and the new seq go, its other fields encoded exactly as `digest` encodes them.
def _cut(shape: tuple[bool, bool]) -> tuple[str, str, str, list[int]]:
    keys = _keys(shape)
    at_prev, at_seq = keys.index("prev_hash"), keys.index("seq")
    head = "{" + "".join(f'"{k}":%s,' for k in keys[:at_prev]) + '"prev_hash":"'
    middle = '",' + "".join(f'"{k}":%s,' for k in keys[at_prev + 1 : at_seq]) + '"seq":'
    tail = "".join(f',"{k}":%s' for k in keys[at_seq + 1 :]) + "}"
    return head, middle, tail, [OWN.index(k) for k in keys if k not in ("prev_hash", "seq")]


_CUTS = {shape: _cut(shape) for shape in _SHAPES}


def body_parts(own: Sequence[Any]) -> tuple[str, str, str]:
    """The canonical JSON of an entry whose own fields are `own` (`own_values`), in three
    pieces: head + the previous hash + middle + the seq + tail is the text `digest` hashes."""
    shape = (own[_AT_OPTIONAL] is not None, own[_AT_OPTIONAL + 1] is not None)
    head, middle, tail, order = _CUTS[shape]
    encoded = tuple(_encoded(own[i]) for i in order)
    at_prev = head.count("%s")
    at_seq = at_prev + middle.count("%s")
    return (
        head % encoded[:at_prev],
        middle % encoded[at_prev:at_seq],
        tail % encoded[at_seq:],
    )


def _encoded(value: Any) -> str:
    """A field's JSON as `digest` writes it."""
    kind = value.__class__
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    return _json(value)


# ------------------------------------------------------------------ verify


@dataclass(frozen=True, slots=True)
class SafeguardProblem:
    """One of the database's own safeguards (`workflow.store.safeguards`: the append-only
    triggers, PostgreSQL's trigger functions and `planflow_append`) missing, disabled or
    changed: the chain may still verify, but nothing in the database keeps it so."""

    kind: str  # trigger, function
    name: str
    table: str | None
    problem: str  # missing, disabled, changed
    message: str  # one line, for people

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "table": self.table,
            "problem": self.problem,
            "message": self.message,
        }

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_seq: int | None = None
    head_hash: str | None = None
    # The safeguards found missing, disabled or changed (`audit verify` checks them beside
    # the chain; the span checks leave this empty). Any makes `ok` false.
    safeguards: tuple[SafeguardProblem, ...] = ()

    def with_safeguards(self, found: Sequence[SafeguardProblem]) -> Verification:
        """This chain's verification with the safeguards' problems: not ok if any; `problem`
        says so when the chain itself is intact (first_bad_seq stays None then)."""
        if not found:
            return self
        problem = self.problem
        if problem is None:
            problem = (
                f"the database's append-only safeguards are not intact: "
                f"{'; '.join(p.message for p in found)}"
            )
        return dataclasses.replace(self, ok=False, problem=problem, safeguards=tuple(found))

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "safeguards": [p.as_json() for p in self.safeguards],
        }


@dataclass(frozen=True, slots=True)
class Span:
    """What `verify_span` found over consecutive entries: a problem (the first), or where
    the chain stands after them."""

    problem: Verification | None
    checked: int  # the seq of the last entry before the problem, or of the span's last one
    head_hash: str  # the hash of that entry (GENESIS_HASH before the first)
    anchor_seen: bool


def verify(rows: Iterable[Sequence[Any]], anchor: tuple[int, str] | None = None) -> Verification:
    """Recompute the whole chain (rows in FIELDS order, by seq) and name the first entry
    that does not match.

    A deleted entry shows as a gap in seq, an edited one as a hash that no longer matches
    its content, an inserted or reordered one as a broken link to its predecessor. With an
    anchor (a head published outside the database), a chain rewritten from scratch is
    caught too, as long as it is at least as long as the anchor.
    """
    return finish([verify_span(rows, START, anchor)], anchor)


def verify_span(
    rows: Iterable[Sequence[Any]],
    before: tuple[int, str, str],
    anchor: tuple[int, str] | None,
) -> Span:
    """`verify`'s check of `rows` (FIELDS order, by seq), the chain standing at `before`:
    the seq, stored hash and time of the entry before the first row (`START` at the start).
    The same check on consecutive spans, each starting where the stored log stands before
    it, finds what one pass over all of them finds: the parallel verify's unit."""
    expected_seq, prev, prev_at = before[0] + 1, before[1], before[2]
    anchor_seq = anchor[0] if anchor is not None else None
    anchor_seen = False
    check = digest
    for row in rows:
        seq = row[0]
        if seq != expected_seq:
            if seq > expected_seq:
                missing = (
                    f"entry {expected_seq} is missing"
                    if seq == expected_seq + 1
                    else f"entries {expected_seq} to {seq - 1} are missing"
                )
                return _stop(
                    expected_seq - 1,
                    expected_seq,
                    f"{missing}: entry {seq} follows entry {expected_seq - 1}",
                    prev,
                )
            return _stop(
                expected_seq - 1,
                seq,
                f"entry {seq} is out of order: expected entry {expected_seq}",
                prev,
            )
        if row[13] != prev:
            return _stop(
                seq - 1,
                seq,
                f"entry {seq} does not link to entry {seq - 1}: its prev_hash is "
                f"{row[13][:12]}…, entry {seq - 1} hashes to {prev[:12]}… "
                "(an entry was inserted, removed or rewritten here)",
                prev,
            )
        actual = check(row)
        if actual != row[14]:
            return _stop(
                seq - 1,
                seq,
                f"entry {seq} was altered: its content hashes to {actual[:12]}…, "
                f"not to its recorded hash {row[14][:12]}…",
                prev,
            )
        at = row[1]
        if at < prev_at:  # the stored text sorts as the instants do
            return _stop(
                seq - 1,
                seq,
                f"entry {seq} is dated {at}, before entry {seq - 1} ({prev_at}): "
                "its time goes backwards",
                prev,
            )
        prev_at = at
        if seq == anchor_seq:
            assert anchor is not None
            if row[14] != anchor[1]:
                return _stop(
                    seq - 1,
                    seq,
                    f"entry {seq} does not match the anchor: the chain hashes to "
                    f"{row[14][:12]}…, the anchor says {anchor[1][:12]}… "
                    "(the log was rewritten)",
                    prev,
                )
            anchor_seen = True
        prev, expected_seq = row[14], seq + 1
    return Span(None, expected_seq - 1, prev, anchor_seen)


def _stop(checked: int, bad: int, problem: str, prev: str) -> Span:
    return Span(Verification(False, checked, bad, problem), checked, prev, False)


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
