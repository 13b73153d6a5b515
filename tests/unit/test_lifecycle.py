"""The lifecycle rules, without a database: every move from every state, roles, four-eyes."""

from __future__ import annotations

import pytest

from workflow.domain.diagram import mermaid
from workflow.domain.lifecycle import (
    MACHINE,
    NOT_DONE,
    RULES,
    TERMINAL_STATES,
    Move,
    MoveRequest,
    State,
    TaskFacts,
    allowed_moves,
    allowed_sources,
    available_moves,
    decide,
)
from workflow.domain.roles import Actor, Role
from workflow.errors import InvalidInput, MoveNotAllowed, PermissionDenied

ORG = "SO-TEST"
STAFF = Actor("lan", ORG, "QLDT", frozenset({Role.STAFF}))
HEAD = Actor("hung", ORG, "QLDT", frozenset({Role.UNIT_HEAD}))
OTHER_UNIT = Actor("mai", ORG, "DKKD", frozenset({Role.STAFF}))
OFFICE = Actor("an", ORG, "VP", frozenset({Role.OFFICE, Role.STAFF}))
OFFICE2 = Actor("binh", ORG, "VP", frozenset({Role.OFFICE}))
LEADER = Actor("cuong", ORG, "BGD", frozenset({Role.LEADER}))
AUDITOR = Actor("dung", ORG, "VP", frozenset({Role.AUDITOR}))
FOREIGN_OFFICE = Actor("x", "SO-KHAC", "VP", frozenset({Role.OFFICE}))

EXPECTED = {
    Move.START: ({State.ASSIGNED}, State.IN_PROGRESS),
    Move.SUBMIT: ({State.IN_PROGRESS}, State.SUBMITTED),
    Move.RETURN: ({State.SUBMITTED}, State.IN_PROGRESS),
    Move.VERIFY: ({State.SUBMITTED}, State.VERIFIED),
    Move.CLOSE: ({State.VERIFIED}, State.CLOSED),
    Move.REASSIGN: ({State.ASSIGNED, State.IN_PROGRESS}, State.ASSIGNED),
    Move.WITHDRAW: ({State.ASSIGNED, State.IN_PROGRESS}, State.CLOSED),
}
# Someone entitled to make each move on a task led by QLDT, with what the move needs.
ENTITLED = {
    Move.START: (STAFF, MoveRequest(Move.START)),
    Move.SUBMIT: (STAFF, MoveRequest(Move.SUBMIT, note="Báo cáo đã gửi")),
    Move.RETURN: (OFFICE, MoveRequest(Move.RETURN, note="Thiếu số liệu quý II")),
    Move.VERIFY: (OFFICE, MoveRequest(Move.VERIFY)),
    Move.CLOSE: (LEADER, MoveRequest(Move.CLOSE)),
    Move.REASSIGN: (OFFICE, MoveRequest(Move.REASSIGN, note="Đúng chức năng", to_unit="DKKD")),
    Move.WITHDRAW: (OFFICE, MoveRequest(Move.WITHDRAW, note="Đơn vị không còn trong đợt kiểm tra")),
}


def task(state: State, submitted_by: str | None = "lan", lead: str = "QLDT") -> TaskFacts:
    return TaskFacts(7, ORG, lead, state, submitted_by)


@pytest.mark.parametrize("move", list(Move))
@pytest.mark.parametrize("state", list(State))
def test_every_move_from_every_state(move: Move, state: State) -> None:
    sources, dest = EXPECTED[move]
    actor, request = ENTITLED[move]
    if state in sources:
        decision = decide(task(state), actor, request)
        assert (decision.from_state, decision.to_state) == (state, dest)
    else:
        with pytest.raises(MoveNotAllowed) as refused:
            decide(task(state), actor, request)
        message = str(refused.value)
        assert f"it is {state}" in message
        for source in sources:
            assert str(source) in message  # names the states that allow the move


