"""The driver's own cursor, for the hot paths: the one module that reaches below SQLAlchemy.

A move's statements and the audit log's appends and scans run as plain SQL on the
connection's DBAPI cursor, inside the same transaction as every other statement of the
connection: SQLAlchemy's per-statement overhead is several times the statement's own cost on
SQLite. Only public API is used (`Connection.connection.dbapi_connection`, `dispatch`,
`Dialect.is_disconnect`, `Connection.invalidate`, `DBAPIError.instance`); what each call
relies on is checked by `tests/unit/test_driver_quarantine.py` and
`tests/integration/test_driver.py`, which fail if an upgrade breaks it. SQL is written with
`?` placeholders and turned into the driver's style here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def execute(conn: Connection, sql: str, params: Sequence[Any] = (), *, many: bool = False) -> Any:
    """Run `sql` on the connection's DBAPI cursor; returns the cursor (the caller fetches
    and closes it).

    Fires `before_cursor_execute` and `after_cursor_execute` (with no execution context, as
    documented for such calls) and raises SQLAlchemy's wrapped errors, disconnects
    invalidating the connection, as `Connection.execute` does.
    """
    if conn.dialect.paramstyle != "qmark":
        sql = _pyformat(sql)
    cursor = dbapi(conn).cursor()
    dispatch = conn.dispatch
    before = dispatch.before_cursor_execute
    if before:
        before(conn, cursor, sql, params, None, many)
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except BaseException as exc:
        cursor.close()
        _raise(conn, exc, sql, params, cursor, many)
    after = dispatch.after_cursor_execute
    if after:
        after(conn, cursor, sql, params, None, many)
    return cursor


def rows(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """`execute`, fetching every row."""
    cursor = execute(conn, sql, params)
    found: list[tuple[Any, ...]] = cursor.fetchall()
    cursor.close()
    return found


def pipeline(conn: Connection, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """Run statements as `execute` does, in one round trip on PostgreSQL.

    psycopg's pipeline mode sends them together and reads every result at the end; each is
    still a statement of its own, with its own snapshot under READ COMMITTED. On this kind of
    host a round trip costs far more than its bytes: the server's process has gone idle in
    between and must be woken. Elsewhere they run one after the other. Returns the cursors.
    """
    if conn.dialect.paramstyle == "qmark" or len(statements) < 2:
        return [execute(conn, sql, params) for sql, params in statements]
    driver = dbapi(conn)
    before = conn.dispatch.before_cursor_execute
    queued: list[tuple[Any, str, Sequence[Any]]] = []
    for sql, params in statements:
        cursor = driver.cursor()
        queued.append((cursor, _pyformat(sql), params))
        if before:
            before(conn, cursor, queued[-1][1], params, None, False)
    try:
        with driver.pipeline():
            for cursor, sql, params in queued:
                cursor.execute(sql, params)
    except BaseException as exc:
        for cursor, _sql, _params in queued:
            cursor.close()
        _raise(conn, exc, "; ".join(sql for _c, sql, _p in queued), [], None, False)
    after = conn.dispatch.after_cursor_execute
    if after:
        for cursor, sql, params in queued:
            after(conn, cursor, sql, params, None, False)
    return [cursor for cursor, _sql, _params in queued]


def dbapi(conn: Connection) -> Any:
    """The driver's connection under `conn` (checked out, so never None)."""
    driver = conn.connection.dbapi_connection
    assert driver is not None, "the connection was closed"
    return driver


@contextmanager
def autocommit(conn: Connection) -> Iterator[None]:
    """psycopg: every statement on `conn` inside is a transaction of its own (a local
    switch of the driver, where BEGIN and COMMIT around a statement would be two more round
    trips). The connection has no transaction open."""
    driver = dbapi(conn)
    assert not conn.in_transaction()
    previous = driver.autocommit
    driver.autocommit = True
    try:
        yield
    finally:
        if not driver.closed:
            driver.autocommit = previous


@contextmanager
def immediate(conn: Connection) -> Iterator[None]:
    """SQLite: a writing transaction issued on the driver itself (BEGIN IMMEDIATE, then
    COMMIT, or ROLLBACK on any error), on a connection with none open, for `execute`
    statements only: what a SQLAlchemy transaction does at a third of its cost, a move's hot
    path. SQLAlchemy's bookkeeping sees no transaction."""
    driver = dbapi(conn)
    execute(conn, "BEGIN IMMEDIATE").close()
    try:
        yield
    except BaseException:
        if driver.in_transaction:
            driver.rollback()
        raise
    driver.commit()


def _raise(
    conn: Connection,
    exc: BaseException,
    sql: str,
    params: Any,
    cursor: Any,
    many: bool,
) -> NoReturn:
    """The driver's error as `Connection.execute` raises it: wrapped in SQLAlchemy's class
    for it, the connection invalidated when it was lost."""
    base = conn.dialect.loaded_dbapi.Error
    if not isinstance(exc, base):
        raise exc
    lost = not conn.closed and conn.dialect.is_disconnect(exc, dbapi(conn), cursor)
    if lost:
        conn.invalidate(exc)
    raise DBAPIError.instance(
        sql, params, exc, base, connection_invalidated=lost, dialect=conn.dialect, ismulti=many
    ) from exc


_PYFORMAT: dict[str, str] = {}


def _pyformat(sql: str) -> str:
    found = _PYFORMAT.get(sql)
    if found is None:
        found = _PYFORMAT[sql] = sql.replace("%", "%%").replace("?", "%s")
    return found
