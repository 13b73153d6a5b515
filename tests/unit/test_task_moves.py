"""What a task's page offers and explains: the moves a person may make now and the
refusals of the others, read off the lifecycle (`domain.task_moves`)."""

from __future__ import annotations

import pytest

from tests.unit.test_lifecycle import AUDITOR, LEADER, OFFICE, OFFICE2, STAFF, task
from workflow.domain.access import Access, Permission, access_of
from workflow.domain.lifecycle import (
    HoldsRole,
    LeadUnitMember,
    Move,
    MoveRequest,
    NoteRequired,
    NotTheSubmitter,
    State,
    allowed_moves,
)
from workflow.domain.roles import Actor
from workflow.domain.task_moves import moves_now, refusal_of


def access(actor: Actor, scope: frozenset[str] | None = None) -> Access:
    return access_of(actor, scope, {})


@pytest.mark.parametrize("actor", [STAFF, OFFICE, OFFICE2, LEADER, AUDITOR], ids=lambda a: a.id)
@pytest.mark.parametrize("state", list(State))
def test_the_moves_offered_are_the_lifecycle_s_allowed_moves(actor: Actor, state: State) -> None:
    facts = task(state, submitted_by="an")
    offered = [o.move for o in moves_now(facts, access(actor)).allowed]
    assert offered == allowed_moves(facts, actor)


def test_each_offered_move_says_what_its_form_must_ask_for() -> None:
    submitted = moves_now(task(State.IN_PROGRESS), access(STAFF))
    assert [(o.move, o.dest, o.note) for o in submitted.allowed] == [
        (Move.SUBMIT, State.SUBMITTED, "a note saying what was delivered")
    ]
    office = {o.move: o for o in moves_now(task(State.ASSIGNED), access(OFFICE)).allowed}
    assert office[Move.REASSIGN].needs_unit and office[Move.REASSIGN].note == "a reason"
    assert not office[Move.WITHDRAW].needs_unit


def test_the_submitter_is_refused_verification_by_the_four_eyes_guard() -> None:
    facts = task(State.SUBMITTED, submitted_by="an")
    found = moves_now(facts, access(OFFICE))
    assert [o.move for o in found.allowed] == [Move.RETURN]
    refusal = found.refusal(Move.VERIFY)
    assert refusal is not None and isinstance(refusal.guard, NotTheSubmitter)
    assert "four-eyes" in refusal.reason
    other = moves_now(facts, access(OFFICE2))
    assert other.allows(Move.VERIFY) and other.refusal(Move.VERIFY) is None


def test_refusals_name_the_guard_that_refuses() -> None:
    assigned = moves_now(task(State.ASSIGNED), access(LEADER))
    start = assigned.refusal(Move.START)
    assert start is not None and isinstance(start.guard, LeadUnitMember)
    closing = moves_now(task(State.VERIFIED), access(STAFF)).refusal(Move.CLOSE)
    assert closing is not None and isinstance(closing.guard, HoldsRole)
    # An auditor's roles give no tasks:move: refused before any guard of the lifecycle.
    audit = moves_now(task(State.VERIFIED), access(AUDITOR)).refusal(Move.CLOSE)
    assert audit is not None and audit.guard is None


def test_a_credential_without_tasks_move_is_offered_nothing() -> None:
    reading = access(OFFICE2, frozenset({Permission.TASKS_READ.value}))
    found = moves_now(task(State.SUBMITTED), reading)
    assert found.allowed == ()
    assert {r.move for r in found.refused} == {Move.RETURN, Move.VERIFY}
    assert all(r.guard is None for r in found.refused)


def test_judging_the_input_names_the_missing_note() -> None:
    facts = task(State.SUBMITTED)
    bare = MoveRequest(Move.RETURN)
    assert refusal_of(facts, access(OFFICE2), bare) is None  # the form asks for it
    judged = refusal_of(facts, access(OFFICE2), bare, judge_input=True)
    assert judged is not None and isinstance(judged.guard, NoteRequired)
    noted = MoveRequest(Move.RETURN, note="Thiếu phụ lục")
    assert refusal_of(facts, access(OFFICE2), noted, judge_input=True) is None
    # A move the state does not offer is nobody's rule: the service says it in its words.
    assert refusal_of(task(State.CLOSED), access(OFFICE2), bare, judge_input=True) is None
