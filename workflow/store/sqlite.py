"""SQLite: the embedded backend and its audit recorder.

WAL, foreign keys on, a busy timeout, `synchronous=FULL`, and `BEGIN IMMEDIATE` for writing
transactions, so writers queue on the database's write lock instead of failing half-way. That
lock is what serialises audit appends: a writer holds it from its BEGIN IMMEDIATE to its
commit, so the head it reads is the head it appends after, and the chain cannot fork.
Writers of one process queue on an in-process gate first (`WriteGate`).
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, TextClause, create_engine, event, func, text
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import ColumnElement

from workflow.clock import Clock
from workflow.domain.audit_chain import Record, chain, stamp_after
from workflow.errors import Conflict, StoreUnavailable
from workflow.private_files import create_private
from workflow.store import driver
from workflow.store.backend import Backend, Mutex
from workflow.store.recorder import HEAD, INSERT, AuditRecorder, Change, head_of
from workflow.store.safeguards import SqliteSafeguards

BUSY_TIMEOUT_MS = 30_000
_WRITE = "planflow_write"  # the execution option that makes a transaction BEGIN IMMEDIATE
# How SQLAlchemy's SQLite dialect stores DateTime and Date (`tests/integration/test_driver.py`
# checks that it still does): what a plain statement must bind to compare and sort alike.
DATETIME_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


class SqliteRecorder(AuditRecorder):
    def note_words(self, words: Sequence[str]) -> TextClause:
        """FTS5's prefix queries, every word required."""
        match = " ".join('"' + word.replace('"', '""') + '"*' for word in words)
        sql = "audit_log.seq IN (SELECT rowid FROM audit_text WHERE audit_text MATCH :words)"
        return text(sql).bindparams(words=match)

    def append(self, conn: Connection, records: Sequence[Record], clock: Clock) -> None:
        if not records:
            return
        # The writer holds the database's write lock since its BEGIN IMMEDIATE.
        seq, last, dated = head_of(driver.rows(conn, HEAD))
        rows = chain(records, stamp_after(clock.now(), dated), (seq, last))
        driver.execute(conn, INSERT, rows, many=True).close()

    def move(
        self, conn: Connection, change: Change, record: Record, clock: Clock
    ) -> tuple[list[tuple[Any, ...]], int | None]:
        with driver.immediate(conn):  # the database's write lock, held to the commit
            changed = driver.rows(conn, *change)
            if not changed:
                return changed, None
            seq, last, dated = head_of(driver.rows(conn, HEAD))
            [row] = chain([record], stamp_after(clock.now(), dated), (seq, last))
            driver.execute(conn, INSERT, row).close()
            return changed, int(row[0])


class WriteGate:
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
        # A file database's moves keep one connection checked out between them (`connection`):
        # no pool round trip per move, and a page cache that only other processes' writes
        # (and this process's other writing transactions) drop.
        self._owner = weakref.ref(engine) if engine is not None else None
        self._conn: Connection | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
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


class SqliteBackend(Backend):
    name = "sqlite"
    recorder: SqliteRecorder = SqliteRecorder()
    safeguards = SqliteSafeguards()

    def __init__(self, gate: WriteGate | None = None) -> None:
        self.gate = gate

    def _turn(self) -> Any:
        """This thread's turn among the process's writers (the gate). Taken before the
        connection is checked out and given back after it is returned: the pool hands out
        the connection returned last, so the process's writing transactions go through one
        connection whose page cache stays warm."""
        return self.gate.held() if self.gate is not None else nullcontext()

    @contextmanager
    def writing(self, engine: Engine) -> Iterator[Connection]:
        with self._turn(), engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})  # BEGIN IMMEDIATE (`_on_begin`)
            with conn.begin():
                yield conn

    @contextmanager
    def reading(self, engine: Engine, *, consistent: bool) -> Iterator[Connection]:
        # A SQLite read transaction is one snapshot from its first read: consistent already.
        with engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def moving(self, engine: Engine) -> Iterator[Connection]:
        # pysqlite runs a statement outside BEGIN in autocommit mode (we emit BEGIN ourselves).
        if self.gate is None:
            with engine.connect() as conn:
                yield conn
            return
        with self.gate.connection(engine) as conn:
            yield conn

    def serialise(self, conn: Connection, mutex: Mutex) -> None:
        """Nothing to take: a writer holds the database's write lock from its BEGIN
        IMMEDIATE to its commit, which serialises every writer."""

    def local_date(self, column: Any) -> ColumnElement[Any]:
        return func.date(column, "+7 hours")  # SQLite stores UTC text: 'YYYY-MM-DD HH:MM:SS...'

    def bind(self, value: Any) -> Any:
        kind = value.__class__
        if kind is dt.datetime:
            return DATETIME_TEXT % (
                value.year,
                value.month,
                value.day,
                value.hour,
                value.minute,
                value.second,
                value.microsecond,
            )
        if kind is dt.date:
            return value.isoformat()
        return value

    def reads_whole_table(self, conn: Connection, in_range: Any, table_size: Any) -> bool:
        """Whether the range holds most of the table (over a tenth), to be read by scanning
        the table rather than through the (organisation, date) index.

        SQLite's planner (without STAT4) cannot tell a window that holds most of the table
        from one that holds little of it, and takes the index either way: one random row
        lookup per row, two to three times slower than reading the table through once most
        rows match. Counting the range in the index (index only: milliseconds) tells which
        case this is.
        """
        total = conn.execute(table_size).scalar() or 0
        return bool(total) and (conn.execute(in_range).scalar() or 0) * 10 > total

    def shared_between_processes(self, engine: Engine) -> bool:
        return (engine.url.database or "") not in ("", ":memory:")


def create(url: str, pool_size: int) -> tuple[Engine, SqliteBackend]:
    database = make_url(url).database
    pooled: dict[str, Any] = {}
    if database and database != ":memory:":
        parent = Path(database).resolve().parent
        if not parent.is_dir():
            raise StoreUnavailable(f"cannot open {database}: folder {parent} does not exist")
        # Created 0600 before SQLite creates it 0644: it holds personal data, and SQLite
        # gives its -wal and -shm files the database file's permissions.
        try:
            create_private(Path(database))
        except OSError as exc:
            raise StoreUnavailable(f"cannot create {database}: {exc.strerror}") from exc
        # A file database gets a QueuePool sized like PostgreSQL's: with the default (5),
        # more concurrent writers than that open and close a connection (and its pragmas)
        # on every move.
        pooled = {"pool_size": pool_size, "max_overflow": max(8, pool_size), "pool_use_lifo": True}
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **pooled)
    gate = WriteGate(engine if pooled else None)
    event.listen(engine, "engine_disposed", lambda _engine: gate.release())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite's implicit BEGIN is always DEFERRED).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # FULL: a committed move and its audit entry survive a power cut, not only a crash.
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # On the driver's cursor: through exec_driver_sql this one statement cost as much
        # as a move's UPDATE and INSERT together.
        immediate = conn.get_execution_options().get(_WRITE, False)
        driver.execute(conn, "BEGIN IMMEDIATE" if immediate else "BEGIN").close()

    return engine, SqliteBackend(gate)
