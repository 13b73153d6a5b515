"""What the hot paths rely on below SQLAlchemy (`workflow.store.driver`), on each backend:
if an upgrade of SQLAlchemy, pysqlite or psycopg changes any of it, these fail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

from workflow.store import driver
from workflow.store.engine import backend_for, open_engine
from workflow.store.tables import tasks

INSTANTS = [
    dt.datetime(2024, 3, 1, 2, 0, tzinfo=dt.UTC),
    dt.datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(1999, 1, 2, 3, 4, 5, 6),
]
DAYS = [dt.date(2024, 3, 1), dt.date(1000, 1, 1), dt.date(9999, 12, 31)]


def test_values_bound_below_sqlalchemy_are_stored_as_sqlalchemy_stores_them(
    engine: Engine,
) -> None:
    """A compare-and-set binds dates and times itself: stored alike, they compare, sort and
    read back alike, whichever path wrote them."""
    backend = backend_for(engine)
    dialect = engine.dialect
    stamp = tasks.c.updated_at.type.dialect_impl(dialect).bind_processor(dialect)
    day = tasks.c.due_date.type.dialect_impl(dialect).bind_processor(dialect)
    for value in INSTANTS:
        assert backend.bind(value) == (stamp(value) if stamp else value)
    for value in DAYS:
        assert backend.bind(value) == (day(value) if day else value)
    assert backend.bind("text") == "text" and backend.bind(7) == 7 and backend.bind(None) is None


def test_statements_fire_the_cursor_events_with_their_sql(engine: Engine) -> None:
    seen: list[tuple[str, str]] = []

    def before(_c: Connection, _cur: Any, sql: str, *_rest: Any) -> None:
        seen.append(("before", " ".join(sql.split())))

    def after(_c: Connection, _cur: Any, sql: str, *_rest: Any) -> None:
        seen.append(("after", " ".join(sql.split())))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        with engine.connect() as conn:
            assert driver.rows(conn, "SELECT ? + 1", (41,)) == [(42,)]
            cursors = driver.pipeline(conn, [("SELECT 1", ()), ("SELECT ?", (2,))])
            assert [c.fetchall() for c in cursors] == [[(1,)], [(2,)]]
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    placeholder = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    assert seen[:2] == [
        ("before", f"SELECT {placeholder} + 1"),
        ("after", f"SELECT {placeholder} + 1"),
    ]
    assert ("before", "SELECT 1") in seen and ("after", f"SELECT {placeholder}") in seen


def test_driver_errors_are_raised_as_sqlalchemy_raises_them(engine: Engine) -> None:
    expected = ProgrammingError if engine.dialect.name == "postgresql" else OperationalError
    with engine.connect() as conn:
        with pytest.raises(expected) as raised, conn.begin():
            driver.rows(conn, "SELECT * FROM no_such_table")
        assert "no_such_table" in str(raised.value.orig)
        assert not raised.value.connection_invalidated
        sql = "INSERT INTO organisations (code, name, province, office_unit, definition) VALUES (?, ?, ?, ?, '{}')"
        with conn.begin():
            driver.execute(conn, sql, ("X", "x", "y", "VP")).close()
        with pytest.raises(IntegrityError), conn.begin():
            driver.execute(conn, sql, ("X", "x", "y", "VP")).close()
        assert conn.execute(select(tasks.c.id)).all() == []  # the connection still works


@pytest.mark.postgres
def test_a_lost_connection_is_invalidated_and_the_pool_recovers(pg_url: str) -> None:
    engine = open_engine(pg_url, pool_size=1)
    try:
        with engine.connect() as conn:
            pid = driver.rows(conn, "SELECT pg_backend_pid()")[0][0]
            with engine.connect() as killer:
                killer.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            with pytest.raises(DBAPIError) as raised:
                driver.rows(conn, "SELECT 1")
            assert raised.value.connection_invalidated and conn.invalidated
        with engine.connect() as conn:
            assert driver.rows(conn, "SELECT 1") == [(1,)]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_statements_alone_commit_each_and_the_switch_is_undone(pg_url: str) -> None:
    engine = open_engine(pg_url)
    try:
        with engine.connect() as conn:
            with driver.autocommit(conn):
                assert driver.dbapi(conn).autocommit
                driver.execute(conn, "CREATE TABLE scratch (n integer)").close()
                driver.execute(conn, "INSERT INTO scratch VALUES (1)").close()
            assert not driver.dbapi(conn).autocommit
        with engine.connect() as other:  # committed, seen from another connection
            assert other.execute(text("SELECT n FROM scratch")).all() == [(1,)]
    finally:
        engine.dispose()


def test_sqlite_immediate_transactions_commit_or_roll_back_whole(sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    sql = "INSERT INTO organisations (code, name, province, office_unit, definition) VALUES (?, ?, ?, ?, '{}')"
    try:
        with engine.connect() as conn:
            with driver.immediate(conn):
                driver.execute(conn, sql, ("A", "a", "p", "VP")).close()
            with pytest.raises(IntegrityError), driver.immediate(conn):
                driver.execute(conn, sql, ("B", "b", "p", "VP")).close()
                driver.execute(conn, sql, ("A", "a", "p", "VP")).close()
            assert not driver.dbapi(conn).in_transaction
        with engine.connect() as conn:
            codes = conn.execute(text("SELECT code FROM organisations")).scalars().all()
        assert codes == ["A"]
    finally:
        engine.dispose()
