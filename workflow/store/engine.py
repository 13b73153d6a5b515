"""Opening the database: URL resolution, SQLite pragmas, and the unit-of-work transactions.

SQLite: WAL, foreign keys on, a busy timeout, and `BEGIN IMMEDIATE` for writing transactions
so writers queue on the database lock instead of failing half-way (and audit appends are
serialised by that lock). PostgreSQL: READ COMMITTED; audit appends take an advisory lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
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
        return _sqlite_engine(resolved)
    if backend == "postgresql":
        return create_engine(
            resolved, pool_size=pool_size, max_overflow=max(8, pool_size), pool_pre_ping=False
        )
    raise InvalidInput(f"unsupported database {backend!r}; use SQLite or PostgreSQL")


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        parent = Path(database).resolve().parent
        if not parent.is_dir():
            raise StoreUnavailable(f"cannot open {database}: folder {parent} does not exist")
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

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
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def is_sqlite(conn_or_engine: Connection | Engine) -> bool:
    return conn_or_engine.dialect.name == "sqlite"


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One writing transaction: commits on success, rolls back everything on any error."""
    with translated(), engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


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
        text = str(exc.orig).lower()
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            raise StoreUnavailable(
                "the database has no planflow schema yet; run 'planflow init' first"
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
        raise


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else "unknown"