def test_machine_is_one_shared_graph_without_models() -> None:
    assert MACHINE.models == []
    assert {m: set(allowed_sources(m)) for m in Move} == {m: s for m, (s, _) in EXPECTED.items()}
    assert available_moves(State.SUBMITTED) == [Move.RETURN, Move.VERIFY]
    assert available_moves(State.CLOSED) == []


def test_lead_unit_members_start_and_submit_and_are_recorded_in_their_role() -> None:
    assert decide(task(State.ASSIGNED), HEAD, MoveRequest(Move.START)).role is Role.UNIT_HEAD
    assert decide(task(State.ASSIGNED), STAFF, MoveRequest(Move.START)).role is Role.STAFF


@pytest.mark.parametrize("move", [Move.START, Move.SUBMIT])
@pytest.mark.parametrize("outsider", [OTHER_UNIT, OFFICE, LEADER])
def test_only_the_lead_unit_starts_and_submits(move: Move, outsider: Actor) -> None:
    state = State.ASSIGNED if move is Move.START else State.IN_PROGRESS
    with pytest.raises(PermissionDenied, match="only a member of the lead unit QLDT"):
        decide(task(state), outsider, MoveRequest(move, note="x"))


@pytest.mark.parametrize("move", [Move.RETURN, Move.VERIFY, Move.REASSIGN])
@pytest.mark.parametrize("someone", [STAFF, HEAD, LEADER])
def test_office_moves_need_the_office_role(move: Move, someone: Actor) -> None:
    state = State.ASSIGNED if move is Move.REASSIGN else State.SUBMITTED
    with pytest.raises(PermissionDenied, match=f"{move} needs the office role"):
        decide(task(state), someone, MoveRequest(move, note="x", to_unit="DKKD"))


def test_close_is_for_office_or_leadership() -> None:
    assert decide(task(State.VERIFIED), OFFICE, MoveRequest(Move.CLOSE)).role is Role.OFFICE
    assert decide(task(State.VERIFIED), LEADER, MoveRequest(Move.CLOSE)).role is Role.LEADER
    with pytest.raises(PermissionDenied, match="close needs the leader or office role"):
        decide(task(State.VERIFIED), HEAD, MoveRequest(Move.CLOSE))


def test_four_eyes_the_submitter_never_verifies() -> None:
    # The office leads this task: an office member submitted it, so another must verify.
    mine = task(State.SUBMITTED, submitted_by=OFFICE.id, lead="VP")
    with pytest.raises(PermissionDenied, match="four-eyes rule: an submitted task 7"):
        decide(mine, OFFICE, MoveRequest(Move.VERIFY))
    assert decide(mine, OFFICE2, MoveRequest(Move.VERIFY)).to_state is State.VERIFIED
    # ...but may return it (returning is not approving).
    assert decide(mine, OFFICE, MoveRequest(Move.RETURN, note="sai số liệu")).to_state is (
        State.IN_PROGRESS
    )


@pytest.mark.parametrize(
    ("move", "state", "actor", "needs"),
    [
        (Move.SUBMIT, State.IN_PROGRESS, STAFF, "what was delivered"),
        (Move.RETURN, State.SUBMITTED, OFFICE, "a reason"),
        (Move.REASSIGN, State.ASSIGNED, OFFICE, "a reason"),
    ],
)
@pytest.mark.parametrize("note", [None, "", "   "])
def test_required_notes(
    move: Move, state: State, actor: Actor, needs: str, note: str | None
) -> None:
    with pytest.raises(InvalidInput, match=f"{move} needs --note with .*{needs}"):
        decide(task(state), actor, MoveRequest(move, note=note, to_unit="DKKD"))


def test_reassign_needs_another_unit() -> None:
    with pytest.raises(InvalidInput, match="needs --to UNIT"):
        decide(task(State.ASSIGNED), OFFICE, MoveRequest(Move.REASSIGN, note="x"))
    with pytest.raises(InvalidInput, match="already led by QLDT"):
        decide(task(State.ASSIGNED), OFFICE, MoveRequest(Move.REASSIGN, note="x", to_unit="QLDT"))
    moved = decide(
        task(State.IN_PROGRESS), OFFICE, MoveRequest(Move.REASSIGN, note="x", to_unit="DKKD")
    )
    assert (moved.lead_unit, moved.to_state) == ("DKKD", State.ASSIGNED)


