"""Opening the database: URL resolution, SQLite pragmas, and the unit-of-work transactions.

SQLite: WAL, foreign keys on, a busy timeout, and `BEGIN IMMEDIATE` for writing transactions
so writers queue on the database lock instead of failing half-way (and audit appends are
serialised by that lock). Writers of one process queue on an in-process gate first (see
`_WriteGate`). PostgreSQL: READ COMMITTED; audit appends take an advisory lock.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    OperationalError,
    ProgrammingError,
)

from workflow.errors import Conflict, InvalidInput, StoreUnavailable

DEFAULT_SQLITE_FILE = "planflow.db"
ENV_VAR = "PLANFLOW_DB"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE = "planflow_write"


def resolve_url(url: str | None) -> str:
    """--db, else PLANFLOW_DB, else a SQLite file in the working directory."""
    chosen = url or os.environ.get(ENV_VAR) or ""
    if not chosen:
        return f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}"
    if "://" not in chosen:  # a bare path is a SQLite file
        return f"sqlite:///{Path(chosen).resolve()}"
    if chosen.startswith("postgresql://") or chosen.startswith("postgres://"):
        chosen = "postgresql+psycopg://" + chosen.split("://", 1)[1]
    return chosen


def open_engine(url: str | None = None, *, pool_size: int = 5) -> Engine:
    resolved = resolve_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError as exc:
        raise InvalidInput(
            f"--db {resolved!r} is not a database URL; expected sqlite:///FILE or "
            "postgresql://USER@HOST/DB"
        ) from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(resolved, pool_size)
    if backend == "postgresql":
        return create_engine(
            resolved, pool_size=pool_size, max_overflow=max(8, pool_size), pool_pre_ping=False
        )
    raise InvalidInput(f"unsupported database {backend!r}; use SQLite or PostgreSQL")


def _sqlite_engine(url: str, pool_size: int) -> Engine:
    database = make_url(url).database
    pooled: dict[str, Any] = {}
    if database and database != ":memory:":
        parent = Path(database).resolve().parent
        if not parent.is_dir():
            raise StoreUnavailable(f"cannot open {database}: folder {parent} does not exist")
        # A file database gets a QueuePool sized like PostgreSQL's: with the default (5),
        # more concurrent writers than that open and close a connection (and its pragmas)
        # on every move.
        pooled = {"pool_size": pool_size, "max_overflow": max(8, pool_size), "pool_use_lifo": True}
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **pooled)
    # Keyed by the dialect: shared with the engine's option copies, and kept by dispose().
    gate = _GATES[engine.dialect] = _WriteGate(engine if pooled else None)
    event.listen(engine, "engine_disposed", lambda _engine: gate.release())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's implicit BEGIN is always DEFERRED).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # FULL: a committed move and its audit entry survive a power cut, not only a crash.
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # On the driver's cursor: through exec_driver_sql this one statement cost as much
        # as a move's UPDATE and INSERT together.
        immediate = conn.get_execution_options().get(_WRITE, False)
        driver_execute(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN").close()

    return engine


class _WriteGate:
    """The in-process queue of a SQLite database's writers.

    SQLite lets one writer in at a time; the others poll from its busy handler, sleeping
    1, 2, 5, ... up to 100 ms between tries, so the lock sits idle while the next writer
    sleeps, and the threads woken to poll compete for the GIL with the one holding the lock.
    Threads of one process wait here instead, on a lock that wakes the next one as soon as
    the writer before it commits. Other processes still queue on SQLite's own lock.
    Re-entrant, so a nested writing transaction of the same thread behaves as before (it
    waits for SQLite's busy timeout); bounded by the same timeout, so a writer never waits
    here longer than it would have in the busy handler.
    """

    def __init__(self, engine: Engine | None) -> None:
        self._lock = threading.RLock()
        # A file database's moves keep one connection checked out between them (`moving`):
        # no pool round trip per move, and a page cache that only other processes' writes
        # (and this process's other writing transactions) drop.
        self._owner = weakref.ref(engine) if engine is not None else None
        self._conn: Connection | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise Conflict("the database is busy with another writer; try again")
        try:
            yield
        finally:
            self._lock.release()

    @contextmanager
    def connection(self, engine: Engine) -> Iterator[Connection]:
        """Held, a connection for a move: the movers' own one for the gate's engine (a
        pooled one for an option copy of it, or a memory database)."""
        with self.held():
            if self._owner is None or self._owner() is not engine:
                with engine.connect() as conn:
                    yield conn
                return
            if self._conn is None or self._conn.closed or self._conn.invalidated:
                self._conn = engine.connect()
            conn = self._conn
            try:
                yield conn
            finally:
                if not conn.closed and conn.in_transaction():
                    conn.rollback()  # a read after a conflict: the next move starts clean

    def release(self) -> None:
        """Return the movers' connection (the engine is being disposed)."""
        with self.held():
            if self._conn is not None:
                self._conn.close()
                self._conn = None


_GATES: weakref.WeakKeyDictionary[Dialect, _WriteGate] = weakref.WeakKeyDictionary()


def is_sqlite(conn_or_engine: Connection | Engine) -> bool:
    return conn_or_engine.dialect.name == "sqlite"


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One writing transaction: commits on success, rolls back everything on any error."""
    with translated(), writers_turn(engine), engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})  # SQLite: BEGIN IMMEDIATE (`_on_begin`)
        with conn.begin():
            yield conn


@contextmanager
def connected(engine: Engine) -> Iterator[Connection]:
    """One pooled connection and no transaction open yet (for `run_alone` statements, or a
    transaction of the caller's)."""
    with translated(), engine.connect() as conn:
        yield conn


@contextmanager
def writers_turn(engine: Engine) -> Iterator[None]:
    """SQLite: this thread's turn among the process's writers (the gate, `_WriteGate`).

    Taken before the connection is checked out, and given back after it is returned: the
    pool hands out the connection returned last, so the process's writing transactions go
    through one connection whose page cache stays warm (a connection's cache is dropped
    whenever another connection has written). Moves hold it through `moving`. Elsewhere:
    nothing.
    """
    gate = _GATES.get(engine.dialect)
    with gate.held() if gate is not None else nullcontext():
        yield


@contextmanager
def driver_transaction(conn: Connection) -> Iterator[None]:
    """SQLite: a writing transaction issued on the driver itself (BEGIN IMMEDIATE, then
    COMMIT, or ROLLBACK on any error), on a connection with none open, for `driver_execute`
    statements only: what `writing` does at a third of its cost, which is a move's hot
    path. SQLAlchemy's bookkeeping sees no transaction."""
    dbapi: Any = conn.connection.dbapi_connection
    with writers_turn(conn.engine):
        driver_execute(conn, "BEGIN IMMEDIATE").close()
        try:
            yield
        except BaseException:
            if dbapi.in_transaction:
                dbapi.rollback()
            raise
        dbapi.commit()


@contextmanager
def moving(engine: Engine) -> Iterator[Connection]:
    """A connection for a move, every `run_alone` statement on it a transaction of its own.
    SQLite: held with the writer's turn (`writers_turn`), the movers' own connection."""
    gate = _GATES.get(engine.dialect)
    if gate is None:
        with connected(engine) as conn, statements_alone(conn):
            yield conn
        return
    with translated(), gate.connection(engine) as conn:
        yield conn


@contextmanager
def statements_alone(conn: Connection) -> Iterator[None]:
    """Every `run_alone` statement on `conn` inside is a transaction of its own, the
    driver switched once for them all (psycopg's switch costs as much as a statement's
    own Python)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None and not conn.in_transaction()
    previous = dbapi.autocommit
    dbapi.autocommit = True
    try:
        yield
    finally:
        if not dbapi.closed:
            dbapi.autocommit = previous


def run_alone(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """One statement as a transaction of its own, on a connection with none open: a read, or
    a write that is whole in one statement; returns its rows.

    SQLite's driver runs it in autocommit mode already (we emit BEGIN ourselves). psycopg is
    switched to autocommit for it and back (unless `statements_alone` did): a local setting,
    where BEGIN and COMMIT around the statement would be two more round trips (and
    SQLAlchemy's isolation-level option costs more Python than the statement).
    """
    dbapi: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql" and not dbapi.autocommit:
        with statements_alone(conn):
            return run_alone(conn, sql, params)
    cursor = driver_execute(conn, sql, params)
    rows: list[tuple[Any, ...]] = cursor.fetchall()
    cursor.close()
    return rows


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    with translated(), engine.connect() as conn, conn.begin():
        yield conn


@contextmanager
def translated() -> Iterator[None]:
    """Turn driver failures a user can meet into typed errors (never a traceback)."""
    try:
        yield
    except (OperationalError, ProgrammingError) as exc:
        _raise_if_ours(exc)
        text = str(exc.orig).lower()
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            raise StoreUnavailable(
                "the database has no planflow schema yet; run 'planflow init' first"
            ) from exc
        if "function planflow_" in text and "does not exist" in text:
            raise StoreUnavailable(
                "the database's planflow schema is older than this planflow; "
                "run 'planflow init' to upgrade it"
            ) from exc
        if isinstance(exc, ProgrammingError):
            raise
        if "locked" in text or "busy" in text:
            raise Conflict("the database is busy with another writer; try again") from exc
        if "deadlock" in text or "could not serialize" in text:
            raise Conflict("another transaction changed the same rows; try again") from exc
        raise StoreUnavailable(f"cannot use the database: {_first_line(exc.orig)}") from exc
    except DataError as exc:  # a value the database cannot hold: NUL, out of range, too long
        raise InvalidInput(f"the database cannot take this value: {_first_line(exc.orig)}") from exc
    except OverflowError as exc:  # SQLite: an integer beyond 64 bits, refused by the driver
        raise InvalidInput(f"a number is too large: {exc}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(
                f"lost the database connection: {_first_line(exc.orig)}"
            ) from exc
        _raise_if_ours(exc)
        raise


_OURS = "planflow: "


def _raise_if_ours(exc: DBAPIError) -> None:
    """An error raised by planflow's own code in the database (a refusal it explains)."""
    if str(exc.orig).startswith(_OURS):
        raise StoreUnavailable(_first_line(exc.orig).removeprefix(_OURS)) from exc


# ------------------------------------------------------------------ plain SQL, hot paths


def driver_execute(
    conn: Connection, sql: str, params: Sequence[Any] = (), *, many: bool = False
) -> Any:
    """Run `sql` (written with `?` placeholders) on the connection's DBAPI cursor.

    Same transaction as every other statement of `conn`. Fires `before_cursor_execute` and
    `after_cursor_execute` (with no execution context, as documented for such calls) and turns
    driver errors into SQLAlchemy's wrapped ones, disconnects included, exactly as
    `Connection.execute` does. Returns the cursor; the caller fetches from it and closes it.
    """
    if conn.dialect.paramstyle != "qmark":
        sql = _pyformat(sql)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    # Any listeners at all? The check Connection.execute makes before touching `dispatch`,
    # each attribute of which is a new object.
    events = conn._has_events or conn.engine._has_events
    if events and (before := conn.dispatch.before_cursor_execute):
        before(conn, cursor, sql, params, None, many)
    try:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    except BaseException as exc:
        cursor.close()
        conn._handle_dbapi_exception(exc, sql, params, cursor, None)
    if events and (after := conn.dispatch.after_cursor_execute):
        after(conn, cursor, sql, params, None, many)
    return cursor


def driver_pipeline(conn: Connection, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """Run statements as `driver_execute` does, in one round trip on PostgreSQL.

    psycopg's pipeline mode sends them together and reads every result at the end; each is
    still a statement of its own, with its own snapshot under READ COMMITTED. On this kind of
    host a round trip costs far more than its bytes: the server's process has gone idle in
    between and must be woken. (Not worth it for a transaction's first statement: psycopg
    sends its BEGIN as a round trip of its own.) Elsewhere they run one after the other.
    The cursor events fire for each statement, `after_cursor_execute` once it has run.
    Returns the cursors, in order.
    """
    if conn.dialect.name != "postgresql" or len(statements) < 2:
        return [driver_execute(conn, sql, params) for sql, params in statements]
    dbapi: Any = conn.connection.dbapi_connection
    dispatch = conn.dispatch
    before = dispatch.before_cursor_execute
    queued: list[tuple[Any, str, Sequence[Any]]] = []
    for sql, params in statements:
        cursor = dbapi.cursor()
        queued.append((cursor, _pyformat(sql), params))
        if before:
            before(conn, cursor, queued[-1][1], params, None, False)
    try:
        with dbapi.pipeline():
            for cursor, sql, params in queued:
                cursor.execute(sql, params)
    except BaseException as exc:
        for cursor, _sql, _params in queued:
            cursor.close()
        conn._handle_dbapi_exception(
            exc, "; ".join(sql for _c, sql, _p in queued), [p for _c, _s, p in queued], None, None
        )
    after = dispatch.after_cursor_execute
    if after:
        for cursor, sql, params in queued:
            after(conn, cursor, sql, params, None, False)
    return [cursor for cursor, _sql, _params in queued]


_PYFORMAT: dict[str, str] = {}


def _pyformat(sql: str) -> str:
    found = _PYFORMAT.get(sql)
    if found is None:
        found = _PYFORMAT[sql] = sql.replace("%", "%%").replace("?", "%s")
    return found


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else "unknown"
