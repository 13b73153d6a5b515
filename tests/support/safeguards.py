"""The append-only safeguards in tests: put back what a tampering owner dropped."""

from __future__ import annotations

from sqlalchemy import Connection, text

from workflow.store import safeguards
from workflow.store.engine import backend_for


def restore(conn: Connection) -> None:
    """What a careful owner does after tampering: create again, as their migration did,
    the triggers they dropped, so that `audit verify` finds its safeguards in place and
    says only what the chain says."""
    backend = backend_for(conn.engine)
    expected = (
        safeguards.expected_sqlite() if backend.name == "sqlite" else safeguards.expected_postgres()
    )
    by_name = {(e.kind, e.name): e for e in expected}
    for problem in backend.safeguards.problems(conn):
        assert problem.problem == "missing", f"restore() puts back dropped ones only: {problem}"
        conn.execute(text(by_name[(problem.kind, problem.name)].sql))
