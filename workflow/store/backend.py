"""What differs between the databases planflow runs on, behind one interface: one class per
backend (`store.sqlite.SqliteBackend`, `store.postgres.PostgresBackend`), each with its audit
recorder. The unit of work (`store.uow`) and the repositories ask it; nothing else asks which
database it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from workflow.store.recorder import AuditRecorder
from workflow.store.safeguards import Safeguards


class Mutex(Enum):
    """What a writing transaction must do alone among all writers, beyond the rows it
    writes (each backend says how it takes the lock, in `Backend.serialise`)."""

    INSPECTION_DRAWS = 1  # one draw per organisation and period: the second sees the first's
    REPORT_REVISIONS = 2  # a report's revisions numbered without gaps
    DOSSIER_NUMBERS = 3  # dossier codes numbered per day without gaps


class Backend(ABC):
    name: str
    recorder: AuditRecorder
    safeguards: Safeguards  # the append-only triggers and functions `audit verify` checks
    # Whether the database is a production one: read once, by the unit of work (None: not
    # read yet); `planflow init` sets it when it chooses.
    production: bool | None = None

    @abstractmethod
    def writing(self, engine: Engine) -> AbstractContextManager[Connection]:
        """A connection in one writing transaction: committed when the block ends, rolled
        back on any error."""

    @abstractmethod
    def reading(self, engine: Engine, *, consistent: bool) -> AbstractContextManager[Connection]:
        """A connection in a reading transaction; `consistent`: every statement sees the
        same snapshot of the data."""

    @abstractmethod
    def moving(self, engine: Engine) -> AbstractContextManager[Connection]:
        """A connection for one move, no transaction open, each statement a transaction of
        its own: its reads, then the recorder's `move` (the change and its entry)."""

    @abstractmethod
    def serialise(self, conn: Connection, mutex: Mutex) -> None:
        """Take `mutex` inside the writing transaction on `conn`, held to its end."""

    @abstractmethod
    def local_date(self, column: Any) -> ColumnElement[Any]:
        """SQL for the Vietnam-time date of a stored UTC timestamp (Vietnam keeps UTC+7)."""

    @abstractmethod
    def bind(self, value: Any) -> Any:
        """A value as the driver takes it in a plain statement (`store.driver`)."""

    def reads_whole_table(self, conn: Connection, in_range: Any, table_size: Any) -> bool:
        """Whether a range holds most of its table and is read faster by scanning the table
        than through an index (see the SQLite backend); the others' planners know."""
        return False

    @abstractmethod
    def shared_between_processes(self, engine: Engine) -> bool:
        """Whether other processes can open this database (parallel verify)."""
