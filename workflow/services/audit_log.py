"""Audit use cases for auditors: query, verify (optionally against an anchor), replay, export."""

from __future__ import annotations

import re
from typing import IO, Any, Literal

from sqlalchemy import select

from workflow import audit
from workflow import replay as replay_log
from workflow.errors import InvalidInput
from workflow.services.context import Context
from workflow.store.engine import reading
from workflow.store.tables import tasks

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


def verify(ctx: Context, anchor: tuple[int, str] | None = None) -> audit.Verification:
    with reading(ctx.engine) as conn:
        return audit.verify(audit.iter_raw(conn), anchor)


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
