"""Audit use cases for auditors: query, verify (optionally against an anchor), replay, export."""

from __future__ import annotations

import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from typing import IO, Any, Literal

from sqlalchemy import func, select

from workflow import audit
from workflow import replay as replay_log
from workflow.errors import InvalidInput
from workflow.services.context import Context
from workflow.store.engine import open_engine, reading
from workflow.store.tables import audit_log, tasks

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


def query(ctx: Context, where: audit.AuditFilter) -> list[dict[str, Any]]:
    with reading(ctx.engine) as conn:
        return audit.query(conn, where)


def verify(
    ctx: Context, anchor: tuple[int, str] | None = None, *, workers: int | None = None
) -> audit.Verification:
    """`audit verify`: the whole chain, in one process or split between `workers` processes
    (default: one per core, up to MAX_WORKERS, for logs of PARALLEL_FROM entries or more).

    Each entry's hash depends on its own fields alone and its link on the entry before it,
    so consecutive spans check independently, each from where the stored log stands before
    it, and the first problem of the first span that has one is the first problem of the
    log: the same answer as one pass, found by every core at once.
    """
    with reading(ctx.engine) as conn:
        head = int(conn.execute(select(func.coalesce(func.max(audit_log.c.seq), 0))).scalar_one())
        if workers is None:
            workers = _default_workers(ctx, head)
        if workers <= 1 or head < 2:
            return audit.verify(audit.iter_raw(conn), anchor)
    workers = min(workers, head)
    bounds = [1 + head * i // workers for i in range(workers)]
    his: list[int | None] = [*bounds[1:], None]  # the last span runs to the end
    url = ctx.engine.url.render_as_string(hide_password=False)
    # No pooled connection may cross into a forked worker (two processes on one socket).
    ctx.engine.dispose()
    methods = multiprocessing.get_all_start_methods()
    start = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with ProcessPoolExecutor(workers, mp_context=start) as pool:
        spans = list(pool.map(_verify_part, [url] * workers, bounds, his, [anchor] * workers))
    return audit.finish(spans, anchor)


def _default_workers(ctx: Context, head: int) -> int:
    database = ctx.engine.url.database or ""
    if head < PARALLEL_FROM or (
        ctx.engine.dialect.name == "sqlite" and database in ("", ":memory:")
    ):
        return 1  # small, or a database other processes cannot open
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def _verify_part(url: str, lo: int, hi: int | None, anchor: tuple[int, str] | None) -> audit.Span:
    engine = open_engine(url)
    try:
        with reading(engine) as conn:
            return audit.verify_stored_span(conn, lo, hi, anchor)
    finally:
        engine.dispose()


def anchor(ctx: Context) -> dict[str, Any]:
    """The chain's head, to publish or sign outside the database; verified first."""
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
    """Recompute every task from the audit log and hold the tasks table against it.

    The tasks and the log are read in one snapshot (REPEATABLE READ on PostgreSQL; a SQLite
    read transaction is one snapshot), so moves committed meanwhile never show as mismatches.
    """
    engine = ctx.engine
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with reading(engine) as conn:
        c = tasks.c
        stored = [
            row._asdict()
            for row in conn.execute(
                select(
                    c.id, c.state, c.version, c.lead_unit, c.submitted_by, c.returned_count
                ).order_by(c.id)
            )
        ]
        return replay_log.check(audit.iter_raw(conn), stored)


def export(ctx: Context, fmt: Literal["jsonl", "csv"], out: IO[str]) -> int:
    with reading(ctx.engine) as conn:
        rows = audit.iter_raw(conn)
        return audit.export_jsonl(rows, out) if fmt == "jsonl" else audit.export_csv(rows, out)
