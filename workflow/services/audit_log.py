"""Audit use cases for auditors: query, verify (optionally against an anchor), replay, export."""

from __future__ import annotations

import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from typing import IO, Any, Literal

from workflow.clock import SystemClock
from workflow.context import Context
from workflow.documents import audit_export
from workflow.domain import replay as replay_log
from workflow.domain.audit_chain import Span, Verification, finish
from workflow.domain.audit_chain import verify as verify_rows
from workflow.domain.filters import AuditFilter
from workflow.errors import InvalidInput
from workflow.store.uow import UnitOfWork

# From this many entries `verify` splits the log between processes: below it, starting them
# costs more than they save (one process checks ~100,000 entries a second).
PARALLEL_FROM = 100_000
MAX_WORKERS = 4

ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def parse_anchor(raw: str) -> tuple[int, str]:
    match = ANCHOR.match(raw.strip())
    if not match:
        raise InvalidInput(
            f"--anchor {raw!r} is not SEQ:HASH; expected e.g. 1042:<64 hex digits> "
            "as printed by 'planflow audit anchor'"
        )
    return int(match.group(1)), match.group(2)


def query(ctx: Context, where: AuditFilter) -> list[dict[str, Any]]:
    with ctx.uow.reading() as r:
        return r.audit.query(where)


def verify(
    ctx: Context, anchor: tuple[int, str] | None = None, *, workers: int | None = None
) -> Verification:
    """`audit verify`: the whole chain, in one process or split between `workers` processes
    (default: one per core, up to MAX_WORKERS, for logs of PARALLEL_FROM entries or more).

    Each entry's hash depends on its own fields alone and its link on the entry before it,
    so consecutive spans check independently, each from where the stored log stands before
    it, and the first problem of the first span that has one is the first problem of the
    log: the same answer as one pass, found by every core at once.

    Beside the chain, the database's append-only safeguards (triggers, and PostgreSQL's
    functions) are checked against the migrations that created them: one missing, disabled
    or changed makes the verification fail, even with every entry intact.
    """
    uow = ctx.uow
    with uow.reading() as r:
        safeguards = r.audit.safeguards()
        head = r.audit.last_seq()
        if workers is None:
            workers = _default_workers(uow, head)
        if workers <= 1 or head < 2:
            return verify_rows(r.audit.rows(), anchor).with_safeguards(safeguards)
    workers = min(workers, head)
    bounds = [1 + head * i // workers for i in range(workers)]
    his: list[int | None] = [*bounds[1:], None]  # the last span runs to the end
    # No pooled connection may cross into a forked worker (two processes on one socket).
    uow.dispose()
    methods = multiprocessing.get_all_start_methods()
    start = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(workers, mp_context=start) as pool:
        spans = list(pool.map(_verify_part, [uow.url] * workers, bounds, his, [anchor] * workers))
    return finish(spans, anchor).with_safeguards(safeguards)


def _default_workers(uow: UnitOfWork, head: int) -> int:
    if head < PARALLEL_FROM or not uow.shared_between_processes():
        return 1  # small, or a database other processes cannot open
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def _verify_part(url: str, lo: int, hi: int | None, anchor: tuple[int, str] | None) -> Span:
    uow = UnitOfWork.open(url, SystemClock())
    try:
        with uow.reading() as r:
            return r.audit.verify_span(lo, hi, anchor)
    finally:
        uow.dispose()


def anchor(ctx: Context) -> dict[str, Any]:
    """The chain's head, to publish or sign outside the database; verified first. None when
    the chain is broken or its safeguards are not intact: a head read while nothing stops
    the log being rewritten is no head to publish."""
    result = verify(ctx)
    return {
        "ok": result.ok,
        "seq": result.head_seq,
        "hash": result.head_hash,
        "anchor": f"{result.head_seq}:{result.head_hash}"
        if result.ok and result.head_seq
        else None,
        "problem": result.problem,
    }


def replay(ctx: Context) -> replay_log.ReplayReport:
    """Recompute every task, dossier, role grant, notice, inspection record, draw and report
    snapshot from the audit log, and who could act when, and hold the stored rows against
    it, all read in one snapshot, so changes committed meanwhile never show as mismatches."""
    with ctx.uow.reading(consistent=True) as r:
        stored = replay_log.Stored(
            tasks=r.tasks.as_replay_compares(),
            dossiers=r.dossiers.as_replay_compares(),
            roles=r.organisations.all_roles(),
            documents=r.replay_rows.documents(),
        )
        return replay_log.check(r.audit.entries(), stored)


def export(ctx: Context, fmt: Literal["jsonl", "csv"], out: IO[str]) -> int:
    with ctx.uow.reading() as r:
        write = audit_export.jsonl if fmt == "jsonl" else audit_export.csv
        return write(r.audit.entries(), out)


def export_xlsx(ctx: Context) -> tuple[bytes, int]:
    """Every entry as an XLSX workbook (the CSV's sheet), and how many."""
    with ctx.uow.reading() as r:
        return audit_export.xlsx(r.audit.entries())
