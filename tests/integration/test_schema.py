"""Migrations: `init` creates and re-runs cleanly, and the migrated schema equals the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from workflow.store import schema
from workflow.store.tables import Base


def test_migrations_produce_exactly_the_mapped_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _mapped})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def _mapped(name: str | None, kind: str, parents: dict[str, str | None]) -> bool:
    """All but the audit log's search index (migration 0011): SQLite's FTS5 table and its
    shadow tables, PostgreSQL's tsvector table, which no query maps (raw SQL reads them)."""
    return not (kind == "table" and (name or "").startswith("audit_text"))


def test_upgrade_is_idempotent(engine: Engine) -> None:
    assert schema.current_revision(engine) == schema.head_revision()
    assert schema.upgrade(engine) == (schema.head_revision(), schema.head_revision())


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    from workflow.store.engine import open_engine

    engine = open_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
