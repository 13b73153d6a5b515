"""A move's own transaction: the compare-and-set and its entry, committed together or not at all.

On PostgreSQL the move is one statement and the database numbers, links and hashes the entry
itself (`planflow_append`, migration 0005); on SQLite the writer hashes it under the database
lock. Either way the stored entry must be byte for byte what `verify` rebuilds, for any text.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.conftest import small_agency
from tests.support import log
from workflow.clock import FixedClock
from workflow.domain import audit_chain as audit
from workflow.domain.filters import AuditFilter
from workflow.domain.lifecycle import Move, State
from workflow.errors import StoreUnavailable
from workflow.services import Context, organisations
from workflow.services import tasks as svc
from workflow.store import schema
from workflow.store.engine import open_engine

P = "so-test."

# Any text a person or a plan can put in an entry: Vietnamese, quotes, backslashes, control
# characters, emoji; never NUL, which no PostgreSQL text can hold (refused before any write).
CHARS = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))


def text_of(most: int) -> st.SearchStrategy[str]:
    """Text that fits a column of `most` characters."""
    return st.text(CHARS, max_size=most)


DATA = st.dictionaries(
    text_of(40),
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(CHARS)
    | st.lists(st.integers(), max_size=3),
    max_size=4,
)
RECORDS = st.builds(
    audit.Record,
    actor=text_of(80),
    action=text_of(40),
    subject=text_of(200),
    role=st.none() | text_of(20),
    unit=st.none() | text_of(40),
    organisation=st.none() | text_of(40),
    task_id=st.none() | st.integers(min_value=-(2**31), max_value=2**31 - 1),
    plan_id=st.none() | text_of(120),
    from_state=st.none() | text_of(20),
    to_state=st.none() | text_of(20),
    data=DATA,
)


@pytest.fixture
def task(ctx: Context) -> int:
    organisations.upsert_organisation(ctx, small_agency())
    [task_id] = svc.create_tasks(ctx, [svc.NewTask("SO-TEST", "A.1", "Báo cáo", "QLDT")])
    return task_id


def touch(task_id: int) -> tuple[str, tuple[Any, ...]]:
    """A change that always happens: the task's version goes up by one."""
    return (
        "UPDATE tasks SET version = version + 1 WHERE tasks.id = ? RETURNING tasks.version",
        (task_id,),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(record=RECORDS)
def test_an_entry_appended_with_its_change_is_the_entry_verify_rebuilds(
    ctx: Context, task: int, record: audit.Record
) -> None:
    at = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    with ctx.uow.moving() as tx:
        changed, seq = tx.backend.recorder.move(tx.conn, touch(task), record, FixedClock(at))
    assert changed and seq is not None
    with ctx.engine.connect() as conn:
        [stored] = log.query_on(conn, AuditFilter(after_seq=seq - 1, limit=1))
        assert log.verify_on(conn).ok
    raw = {**stored, "data": audit.data_json(record.data)}
    assert stored["seq"] == seq
    assert raw["hash"] == audit.entry_hash(raw)
    assert (stored["actor"], stored["unit"], stored["task_id"]) == (
        record.actor,
        record.unit,
        record.task_id,
    )
    assert stored["data"] == json.loads(audit.canonical_json(record.data))


def test_a_change_that_changed_nothing_appends_nothing(ctx: Context, task: int) -> None:
    record = audit.Record(actor="x", action="start", subject=f"task:{task}", task_id=task)
    nothing = (
        "UPDATE tasks SET version = version + 1 WHERE tasks.id = ? RETURNING tasks.id",
        (-1,),
    )
    with ctx.uow.moving() as tx:
        assert tx.backend.recorder.move(tx.conn, nothing, record, ctx.clock) == ([], None)
    with ctx.engine.connect() as conn:
        assert log.query_on(conn, AuditFilter(action="start")) == []
        assert svc.get_task(ctx, task).version == 1


# ------------------------------------------------------------------ PostgreSQL's safety nets


@pytest.fixture
def pg(pg_url: str) -> Iterator[Context]:
    engine = open_engine(pg_url)
    ctx = Context(engine, operator="operator:test")
    organisations.upsert_organisation(ctx, small_agency())
    yield ctx
    engine.dispose()


def new_task(ctx: Context) -> int:
    [task_id] = svc.create_tasks(ctx, [svc.NewTask("SO-TEST", "A.1", "Báo cáo", "QLDT")])
    return task_id


def test_a_database_whose_schema_predates_the_append_function_is_told_to_upgrade(
    pg: Context,
) -> None:
    task_id = new_task(pg)
    config = schema._config()
    with pg.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    with pytest.raises(StoreUnavailable, match=r"older than this planflow; run 'planflow init'"):
        svc.move(pg, task_id, Move.START, P + "lan")
    assert svc.get_task(pg, task_id).state is State.ASSIGNED
    schema.upgrade(pg.engine)  # what `planflow init` does
    assert svc.move(pg, task_id, Move.START, P + "lan").state is State.IN_PROGRESS


def test_a_database_that_runs_repeatable_read_by_default_refuses_moves(pg: Context) -> None:
    """Its snapshot would be taken before the chain's lock is granted: the append refuses."""
    task_id = new_task(pg)
    name = pg.engine.url.database
    with pg.engine.connect() as conn:
        conn.execute(
            text(
                f"ALTER DATABASE \"{name}\" SET default_transaction_isolation TO 'repeatable read'"
            )
        )
        conn.commit()
    pg.engine.dispose()  # new connections take the database's setting
    with pytest.raises(StoreUnavailable, match=r"need READ COMMITTED.*runs REPEATABLE READ"):
        svc.move(pg, task_id, Move.START, P + "lan")
    assert svc.get_task(pg, task_id).state is State.ASSIGNED
    with pg.engine.connect() as conn:
        assert log.verify_on(conn).ok
