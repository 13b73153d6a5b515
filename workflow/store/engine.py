"""Opening the database: URL resolution, the backend that serves it, and the failures a user
can meet turned into typed errors.

What each database needs (pragmas, pools, locks, the audit recorder) is in its backend's
module: `store.sqlite`, `store.postgres`.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Dialect, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    OperationalError,
    ProgrammingError,
)

from workflow.errors import Conflict, InvalidInput, StoreUnavailable
from workflow.store import postgres, sqlite
from workflow.store.backend import Backend

DEFAULT_SQLITE_FILE = "planflow.db"
ENV_VAR = "PLANFLOW_DB"


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


# Keyed by the dialect: an engine's option copies share it, and its backend with it.
_BACKENDS: weakref.WeakKeyDictionary[Dialect, Backend] = weakref.WeakKeyDictionary()
_CREATE = {"sqlite": sqlite.create, "postgresql": postgres.create}


def open_engine(url: str | None = None, *, pool_size: int = 5) -> Engine:
    resolved = resolve_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError as exc:
        raise InvalidInput(
            f"--db {resolved!r} is not a database URL; expected sqlite:///FILE or "
            "postgresql://USER@HOST/DB"
        ) from exc
    name = parsed.get_backend_name()
    create = _CREATE.get(name)
    if create is None:
        raise InvalidInput(f"unsupported database {name!r}; use SQLite or PostgreSQL")
    engine, backend = create(resolved, pool_size)
    _BACKENDS[engine.dialect] = backend
    return engine


def backend_for(engine: Engine) -> Backend:
    """The backend of an engine `open_engine` made (or of an option copy of it)."""
    found = _BACKENDS.get(engine.dialect)
    if found is None:
        raise StoreUnavailable(f"{engine.url.get_backend_name()}: not opened by planflow")
    return found


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
        if _disk_full(exc, text):
            raise StoreUnavailable(
                "the disk holding the database is full; nothing of this command was stored "
                f"(free some space and run it again): {_first_line(exc.orig)}"
            ) from exc
        if "locked" in text or "busy" in text:
            raise Conflict("the database is busy with another writer; try again") from exc
        if "deadlock" in text or "could not serialize" in text:
            raise Conflict("another transaction changed the same rows; try again") from exc
        if "disk i/o error" in text:  # SQLite's word for a -shm or -wal it could not grow
            raise StoreUnavailable(
                f"cannot use the database: {_first_line(exc.orig)} (is the disk holding it "
                "full, or failing?)"
            ) from exc
        raise StoreUnavailable(f"cannot use the database: {_first_line(exc.orig)}") from exc
    except DataError as exc:  # a value the database cannot hold: NUL, out of range, too long
        if _disk_full(exc, str(exc.orig).lower()):
            raise StoreUnavailable(
                f"the disk holding the database is full: {_first_line(exc.orig)}"
            ) from exc
        raise InvalidInput(f"the database cannot take this value: {_first_line(exc.orig)}") from exc
    except OverflowError as exc:  # SQLite: an integer beyond 64 bits, refused by the driver
        raise InvalidInput(
            f"a number is too large: ids and counts go up to {2**63 - 1} ({exc})"
        ) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(
                f"lost the database connection: {_first_line(exc.orig)}"
            ) from exc
        _raise_if_ours(exc)
        raise


# SQLite's SQLITE_FULL, PostgreSQL's disk_full (SQLSTATE 53100) and the operating system's
# ENOSPC as either reports it: exit 7 with one line, not "a bug".
_DISK_FULL = ("database or disk is full", "no space left on device", "disk full")


def _disk_full(exc: DBAPIError, text: str) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "53100" or any(w in text for w in _DISK_FULL)


_OURS = "planflow: "


def _raise_if_ours(exc: DBAPIError) -> None:
    """An error raised by planflow's own code in the database (a refusal it explains)."""
    if str(exc.orig).startswith(_OURS):
        raise StoreUnavailable(_first_line(exc.orig).removeprefix(_OURS)) from exc


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else "unknown"
