"""The audit log on both backends: append-only triggers, tamper detection, anchor, query."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import agency_entries
from tests.support import log, safeguards
from workflow.definitions.models import OrganisationSpec
from workflow.domain import audit_chain as audit
from workflow.domain.filters import AuditFilter
from workflow.domain.lifecycle import Move
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import tasks as svc
from workflow.store.tables import audit_log

P = "so-test."
# Loading the agency (its load and its role grants), then ten tasks, each started and five
# submitted: 10 + 10 + 5 more.
TOTAL = agency_entries() + 25


@pytest.fixture
def busy_log(ctx: Context, agency: OrganisationSpec) -> Context:
    """Ten tasks, each started and five submitted: TOTAL entries with the agency's."""
    ids = svc.create_tasks(
        ctx, [svc.NewTask("SO-TEST", f"T.{i}", f"Nhiệm vụ {i}", "QLDT") for i in range(10)]
    )
    for i, task_id in enumerate(ids):
        ctx.clock.advance(dt.timedelta(minutes=30))  # type: ignore[attr-defined]
        svc.move(ctx, task_id, Move.START, P + "lan")
        if i % 2:
            svc.move(ctx, task_id, Move.SUBMIT, P + "hung", note=f"Kết quả {i}")
    return ctx


def drop_triggers(conn: Connection) -> None:
    """What a database owner can do: remove the append-only protection."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("DROP TRIGGER audit_log_no_delete"))
    else:
        conn.execute(text("DROP TRIGGER audit_log_no_update_delete ON audit_log"))


def owner(ctx: Context, *statements: str, **params: object) -> None:
    """Drops the triggers, does as they please, and puts the triggers back (or `verify`
    would name them: tests/integration/test_safeguards.py)."""
    with ctx.engine.begin() as conn:
        drop_triggers(conn)
        for statement in statements:
            conn.execute(text(statement), params)
        safeguards.restore(conn)


def verify(ctx: Context, anchor: tuple[int, str] | None = None) -> audit.Verification:
    return audit_service.verify(ctx, anchor)


def test_intact_log_verifies(busy_log: Context) -> None:
    result = verify(busy_log)
    assert (result.ok, result.checked, result.head_seq) == (True, TOTAL, TOTAL)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", "DELETE FROM audit_log WHERE seq = 3"],
)
def test_the_database_refuses_update_and_delete(busy_log: Context, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), busy_log.engine.begin() as conn:
        conn.execute(text(statement))
    assert verify(busy_log).ok


def test_emptying_the_table_is_refused(busy_log: Context) -> None:
    # PostgreSQL has TRUNCATE (a statement trigger guards it); SQLite has an unqualified
    # DELETE, whose truncate optimisation the row trigger disables.
    postgres = busy_log.engine.dialect.name == "postgresql"
    with pytest.raises(DBAPIError, match="append-only"), busy_log.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_log" if postgres else "DELETE FROM audit_log"))
    assert verify(busy_log).checked == TOTAL


def test_an_edited_entry_is_named(busy_log: Context) -> None:
    owner(busy_log, "UPDATE audit_log SET actor = 'so-test.mai' WHERE seq = 12")
    result = verify(busy_log)
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 12, 11)
    assert "entry 12 was altered" in (result.problem or "")


def test_an_edited_data_field_is_named(busy_log: Context) -> None:
    owner(busy_log, "UPDATE audit_log SET data = :d WHERE seq = 14", d='{"note":"x","version":3}')
    assert verify(busy_log).first_bad_seq == 14


def test_a_deleted_entry_is_named(busy_log: Context) -> None:
    owner(busy_log, "DELETE FROM audit_log WHERE seq = 9")
    result = verify(busy_log)
    assert (result.ok, result.first_bad_seq) == (False, 9)
    assert "entry 9 is missing" in (result.problem or "")


def test_an_inserted_entry_is_named(busy_log: Context) -> None:
    # A forger who knows the algorithm: makes room after entry 19 and slips in an entry
    # that links to 19 with a correct hash of its own. Entry 21 no longer links to it.
    with busy_log.engine.connect() as conn:
        [after] = log.query_on(conn, AuditFilter(after_seq=18, limit=1))
    forged = dict(after, seq=20, actor="so-test.mallory", prev_hash=after["hash"])
    forged["data"] = audit.canonical_json({"note": "forged"})
    forged["hash"] = audit.entry_hash(forged)
    owner(
        busy_log,
        "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 20",
        "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000",
    )
    with busy_log.engine.begin() as conn:
        conn.execute(audit_log.insert().values(**forged))
    result = verify(busy_log)
    assert (result.ok, result.first_bad_seq) == (False, 21)
    assert "entry 21 does not link to entry 20" in (result.problem or "")


def test_a_naively_inserted_entry_is_named(busy_log: Context) -> None:
    with busy_log.engine.connect() as conn:
        [last] = log.query_on(conn, AuditFilter(after_seq=TOTAL - 1))
    owner(busy_log)
    with busy_log.engine.begin() as conn:
        conn.execute(
            audit_log.insert().values(
                **dict(
                    last,
                    seq=TOTAL + 1,
                    actor="so-test.mallory",
                    data="{}",
                    prev_hash=last["hash"],
                    hash="f" * 64,
                )
            )
        )
    result = verify(busy_log)
    assert (result.ok, result.first_bad_seq) == (False, TOTAL + 1)


def test_reordered_entries_are_named(busy_log: Context) -> None:
    owner(
        busy_log,
        "UPDATE audit_log SET seq = -1 WHERE seq = 5",
        "UPDATE audit_log SET seq = 5 WHERE seq = 6",
        "UPDATE audit_log SET seq = 6 WHERE seq = -1",
    )
    assert verify(busy_log).first_bad_seq == 5


def test_a_rewritten_chain_is_caught_by_the_anchor(busy_log: Context) -> None:
    head = audit_service.anchor(busy_log)
    anchor = audit_service.parse_anchor(head["anchor"])
    assert verify(busy_log, anchor).ok
    # The owner deletes the last entries: the chain itself still verifies...
    owner(busy_log, "DELETE FROM audit_log WHERE seq > 20")
    assert verify(busy_log).ok
    # ...but not against the head published earlier.
    result = verify(busy_log, anchor)
    assert not result.ok and f"anchor names entry {TOTAL}" in (result.problem or "")


def test_query_filters_and_paging(busy_log: Context) -> None:
    with busy_log.engine.connect() as conn:
        submits = log.query_on(conn, AuditFilter(action="submit"))
        assert [e["actor"] for e in submits] == [P + "hung"] * 5
        by_lan = log.query_on(conn, AuditFilter(actor=P + "lan"))
        assert len(by_lan) == 10 and all(e["action"] == "start" for e in by_lan)
        page = log.query_on(conn, AuditFilter(after_seq=10, limit=5))
        assert [e["seq"] for e in page] == [11, 12, 13, 14, 15]
        since = dt.datetime(2024, 3, 1, 5, 0, tzinfo=dt.UTC)  # the sixth half hour
        late = log.query_on(conn, AuditFilter(since=since, action="start"))
        assert [e["at"][11:16] for e in late] == ["05:00", "05:30", "06:00", "06:30", "07:00"]
        assert log.query_on(conn, AuditFilter(unit="QLDT", action="submit")) == submits


def test_export_round_trips_and_verifies(busy_log: Context) -> None:
    out = io.StringIO()
    assert audit_service.export(busy_log, "jsonl", out) == TOTAL
    lines = out.getvalue().split("\n")[:-1]  # not splitlines: U+2028 is raw inside strings
    rows = [json.loads(line) for line in lines]
    assert audit.verify(
        [tuple(r.get(f) for f in audit.FIELDS) for r in rows]
    ).ok  # an export can be verified away from the database
    for line, row in zip(lines, rows, strict=True):
        # each line is canonical, and without its hash it is the text that was hashed
        assert audit.canonical_json(row) == line
        hashed = audit.canonical_json({k: v for k, v in row.items() if k != "hash"})
        assert audit.content_hash(hashed) == row["hash"]
        assert isinstance(row["data"], str) and isinstance(json.loads(row["data"]), dict)
    csv_out = io.StringIO()
    assert audit_service.export(busy_log, "csv", csv_out) == TOTAL
    # for a spreadsheet: a byte-order mark, then the header
    assert csv_out.getvalue().splitlines()[0].startswith("\ufeffseq,at,actor,role")
