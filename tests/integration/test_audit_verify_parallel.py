"""`audit verify` split between processes finds exactly what one pass finds.

The log is cut into consecutive spans, each checked by its own process from where the stored
log stands before it. Every kind of tampering, placed at a span's first entry, its last, or
inside it, must give the same answer (first bad entry, entries checked, message) with 2, 3 or
7 processes as with one; so must an intact log, with or without an anchor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Connection, text

from tests.integration.test_faults_tampering import owner
from tests.support import log
from workflow.clock import FixedClock
from workflow.domain import audit_chain as audit
from workflow.services import Context
from workflow.services import audit_log as audit_service

ENTRIES = 42  # with 3 processes: spans 1-14, 15-28, 29-42
AT = dt.datetime(2024, 5, 3, 2, tzinfo=dt.UTC)


@pytest.fixture
def logged(ctx: Context) -> Context:
    records = [
        audit.Record(
            actor="so-test.lan",
            action="note",
            subject=f"task:{i}",
            role="staff",
            unit="QLDT",
            organisation="SO-TEST",
            data={"version": i, "note": f"Ghi chú số {i} — đủ dấu"},
        )
        for i in range(ENTRIES)
    ]
    with ctx.uow.writing() as tx:
        tx.backend.recorder.append(tx.conn, records, FixedClock(AT))
    return ctx


def answers(ctx: Context, anchor: tuple[int, str] | None = None) -> list[audit.Verification]:
    return [audit_service.verify(ctx, anchor, workers=n) for n in (1, 2, 3, 7)] + small_batches(
        ctx, anchor
    )


def small_batches(ctx: Context, anchor: tuple[int, str] | None) -> list[audit.Verification]:
    """The same checks reading 4 seqs at a time (one pass; three spans): batches that end
    inside a span, and gaps wider than a batch."""
    with ctx.engine.connect() as conn:
        one = audit.verify(log.recorder_on(conn).scan(conn, 1, None, batch=4), anchor)
        head = int(conn.execute(text("SELECT max(seq) FROM audit_log")).scalar_one())
        bounds = [1 + head * i // 3 for i in range(3)]
        his: list[int | None] = [*bounds[1:], None]
        spans = [
            log.recorder_on(conn).verify_span(conn, lo, hi, anchor, batch=4)
            for lo, hi in zip(bounds, his, strict=True)
        ]
    return [one, audit.finish(spans, anchor)]


def same(results: list[audit.Verification]) -> audit.Verification:
    one = results[0]
    assert all(r == one for r in results[1:]), [r.as_json() for r in results]
    return one


def test_an_intact_log_with_and_without_its_anchor(logged: Context) -> None:
    plain = same(answers(logged))
    assert (plain.ok, plain.checked, plain.head_seq) == (True, ENTRIES, ENTRIES)
    anchored = same(answers(logged, (20, _hash_of(logged, 20))))
    assert anchored.ok and anchored.head_hash == plain.head_hash
    wrong = same(answers(logged, (20, "0" * 64)))
    assert (wrong.ok, wrong.first_bad_seq) == (False, 20)


def _hash_of(ctx: Context, seq: int) -> str:
    with ctx.engine.connect() as conn:
        return str(conn.execute(text(f"SELECT hash FROM audit_log WHERE seq = {seq}")).scalar())


def _edit(seq: int) -> Callable[[Connection], None]:
    return lambda conn: conn.execute(
        text(f"UPDATE audit_log SET actor = 'so-test.mai' WHERE seq = {seq}")
    )


def _delete(first: int, last: int) -> Callable[[Connection], None]:
    return lambda conn: conn.execute(
        text(f"DELETE FROM audit_log WHERE seq BETWEEN {first} AND {last}")
    )


def _renumber(seq: int, to: int) -> Callable[[Connection], None]:
    return lambda conn: conn.execute(text(f"UPDATE audit_log SET seq = {to} WHERE seq = {seq}"))


def _rewrite(seq: int) -> Callable[[Connection], None]:
    """Entry `seq` edited and given its new, valid hash: the next entry no longer links."""

    def rewrite(conn: Connection) -> None:
        [row] = [r for r in log.entries_on(conn) if r["seq"] == seq]
        forged = dict(row, actor="so-test.mai")
        conn.execute(
            text("UPDATE audit_log SET actor = 'so-test.mai', hash = :h WHERE seq = :s"),
            {"h": audit.entry_hash(forged), "s": seq},
        )

    return rewrite


@pytest.mark.parametrize(
    ("tamper", "first_bad"),
    [
        (_edit(1), 1),
        (_edit(14), 14),  # the last entry of the first of three spans
        (_edit(15), 15),  # the first entry of the second
        (_edit(30), 30),
        (_edit(ENTRIES), ENTRIES),
        (_delete(1, 1), 1),
        (_delete(15, 15), 15),
        (_delete(13, 16), 13),  # a gap across a span boundary
        (_delete(29, 29), 29),
        (_delete(3, 12), 3),  # a gap wider than a batch of the small-batch reads
        (_renumber(ENTRIES, 10**12), ENTRIES),  # the last entry moved far past the end
        (_rewrite(15), 16),  # 15 rehashed: 16, in the next span, does not link
        (_rewrite(20), 21),
    ],
    ids=[
        "edit-first",
        "edit-span-end",
        "edit-span-start",
        "edit-inside",
        "edit-last",
        "delete-first",
        "delete-span-start",
        "delete-across-spans",
        "delete-span-start-3",
        "delete-wider-than-a-batch",
        "renumber-far-away",
        "relink-across-spans",
        "relink-inside",
    ],
)
def test_tampering_is_named_the_same_whatever_the_split(
    logged: Context, tamper: Callable[[Connection], None], first_bad: int
) -> None:
    with owner(logged) as conn:
        tamper(conn)
    result = same(answers(logged))
    assert (result.ok, result.first_bad_seq) == (False, first_bad), result.as_json()


def test_a_shortened_log_misses_its_anchor_whatever_the_split(logged: Context) -> None:
    anchor = (ENTRIES, _hash_of(logged, ENTRIES))
    with owner(logged) as conn:
        _delete(40, ENTRIES)(conn)
    result = same(answers(logged, anchor))
    assert (result.ok, result.checked, result.first_bad_seq) == (False, 39, 40)
    assert "entries were removed from the end" in (result.problem or "")


def test_large_logs_are_split_by_default(logged: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above PARALLEL_FROM entries the default is one process per core: same answer."""
    monkeypatch.setattr(audit_service, "PARALLEL_FROM", 10)
    monkeypatch.setattr(audit_service.os, "cpu_count", lambda: 3)
    pools: list[int] = []

    class Counted(ProcessPoolExecutor):
        def __init__(self, workers: int, **kwargs: Any) -> None:
            pools.append(workers)
            super().__init__(workers, **kwargs)

    monkeypatch.setattr(audit_service, "ProcessPoolExecutor", Counted)
    with owner(logged) as conn:
        _edit(20)(conn)
    default = audit_service.verify(logged)
    assert pools == [3]
    assert default == audit_service.verify(logged, workers=1)
    assert (default.ok, default.first_bad_seq) == (False, 20)
