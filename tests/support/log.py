"""Reading the audit log in tests: through the unit of work, as the services do."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from workflow.context import Context
from workflow.domain.audit_chain import Verification, verify
from workflow.domain.filters import AuditFilter
from workflow.store.engine import backend_for
from workflow.store.recorder import AuditRecorder


def chain_ok(ctx: Context) -> Verification:
    """The whole chain recomputed in one pass (what `audit verify --workers 1` does)."""
    with ctx.uow.reading() as r:
        return verify(r.audit.rows())


def entries(ctx: Context, **where: Any) -> list[dict[str, Any]]:
    """Entries matching every filter of `AuditFilter`, oldest first, `data` decoded."""
    with ctx.uow.reading() as r:
        return r.audit.query(AuditFilter(**where))


def verify_on(conn: Connection) -> Verification:
    """`chain_ok` on a connection a test holds (inside its own transaction)."""
    return verify(backend_for(conn.engine).recorder.scan(conn))


def query_on(conn: Connection, where: AuditFilter) -> list[dict[str, Any]]:
    return backend_for(conn.engine).recorder.query(conn, where)


def entries_on(conn: Connection, batch: int = 20_000) -> list[dict[str, Any]]:
    """Every entry as stored (`data` the hashed text), oldest first."""
    return list(recorder_on(conn).entries(conn, batch))


def recorder_on(conn: Connection) -> AuditRecorder:
    return backend_for(conn.engine).recorder
