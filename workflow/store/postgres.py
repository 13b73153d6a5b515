"""PostgreSQL: the production backend and its audit recorder.

Transactions run at READ COMMITTED (its default). Audit appends are serialised by a
transaction-level advisory lock, `CHAIN_LOCK`, held from the append to the commit: whoever
holds it reads the head and appends after it, so the chain cannot fork. Only this module
takes it (`PostgresRecorder`), and `planflow_append` (migration 0005) on its behalf.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Date, Engine, cast, create_engine, func
from sqlalchemy.sql.elements import ColumnElement

from workflow.clock import LOCAL_TZ
from workflow.domain.audit_chain import (
    GENESIS_HASH,
    OWN,
    Record,
    body_parts,
    chain,
    format_at,
    own_values,
)
from workflow.store import driver
from workflow.store.backend import Backend, Mutex
from workflow.store.recorder import HEAD, INSERT, AuditRecorder, Change, head_of

# Any constant works; it only has to be the same for every appender of one database.
CHAIN_LOCK = 0x706C616E666C6F77  # "planflow"
_LOCK = f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})"

# A move's statement: the change, then the entry (store/migrations/versions/0005) for the row
# it changed, numbered, linked and hashed by the server once it holds the chain's lock, so the
# lock is held only while the server works, never across a round trip to this process. The
# parameters are typed, as the function's signature is.
_ARGS = ", ".join("?::integer" if name == "task_id" else "?::text" for name in OWN)
_WITH_ENTRY = (
    "WITH changed AS ({}) SELECT changed.*, "
    f"planflow_append({CHAIN_LOCK}, '{GENESIS_HASH}', {_ARGS}, ?::text, ?::text, ?::text) "
    "FROM changed"
)
_STATEMENTS: dict[str, str] = {}

# The locks of `Mutex`, each its own advisory key beside the chain's: taken first thing in
# a writing transaction, never while the chain's lock is held (that is taken last, by the
# append at the end of the transaction), so the two never wait on each other in a cycle.
MUTEX_KEYS = {mutex: CHAIN_LOCK + mutex.value for mutex in Mutex}


class PostgresRecorder(AuditRecorder):
    def append(self, conn: Connection, records: Sequence[Record], at: dt.datetime) -> None:
        if not records:
            return
        stamp = format_at(at)  # everything that needs no lock is done before taking it
        # The lock and the head in one round trip, each a statement of its own: under READ
        # COMMITTED the SELECT takes its snapshot when it starts, once the lock is granted,
        # so it sees every entry committed by the lock's previous holder. (In one statement
        # the snapshot would predate the wait and the chain could fork.)
        lock, head = driver.pipeline(conn, [(_LOCK, ()), (HEAD, ())])
        lock.close()
        found = head.fetchall()
        head.close()
        driver.execute(conn, INSERT, chain(records, stamp, head_of(found)), many=True).close()

    def move(
        self, conn: Connection, change: Change, record: Record, at: dt.datetime
    ) -> tuple[list[tuple[Any, ...]], int | None]:
        """One statement, a transaction of its own (the connection is in autocommit: see
        `PostgresBackend.moving`); the chain's lock is taken only if the change happened."""
        sql = _STATEMENTS.get(change[0])
        if sql is None:
            sql = _STATEMENTS[change[0]] = _WITH_ENTRY.format(change[0])
        own = own_values(record, format_at(at))
        found = driver.rows(conn, sql, (*change[1], *own, *body_parts(own)))
        if not found:
            return found, None
        return [row[:-1] for row in found], int(found[0][-1])


class PostgresBackend(Backend):
    name = "postgresql"
    recorder: PostgresRecorder = PostgresRecorder()

    @contextmanager
    def writing(self, engine: Engine) -> Iterator[Connection]:
        with engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def reading(self, engine: Engine, *, consistent: bool) -> Iterator[Connection]:
        with engine.connect() as conn:
            if consistent:  # under READ COMMITTED a move could land between two statements
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def moving(self, engine: Engine) -> Iterator[Connection]:
        # psycopg switched once for every statement of the move (the switch costs as much as
        # a statement's own Python).
        with engine.connect() as conn, driver.autocommit(conn):
            yield conn

    def serialise(self, conn: Connection, mutex: Mutex) -> None:
        driver.execute(conn, "SELECT pg_advisory_xact_lock(?)", (MUTEX_KEYS[mutex],)).close()

    def local_date(self, column: Any) -> ColumnElement[Any]:
        return cast(func.timezone(str(LOCAL_TZ), column), Date)

    def bind(self, value: Any) -> Any:
        return value  # psycopg adapts dates and times itself

    def shared_between_processes(self, engine: Engine) -> bool:
        return True


def create(url: str, pool_size: int) -> tuple[Engine, PostgresBackend]:
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=max(8, pool_size), pool_pre_ping=False
    )
    return engine, PostgresBackend()
