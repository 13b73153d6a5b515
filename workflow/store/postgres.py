"""PostgreSQL: the production backend and its audit recorder.

Transactions run at READ COMMITTED (its default). Audit appends are serialised by a
transaction-level advisory lock, `CHAIN_LOCK`, held from the append to the commit: whoever
holds it reads the head and appends after it, so the chain cannot fork. Only this module
takes it (`PostgresRecorder`), and `planflow_append` (migration 0005) on its behalf.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Date, Engine, TextClause, cast, create_engine, func, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement

from workflow.clock import LOCAL_TZ, Clock
from workflow.domain.audit_chain import (
    GENESIS_HASH,
    OWN,
    Record,
    body_parts,
    chain,
    own_values,
    stamp_after,
)
from workflow.errors import InvalidInput
from workflow.store import driver
from workflow.store.backend import Backend, Mutex
from workflow.store.recorder import HEAD, INSERT, AuditRecorder, Change, head_of
from workflow.store.safeguards import PostgresSafeguards

# Any constant works; it only has to be the same for every appender of one database.
CHAIN_LOCK = 0x706C616E666C6F77  # "planflow"
_LOCK = f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})"

# A move's statement: the change, then the entry (store/migrations/versions/0005) for the row
# it changed, numbered, linked and hashed by the server once it holds the chain's lock, so the
# lock is held only while the server works, never across a round trip to this process. The
# parameters are typed, as the function's signature is.
_ARGS = ", ".join("?::integer" if name == "task_id" else "?::text" for name in OWN)
# What `planflow_append` raises for an entry dated before the head (migration 0006).
TIME_REFUSED = "PF001"
# A refused move is dated again and retried at once. Each retry loses only if another writer,
# stamped later, commits between this one's reading of the clock and its statement reaching
# the lock: under 8 threads of one process (the GIL between the two) 5 in a row were seen
# lost once in a benchmark; 50 in a row is not a contention any agency makes.
_TIME_RETRIES = 50
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
    def note_words(self, words: Sequence[str]) -> TextClause:
        """Full-text prefix queries (`word:*`) of the `simple` configuration, all required."""
        match = " & ".join("'" + w.replace("'", "''").replace("\\", "") + "':*" for w in words)
        sql = (
            "audit_log.seq IN (SELECT seq FROM audit_text "
            "WHERE body @@ to_tsquery('simple', :words))"
        )
        return text(sql).bindparams(words=match)

    def append(self, conn: Connection, records: Sequence[Record], clock: Clock) -> None:
        if not records:
            return
        # The lock and the head in one round trip, each a statement of its own: under READ
        # COMMITTED the SELECT takes its snapshot when it starts, once the lock is granted,
        # so it sees every entry committed by the lock's previous holder. (In one statement
        # the snapshot would predate the wait and the chain could fork.)
        lock, head = driver.pipeline(conn, [(_LOCK, ()), (HEAD, ())])
        lock.close()
        seq, last, dated = head_of(head.fetchall())
        head.close()
        rows = chain(records, stamp_after(clock.now(), dated), (seq, last))
        driver.execute(conn, INSERT, rows, many=True).close()

    def move(
        self, conn: Connection, change: Change, record: Record, clock: Clock
    ) -> tuple[list[tuple[Any, ...]], int | None]:
        """One statement, a transaction of its own (the connection is in autocommit: see
        `PostgresBackend.moving`); the chain's lock is taken only if the change happened."""
        sql = _STATEMENTS.get(change[0])
        if sql is None:
            sql = _STATEMENTS[change[0]] = _WITH_ENTRY.format(change[0])
        stamp, refused = "", None
        for _attempt in range(_TIME_RETRIES):
            # The time is read before the lock (taken on the server): another entry may be
            # chained, later dated, in between; the function then refuses this one, whole,
            # and it is dated again. A clock that does not move (a simulation's) is refused.
            earlier, stamp = stamp, stamp_after(clock.now(), "")
            own = own_values(record, stamp)
            try:
                found = driver.rows(conn, sql, (*change[1], *own, *body_parts(own)))
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) != TIME_REFUSED:
                    raise
                refused = exc
                if stamp <= earlier:
                    break
                continue
            if not found:
                return found, None
            return [row[:-1] for row in found], int(found[0][-1])
        assert refused is not None
        message = str(refused.orig).splitlines()[0].removeprefix("planflow: ")
        raise InvalidInput(message) from refused


class PostgresBackend(Backend):
    name = "postgresql"
    recorder: PostgresRecorder = PostgresRecorder()
    safeguards = PostgresSafeguards()

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