def test_auditors_are_read_only() -> None:
    for move, (_, request) in ENTITLED.items():
        state = next(iter(EXPECTED[move][0]))
        with pytest.raises(PermissionDenied, match="auditors read and verify, never act"):
            decide(task(state, lead="VP"), AUDITOR, request)


def test_nobody_acts_on_another_agencys_task() -> None:
    with pytest.raises(PermissionDenied, match="belongs to SO-KHAC and cannot act on task 7"):
        decide(task(State.SUBMITTED), FOREIGN_OFFICE, MoveRequest(Move.VERIFY))


def test_the_state_is_checked_before_the_role() -> None:
    # A refusal names the most useful reason: the task is not in a state that allows it.
    with pytest.raises(MoveNotAllowed):
        decide(task(State.CLOSED), OTHER_UNIT, MoveRequest(Move.START))


def test_rules_table_and_machine_agree() -> None:
    for move, rule in RULES.items():
        for source in rule.sources:
            [transition] = MACHINE.get_transitions(trigger=move.value, source=source.value)
            assert transition.dest == rule.dest.value


def test_the_moves_a_person_may_make_now_come_from_the_machine() -> None:
    assert allowed_moves(task(State.ASSIGNED), STAFF) == [Move.START]
    assert allowed_moves(task(State.ASSIGNED), OFFICE) == [Move.REASSIGN, Move.WITHDRAW]
    assert allowed_moves(task(State.SUBMITTED, submitted_by="binh"), OFFICE) == [
        Move.RETURN,
        Move.VERIFY,
    ]
    # Four-eyes: the submitter may return their own submission, never verify it.
    mine = task(State.SUBMITTED, submitted_by=OFFICE.id, lead="VP")
    assert allowed_moves(mine, OFFICE) == [Move.RETURN]
    assert allowed_moves(task(State.VERIFIED), LEADER) == [Move.CLOSE]
    assert allowed_moves(task(State.SUBMITTED), STAFF) == []
    assert allowed_moves(task(State.ASSIGNED, lead="VP"), AUDITOR) == []
    assert allowed_moves(task(State.SUBMITTED), FOREIGN_OFFICE) == []
    assert allowed_moves(task(State.CLOSED), OFFICE) == []
    # Whatever it offers, `decide` allows (given the note and unit it asks for).
    for state in State:
        for actor in (STAFF, HEAD, OTHER_UNIT, OFFICE, OFFICE2, LEADER, AUDITOR):
            for move in allowed_moves(task(state), actor):
                note = "x" if RULES[move].note else None
                decide(task(state), actor, MoveRequest(move, note=note, to_unit="DKKD"))


def test_the_rules_table_is_read_off_the_machine() -> None:
    assert RULES[Move.VERIFY].four_eyes and not RULES[Move.RETURN].four_eyes
    assert RULES[Move.SUBMIT].by_lead_unit and RULES[Move.SUBMIT].note == (
        "a note saying what was delivered"
    )
    assert RULES[Move.CLOSE].roles == {Role.OFFICE, Role.LEADER}
    assert [m for m, r in RULES.items() if r.note == "a reason"] == [
        Move.RETURN,
        Move.REASSIGN,
        Move.WITHDRAW,
    ]
    assert {State.CLOSED} == TERMINAL_STATES
    assert {State.ASSIGNED, State.IN_PROGRESS, State.SUBMITTED} == NOT_DONE


def test_the_diagram_is_drawn_from_the_machine() -> None:
    drawn = mermaid()
    assert drawn.startswith("stateDiagram-v2\n    [*] --> assigned\n")
    assert "    submitted --> verified: verify (office, not the submitter)\n" in drawn
    assert "    in_progress --> submitted: submit (lead unit, note)\n" in drawn
    assert "    verified --> closed: close (leader or office)\n" in drawn
    assert drawn.count(" --> ") == 1 + sum(len(r.sources) for r in RULES.values()) + 1
