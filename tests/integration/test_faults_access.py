"""Access through the services, on both backends: auditors are read-only, and a person of one
agency cannot act on another agency's tasks, whatever the task's state and whatever the move.
A refused move writes nothing: not the task, not the log."""

from __future__ import annotations

import itertools
import json

import pytest

from tests.conftest import small_agency
from tests.support import log
from workflow.cli.main import run
from workflow.definitions.models import OrganisationSpec
from workflow.domain.lifecycle import Move, State
from workflow.errors import PlanflowError
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import organisations as org_service
from workflow.services import tasks as svc

P = "so-test."
PATHS = {  # the moves that bring a fresh task to each state
    State.ASSIGNED: [],
    State.IN_PROGRESS: [(Move.START, "lan")],
    State.SUBMITTED: [(Move.START, "lan"), (Move.SUBMIT, "lan")],
    State.VERIFIED: [(Move.START, "lan"), (Move.SUBMIT, "lan"), (Move.VERIFY, "office1")],
    State.CLOSED: [
        (Move.START, "lan"),
        (Move.SUBMIT, "lan"),
        (Move.VERIFY, "office1"),
        (Move.CLOSE, "leader"),
    ],
}


@pytest.fixture
def one_per_state(ctx: Context, agency: OrganisationSpec) -> dict[State, int]:
    org_service.upsert_organisation(ctx, small_agency("SO-KHAC"))
    ids = svc.create_tasks(
        ctx, [svc.NewTask("SO-TEST", f"S.{s.value}", s.value, "QLDT") for s in State]
    )
    out = dict(zip(State, ids, strict=True))
    for state, task_id in out.items():
        for which, who in PATHS[state]:
            svc.move(ctx, task_id, which, P + who, note="Báo cáo")
    return out


def head(ctx: Context) -> int | None:
    with ctx.engine.connect() as conn:
        return log.verify_on(conn).head_seq


@pytest.mark.parametrize(
    ("person", "reason"),
    [
        ("so-test.auditor", "auditors read and verify, never act"),
        ("so-khac.office1", "belongs to SO-KHAC and cannot act on task"),  # another agency
        ("so-khac.leader", "belongs to SO-KHAC and cannot act on task"),
    ],
)
def test_no_move_on_any_state_is_allowed_and_nothing_is_written(
    ctx: Context, one_per_state: dict[State, int], person: str, reason: str
) -> None:
    before = head(ctx)
    for (state, task_id), which in itertools.product(one_per_state.items(), Move):
        seen = svc.get_task(ctx, task_id)
        allowed_here = (
            state
            in {
                Move.START: {State.ASSIGNED},
                Move.SUBMIT: {State.IN_PROGRESS},
                Move.RETURN: {State.SUBMITTED},
                Move.VERIFY: {State.SUBMITTED},
                Move.CLOSE: {State.VERIFIED},
                Move.REASSIGN: {State.ASSIGNED, State.IN_PROGRESS},
                Move.WITHDRAW: {State.ASSIGNED, State.IN_PROGRESS},
            }[which]
        )
        try:
            svc.move(ctx, task_id, which, person, note="Thử", to_unit="DKKD")
        except PlanflowError as exc:
            code, message = exc.exit_code, str(exc)
        else:
            pytest.fail(f"{person} made {which} on a {state} task")
        if person.startswith("so-khac.") or allowed_here:  # agency first, then state, role
            assert code == 4 and reason in message, message
        else:
            assert code == 3, message
        after = svc.get_task(ctx, task_id)
        assert (after.state, after.version) == (seen.state, seen.version)
    assert head(ctx) == before  # not one entry
    assert audit_service.replay(ctx).ok


def test_an_auditor_reads_verifies_and_replays(
    ctx: Context, one_per_state: dict[State, int], db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (
        ["audit", "verify"],
        ["audit", "replay"],
        ["audit", "query", "--task", str(one_per_state[State.CLOSED]), "--format", "json"],
        ["tasks", "history", str(one_per_state[State.VERIFIED])],
    ):
        assert run(["--db", db_url, *command]) == 0
    capsys.readouterr()
    task = str(one_per_state[State.SUBMITTED])
    assert run(["--db", db_url, "tasks", "verify", task, "--as", P + "auditor"]) == 4
    err = capsys.readouterr().err
    assert err.startswith("planflow: error: so-test.auditor is an auditor") and err.count("\n") == 1
    assert run(["--db", db_url, "tasks", "show", task, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["state"] == "submitted"
