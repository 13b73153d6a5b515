"""The role × move × state matrix, against rules written out here from the README.

Every role set (each role alone and every pair), every move, every state, an actor in the
task's lead unit, in another unit, or of another agency, the submitter or not, with and
without a note, and for reassign with a new unit, the same unit or none: the outcome of
`decide` must be what the README's "The lifecycle" section says, derived here independently
of workflow/domain/lifecycle.py. The checks come in the README's order: agency, state, role,
four-eyes, note.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from workflow.domain.lifecycle import Decision, Move, MoveRequest, State, TaskFacts, decide
from workflow.domain.roles import Actor, Role
from workflow.errors import PlanflowError

# ---- The README, "The lifecycle", as data (strings, not the engine's tables) ------------

GRAPH = {  # move: (states it is allowed from, state it leads to)
    "start": ({"assigned"}, "in_progress"),
    "submit": ({"in_progress"}, "submitted"),
    "return": ({"submitted"}, "in_progress"),
    "verify": ({"submitted"}, "verified"),
    "close": ({"verified"}, "closed"),
    "reassign": ({"assigned", "in_progress"}, "assigned"),
    "withdraw": ({"assigned", "in_progress"}, "closed"),
}
LEAD_UNIT_MOVES = {"start", "submit"}  # "a member of the task's lead unit for start and submit"
ROLE_MOVES = {  # "the office for return, verify and reassign; office or leadership for close"
    "return": {"office"},
    "verify": {"office"},
    "reassign": {"office"},
    "withdraw": {"office"},
    "close": {"office", "leader"},
}
NOTE_MOVES = {"submit", "return", "reassign", "withdraw"}  # "(lead unit, note)", "(office, note)"

ORG, OTHER_ORG, LEAD, OTHER_UNIT, NEW_UNIT = "SO-A", "SO-B", "QLDT", "VP", "DKKD"
SUBMITTER = "so-a.submitter"
ROLE_SETS = [frozenset({r}) for r in Role] + [
    frozenset(pair) for pair in itertools.combinations(Role, 2)
]
PLACES = ("lead_unit", "other_unit", "other_agency")
TO_UNITS = {"new": NEW_UNIT, "same": LEAD, "none": None}


def expected(
    roles: set[str],
    place: str,
    move: str,
    state: str,
    is_submitter: bool,
    note: bool,
    to: str,
) -> int:
    """The exit code the README promises: 0 allowed, 2 input, 3 state, 4 permission."""
    if place == "other_agency":
        return 4  # "never another agency's task"
    sources, _ = GRAPH[move]
    if state not in sources:
        return 3
    if roles <= {"auditor", "admin"}:
        return 4  # "auditors and administrators never act" (holding only those roles)
    if move in LEAD_UNIT_MOVES:
        if place != "lead_unit":
            return 4
    elif not roles & ROLE_MOVES[move]:
        return 4
    if move == "verify" and is_submitter:
        return 4  # four-eyes: "the submitter never verifies"
    if move in NOTE_MOVES and not note:
        return 2
    if move == "reassign" and to != "new":
        return 2  # a new lead unit is needed, and it must be another unit
    return 0


def cases() -> list[tuple[frozenset[Role], str, Move, State, bool, bool, str]]:
    out = []
    for roles, place, move, state, is_submitter, note in itertools.product(
        ROLE_SETS, PLACES, Move, State, (False, True), (False, True)
    ):
        for to in TO_UNITS if move is Move.REASSIGN else ("new",):
            out.append((roles, place, move, state, is_submitter, note, to))
    return out


CASES = cases()


def run_case(
    roles: frozenset[Role],
    place: str,
    move: Move,
    state: State,
    is_submitter: bool,
    note: bool,
    to: str,
) -> tuple[int, Decision | PlanflowError]:
    actor = Actor(
        SUBMITTER if is_submitter else "so-a.person",
        OTHER_ORG if place == "other_agency" else ORG,
        LEAD if place == "lead_unit" else OTHER_UNIT,
        roles,
    )
    task = TaskFacts(7, ORG, LEAD, state, SUBMITTER)
    request = MoveRequest(move, "Ghi chú" if note else None, TO_UNITS[to])
    try:
        return 0, decide(task, actor, request)
    except PlanflowError as exc:
        return exc.exit_code, exc


def test_the_matrix_covers_every_role_move_and_state() -> None:
    assert {r for roles, *_ in CASES for r in roles} == set(Role)
    assert {c[2] for c in CASES} == set(Move) and {c[3] for c in CASES} == set(State)
    assert {c[2].value for c in CASES} == set(GRAPH)  # the README names every move
    assert len(CASES) == 28 * 3 * 7 * 5 * 2 * 2 + 28 * 3 * 5 * 2 * 2 * 2  # 7 roles and 21 pairs


def test_every_cell_of_the_matrix_matches_the_readme() -> None:
    wrong = []
    outcomes: Counter[int] = Counter()
    for case in CASES:
        roles, place, move, state, is_submitter, note, to = case
        want = expected(
            {r.value for r in roles}, place, move.value, state.value, is_submitter, note, to
        )
        got, result = run_case(*case)
        outcomes[got] += 1
        if got != want:
            wrong.append((case, want, got, str(result)))
            continue
        if isinstance(result, Decision):
            assert result.from_state is state
            assert result.to_state.value == GRAPH[move.value][1]
            assert result.lead_unit == (NEW_UNIT if move is Move.REASSIGN else LEAD)
            assert result.role in roles and result.role is not Role.AUDITOR
            if move.value in ROLE_MOVES:
                assert result.role.value in ROLE_MOVES[move.value]
    assert wrong == [], f"{len(wrong)} cells differ, e.g. {wrong[:5]}"
    assert set(outcomes) == {0, 2, 3, 4}  # every kind of outcome is exercised


@pytest.mark.parametrize(
    ("place", "move", "state", "needle"),
    [
        ("other_agency", Move.START, State.ASSIGNED, "belongs to SO-B and cannot act on task 7"),
        ("lead_unit", Move.CLOSE, State.SUBMITTED, "it is submitted; close is allowed only when"),
        ("other_unit", Move.START, State.ASSIGNED, "only a member of the lead unit QLDT"),
    ],
)
def test_each_refusal_says_why(place: str, move: Move, state: State, needle: str) -> None:
    code, result = run_case(frozenset({Role.STAFF}), place, move, state, False, True, "new")
    assert code in (3, 4) and needle in str(result)


def test_an_auditor_is_told_they_never_act() -> None:
    code, result = run_case(
        frozenset({Role.AUDITOR}), "lead_unit", Move.START, State.ASSIGNED, False, True, "new"
    )
    assert code == 4 and "auditors read and verify, never act" in str(result)
