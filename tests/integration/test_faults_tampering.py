"""Tampering by the database owner, caught by `audit verify` plus `audit replay`.

The owner can drop the append-only triggers and then edit, delete, reorder or insert audit
rows, or change tasks behind the log's back. The hash chain names the first entry that no
longer fits; the replay names every task whose row differs from what the log says, and every
entry that does not follow from the ones before it. The limit: an owner who rewrites the
chain, recomputing every hash, passes `verify`; only an anchor kept outside the database
(`audit anchor`, `audit verify --anchor`) catches a rewrite of anchored entries, and the replay
catches it only if the rewrite leaves a task's row and its entries disagreeing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, text, update

from tests.support import log, safeguards
from workflow.cli.main import run
from workflow.definitions.models import OrganisationSpec
from workflow.domain import audit_chain as audit
from workflow.domain.filters import AuditFilter
from workflow.domain.lifecycle import Move
from workflow.domain.replay import ReplayReport
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import tasks as svc
from workflow.store.tables import audit_log

P = "so-test."


@dataclass
class History:
    ctx: Context
    closed: int  # start, submit, verify, close
    returned: int  # start, submit, return, submit
    reassigned: int  # start, reassign to DKKD
    started: int  # start
    fresh: int  # nothing yet

    def seq(self, task_id: int, action: str, nth: int = 0) -> int:
        with self.ctx.engine.connect() as conn:
            found = log.query_on(conn, AuditFilter(task_id=task_id, action=action))
        return int(found[nth]["seq"])


@pytest.fixture
def history(ctx: Context, agency: OrganisationSpec) -> History:
    ids = svc.create_tasks(
        ctx, [svc.NewTask("SO-TEST", f"H.{i}", f"Nhiệm vụ {i}", "QLDT") for i in range(5)]
    )
    steps: list[tuple[int, Move, str, dict[str, str]]] = [
        (ids[0], Move.START, "lan", {}),
        (ids[0], Move.SUBMIT, "lan", {"note": "Báo cáo"}),
        (ids[0], Move.VERIFY, "office1", {}),
        (ids[0], Move.CLOSE, "leader", {}),
        (ids[1], Move.START, "hung", {}),
        (ids[1], Move.SUBMIT, "lan", {"note": "Lần 1"}),
        (ids[1], Move.RETURN, "office2", {"note": "Bổ sung số liệu"}),
        (ids[1], Move.SUBMIT, "lan", {"note": "Lần 2"}),
        (ids[2], Move.START, "lan", {}),
        (ids[2], Move.REASSIGN, "office1", {"note": "Chuyển phòng", "to_unit": "DKKD"}),
        (ids[3], Move.START, "lan", {}),
    ]
    for task_id, which, who, extra in steps:
        ctx.clock.advance(dt.timedelta(minutes=10))  # type: ignore[attr-defined]
        svc.move(ctx, task_id, which, P + who, **extra)
    return History(ctx, *ids)


@contextmanager
def owner(ctx: Context) -> Iterator[Connection]:
    """The database owner: drops the append-only triggers, does as they please, and puts
    the triggers back (else `audit verify` names them: tests/integration/test_safeguards.py)."""
    with ctx.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update_delete ON audit_log"))
        yield conn
        safeguards.restore(conn)


def rehash_from(conn: Connection, first: int) -> None:
    """What a forger who knows the algorithm does: recompute every hash from `first` on."""
    rows = log.entries_on(conn)
    prev = rows[first - 2]["hash"] if first > 1 else audit.GENESIS_HASH
    for row in rows[first - 1 :]:
        fixed = dict(row, prev_hash=prev)
        fixed["hash"] = prev = audit.entry_hash(fixed)
        conn.execute(
            update(audit_log)
            .where(audit_log.c.seq == row["seq"])
            .values(prev_hash=fixed["prev_hash"], hash=fixed["hash"])
        )


def last_entry(ctx: Context) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        head = log.verify_on(conn).head_seq
        [last] = log.query_on(conn, AuditFilter(after_seq=(head or 1) - 1))
    return last


def replay(ctx: Context) -> ReplayReport:
    return audit_service.replay(ctx)


def named(report: ReplayReport) -> dict[int, tuple[str, ...]]:
    return {m.task: m.fields for m in report.mismatches}


def test_an_untouched_database_replays_exactly(history: History) -> None:
    report = replay(history.ctx)
    assert report.ok, report.as_json()
    assert (report.tasks_checked, report.entries_replayed) == (5, 5 + 11)  # + 1 org entry


# ------------------------------------------------------------------ tasks changed behind the log


@pytest.mark.parametrize(
    ("assignment", "field", "stored"),
    [
        ("state = 'closed'", "state", "closed"),
        ("version = version + 1", "version", 3),
        ("lead_unit = 'DKKD'", "lead_unit", "DKKD"),
        ("submitted_by = 'so-test.mai'", "submitted_by", "so-test.mai"),
        ("returned_count = 2", "returned_count", 2),
    ],
)
def test_a_task_changed_without_an_entry_is_named(
    history: History, assignment: str, field: str, stored: Any
) -> None:
    with owner(history.ctx) as conn:
        conn.execute(text(f"UPDATE tasks SET {assignment} WHERE id = {history.started}"))
    assert audit_service.verify(history.ctx).ok  # the log itself is intact...
    report = replay(history.ctx)  # ...but the task no longer matches it
    assert named(report) == {history.started: (field,)}
    [mismatch] = report.mismatches
    assert mismatch.stored == {field: stored}
    assert f"task {history.started}: stored {field} {stored}" in mismatch.problem


def test_a_deleted_task_row_and_a_task_without_entries_are_named(history: History) -> None:
    with owner(history.ctx) as conn:
        conn.execute(text(f"DELETE FROM tasks WHERE id = {history.fresh}"))
        conn.execute(
            text(
                "INSERT INTO tasks (id, organisation, kind, code, period, title, lead_unit, "
                "cooperating_units, state, version, returned_count, created_at, updated_at) "
                "VALUES (900, 'SO-TEST', 'plan', 'X.1', '', 'Không có nhật ký', 'QLDT', '[]', "
                "'verified', 4, 0, :now, :now)"
            ),
            {"now": dt.datetime(2024, 3, 1, tzinfo=dt.UTC)},
        )
    assert audit_service.verify(history.ctx).ok
    problems = {m.task: m.problem for m in replay(history.ctx).mismatches}
    assert problems.keys() == {history.fresh, 900}
    assert (
        "in the audit log" in problems[history.fresh]
        and "not in the tasks table" in (problems[history.fresh])
    )
    assert "has no task.create entry" in problems[900]


# ------------------------------------------------------------------ entries changed


def test_an_edited_entry_is_named_by_verify_and_its_task_by_replay(history: History) -> None:
    last_submit = history.seq(history.returned, "submit", 1)
    with owner(history.ctx) as conn:
        conn.execute(text(f"UPDATE audit_log SET to_state = 'verified' WHERE seq = {last_submit}"))
    result = audit_service.verify(history.ctx)
    assert (result.ok, result.first_bad_seq) == (False, last_submit)
    report = replay(history.ctx)
    assert named(report) == {history.returned: ("state",)}
    assert report.mismatches[0].replayed == {"state": "verified"}


def test_a_deleted_last_entry_passes_verify_but_not_replay(history: History) -> None:
    anchor = anchor_of(history.ctx)
    start = history.seq(history.started, "start")
    assert start == anchor[0]  # the head of the chain
    with owner(history.ctx) as conn:
        conn.execute(text(f"DELETE FROM audit_log WHERE seq = {start}"))
    assert audit_service.verify(history.ctx).ok  # a shorter chain is still a chain...
    assert not audit_service.verify(history.ctx, anchor).ok  # ...shorter than the anchor
    [mismatch] = replay(history.ctx).mismatches
    assert (mismatch.task, mismatch.fields) == (history.started, ("state", "version"))
    assert mismatch.stored == {"state": "in_progress", "version": 2}
    assert mismatch.replayed == {"state": "assigned", "version": 1}


def test_a_deleted_middle_entry_breaks_the_replay_where_it_was(history: History) -> None:
    submit = history.seq(history.closed, "submit")
    with owner(history.ctx) as conn:
        conn.execute(text(f"DELETE FROM audit_log WHERE seq = {submit}"))
    assert audit_service.verify(history.ctx).first_bad_seq == submit
    report = replay(history.ctx)
    verify_seq = history.seq(history.closed, "verify")
    assert [(p.seq, p.task) for p in report.log_problems] == [(verify_seq, history.closed)] * 2
    assert "verify from submitted, but the log left the task in_progress" in str(
        report.log_problems[0]
    )
    assert named(report) == {history.closed: ("submitted_by",)}  # who submitted is lost


def test_reordered_entries_do_not_replay(history: History) -> None:
    verify_seq = history.seq(history.closed, "verify")
    close_seq = history.seq(history.closed, "close")
    with owner(history.ctx) as conn:
        conn.execute(text(f"UPDATE audit_log SET seq = -1 WHERE seq = {verify_seq}"))
        conn.execute(text(f"UPDATE audit_log SET seq = {verify_seq} WHERE seq = {close_seq}"))
        conn.execute(text(f"UPDATE audit_log SET seq = {close_seq} WHERE seq = -1"))
    assert audit_service.verify(history.ctx).first_bad_seq == verify_seq
    report = replay(history.ctx)
    assert {p.seq for p in report.log_problems} == {verify_seq, close_seq}
    assert "close from verified, but the log left the task submitted" in str(report.log_problems[0])


def test_an_inserted_entry_is_named_by_verify_and_replay(history: History) -> None:
    last = last_entry(history.ctx)
    forged = dict(
        last,
        seq=last["seq"] + 1,
        task_id=history.fresh,
        subject=f"task:{history.fresh}",
        action="start",
        from_state="assigned",
        to_state="in_progress",
        data=audit.canonical_json({"version": 2}),
        prev_hash=last["hash"],
    )
    forged["hash"] = "f" * 64  # no correct hash: the chain names it
    with owner(history.ctx) as conn:
        conn.execute(audit_log.insert().values(**forged))
    assert audit_service.verify(history.ctx).first_bad_seq == forged["seq"]
    assert named(replay(history.ctx)) == {history.fresh: ("state", "version")}


def test_a_forged_entry_that_breaks_the_rules_is_named_even_with_a_valid_chain(
    history: History,
) -> None:
    # The submitter verifies their own work, written in with a correct hash and the task
    # row updated to match: the chain and the rows agree, the rules do not.
    last = last_entry(history.ctx)
    forged = dict(
        last,
        seq=last["seq"] + 1,
        actor=P + "lan",
        role="staff",
        unit="QLDT",
        task_id=history.returned,
        subject=f"task:{history.returned}",
        action="verify",
        from_state="submitted",
        to_state="verified",
        data=audit.canonical_json({"version": 6}),
        prev_hash=last["hash"],
    )
    forged["hash"] = audit.entry_hash(forged)
    with owner(history.ctx) as conn:
        conn.execute(audit_log.insert().values(**forged))
        conn.execute(
            text(f"UPDATE tasks SET state='verified', version=6 WHERE id={history.returned}")
        )
    assert audit_service.verify(history.ctx).ok
    problems = [str(p) for p in replay(history.ctx).log_problems]
    assert problems == [
        f"entry {forged['seq']} (task {history.returned}): verify by so-test.lan acting as "
        "staff; verify needs the office role",
        f"entry {forged['seq']} (task {history.returned}): verify by so-test.lan, who "
        "submitted it (four-eyes)",
    ]


# ------------------------------------------------------------------ whole-chain rewrites


def anchor_of(ctx: Context) -> tuple[int, str]:
    return audit_service.parse_anchor(audit_service.anchor(ctx)["anchor"])


def test_a_rewritten_chain_passes_verify_but_not_the_anchor(history: History) -> None:
    """The limit, stated: a rewrite that leaves states alone is caught by the anchor only."""
    anchor = anchor_of(history.ctx)
    verify_seq = history.seq(history.closed, "verify")
    with owner(history.ctx) as conn:  # "it was office2 who verified", every hash recomputed
        conn.execute(
            text(f"UPDATE audit_log SET actor = 'so-test.office2' WHERE seq = {verify_seq}")
        )
        rehash_from(conn, verify_seq)
    assert audit_service.verify(history.ctx).ok
    assert replay(history.ctx).ok  # no state changed: the replay cannot tell
    result = audit_service.verify(history.ctx, anchor)
    assert not result.ok and "does not match the anchor" in (result.problem or "")


def test_a_rewritten_chain_hiding_a_state_change_is_caught_by_replay(history: History) -> None:
    anchor = anchor_of(history.ctx)
    start = history.seq(history.started, "start")
    with owner(history.ctx) as conn:  # closes a task and erases its history
        conn.execute(text(f"UPDATE tasks SET state = 'closed' WHERE id = {history.started}"))
        conn.execute(text(f"DELETE FROM audit_log WHERE seq = {start}"))
        rehash_from(conn, start)  # nothing follows it: the chain simply ends earlier
    assert audit_service.verify(history.ctx).ok
    assert named(replay(history.ctx)) == {history.started: ("state", "version")}
    assert not audit_service.verify(history.ctx, anchor).ok


def test_the_limit_a_consistent_forgery_after_the_last_anchor(history: History) -> None:
    """A forger who appends rule-abiding entries and updates the rows to match, after the
    last published anchor, is caught by nothing inside the database: anchor often."""
    anchor = anchor_of(history.ctx)
    last = last_entry(history.ctx)
    forged = dict(
        last,
        seq=last["seq"] + 1,
        actor=P + "lan",
        role="staff",
        unit="QLDT",
        task_id=history.started,
        subject=f"task:{history.started}",
        action="submit",
        from_state="in_progress",
        to_state="submitted",
        data=audit.canonical_json({"note": "giả mạo", "version": 3}),
        prev_hash=last["hash"],
    )
    forged["hash"] = audit.entry_hash(forged)
    with owner(history.ctx) as conn:
        conn.execute(audit_log.insert().values(**forged))
        conn.execute(
            text(
                "UPDATE tasks SET state='submitted', version=3, submitted_by='so-test.lan' "
                f"WHERE id={history.started}"
            )
        )
    assert audit_service.verify(history.ctx).ok
    assert audit_service.verify(history.ctx, anchor).ok
    assert replay(history.ctx).ok


# ------------------------------------------------------------------ the command


def test_audit_replay_on_the_command_line(
    history: History, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def replay_cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = run(["--db", db_url, "audit", "replay", *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = replay_cli()
    assert code == 0 and out == (
        "the audit log replays to the stored rows: 5 tasks, 7 person_roles, 1 organisations "
        "checked, 16 entries replayed\n"
    )
    with owner(history.ctx) as conn:
        conn.execute(text(f"UPDATE tasks SET state = 'verified' WHERE id = {history.returned}"))
    code, out, err = replay_cli()
    assert code == 6 and err == ""
    assert out.splitlines() == [
        f"task {history.returned}: stored state verified; the audit log replays to state submitted "
        f"(its last entry is {history.seq(history.returned, 'submit', 1)})",
        "replay MISMATCH: 1 row(s) differ from the audit log, 0 entries do not follow from "
        "the ones before (5 tasks, 7 person_roles, 1 organisations checked)",
    ]
    code, out, _ = replay_cli("--format", "json")
    payload = json.loads(out)
    assert code == 6 and payload["ok"] is False and payload["tasks_checked"] == 5
    assert payload["mismatches"] == [
        {
            "table": "tasks",
            "row": str(history.returned),
            "task": history.returned,
            "fields": ["state"],
            "stored": {"state": "verified"},
            "replayed": {"state": "submitted"},
            "last_seq": history.seq(history.returned, "submit", 1),
            "problem": payload["mismatches"][0]["problem"],
        }
    ]
    assert replay_cli("--format", "csv")[0] == 2
