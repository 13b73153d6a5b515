"""Audit use cases for auditors: query, verify (optionally against an anchor), export."""

from __future__ import annotations

import re
from typing import IO, Any, Literal

from workflow import audit
from workflow.errors import InvalidInput
from workflow.services.context import Context
from workflow.store.engine import reading

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


def export(ctx: Context, fmt: Literal["jsonl", "csv"], out: IO[str]) -> int:
    with reading(ctx.engine) as conn:
        rows = audit.iter_raw(conn)
        return audit.export_jsonl(rows, out) if fmt == "jsonl" else audit.export_csv(rows, out)
