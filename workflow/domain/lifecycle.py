"""The task lifecycle: states, moves, and who may make each move.

One `transitions` Machine, shared by every task and holding no model: it is the state graph
that the rules query (`get_transitions`), never an object per task. The service decides and
commits; nothing here has side effects, so a refused move leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from transitions import Machine

from workflow.domain.roles import Actor, Role
from workflow.errors import InvalidInput, MoveNotAllowed, PermissionDenied


class State(StrEnum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    CLOSED = "closed"


class Move(StrEnum):
    START = "start"
    SUBMIT = "submit"
    RETURN = "return"
    VERIFY = "verify"
    CLOSE = "close"
    REASSIGN = "reassign"
    WITHDRAW = "withdraw"


@dataclass(frozen=True, slots=True)
class MoveRule:
    sources: tuple[State, ...]
    dest: State
    by_lead_unit: bool  # a member of the task's lead unit (staff, unit head, ...)
    roles: frozenset[Role]  # otherwise: one of these roles
    note: str | None  # what the required note must say, or None when optional


_LEAD_UNIT_ACTING_ROLES = (Role.UNIT_HEAD, Role.STAFF, Role.OFFICE, Role.INSPECTOR, Role.LEADER)

RULES: dict[Move, MoveRule] = {
    Move.START: MoveRule((State.ASSIGNED,), State.IN_PROGRESS, True, frozenset(), None),
    Move.SUBMIT: MoveRule(
        (State.IN_PROGRESS,), State.SUBMITTED, True, frozenset(), "a note saying what was delivered"
    ),
    Move.RETURN: MoveRule(
        (State.SUBMITTED,), State.IN_PROGRESS, False, frozenset({Role.OFFICE}), "a reason"
    ),
    Move.VERIFY: MoveRule(
        (State.SUBMITTED,), State.VERIFIED, False, frozenset({Role.OFFICE}), None
    ),
    Move.CLOSE: MoveRule(
        (State.VERIFIED,), State.CLOSED, False, frozenset({Role.OFFICE, Role.LEADER}), None
    ),
    Move.REASSIGN: MoveRule(
        (State.ASSIGNED, State.IN_PROGRESS),
        State.ASSIGNED,
        False,
        frozenset({Role.OFFICE}),
        "a reason",
    ),
    # A task no longer needed (a unit dropped by an inspection redraw, a row dropped from a
    # plan) is closed with its reason, before any result was submitted; it never counts as
    # completed (it has no completion time).
    Move.WITHDRAW: MoveRule(
        (State.ASSIGNED, State.IN_PROGRESS),
        State.CLOSED,
        False,
        frozenset({Role.OFFICE}),
        "a reason",
    ),
}

MACHINE = Machine(
    model=None,
    states=[s.value for s in State],
    transitions=[
        {"trigger": move.value, "source": [s.value for s in rule.sources], "dest": rule.dest.value}
        for move, rule in RULES.items()
    ],
    initial=State.ASSIGNED.value,
    auto_transitions=False,
)

TERMINAL_STATES = frozenset({State.CLOSED})
OPEN_STATES = frozenset(State) - TERMINAL_STATES


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """What the rules need to know about a task."""

    id: int
    organisation: str
    lead_unit: str
    state: State
    submitted_by: str | None


@dataclass(frozen=True, slots=True)
class MoveRequest:
    move: Move
    note: str | None = None
    to_unit: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    move: Move
    from_state: State
    to_state: State
    role: Role  # the role the actor acted in (recorded in the audit log)
    lead_unit: str  # the lead unit after the move (changes only on reassign)


def allowed_sources(move: Move) -> list[State]:
    return [State(str(t.source)) for t in MACHINE.get_transitions(trigger=move.value)]


# The machine's graph as a table, read once: every move asks where it leads.
_DESTINATIONS = {
    (Move(trigger), State(source)): State(str(transition.dest))
    for trigger, event in MACHINE.events.items()
    for source, found in event.transitions.items()
    for transition in found
}


def destination(move: Move, state: State) -> State | None:
    return _DESTINATIONS.get((move, state))


def available_moves(state: State) -> list[Move]:
    return [Move(t) for t in MACHINE.get_triggers(state.value)]


def _names(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def decide(task: TaskFacts, actor: Actor, request: MoveRequest) -> Decision:
    """Check a move against state, role, four-eyes and required note; return what it does.

    Order of checks: the agency (a person never acts on another agency's task), then the
    state, then the role and four-eyes, then the note. Each refusal says why.
    """
    move = request.move
    rule = RULES[move]
    if actor.organisation != task.organisation:
        raise PermissionDenied(
            f"{actor.id} belongs to {actor.organisation} and cannot act on task {task.id} "
            f"of {task.organisation}"
        )
    dest = destination(move, task.state)
    if dest is None:
        raise MoveNotAllowed(
            f"cannot {move} task {task.id}: it is {task.state}; {move} is allowed only when "
            f"the task is {_names(allowed_sources(move))}"
        )
    role = _acting_role(task, actor, move, rule)
    if move is Move.VERIFY and task.submitted_by == actor.id:
        raise PermissionDenied(
            f"four-eyes rule: {actor.id} submitted task {task.id} and cannot also verify it; "
            "another member of the coordinating office must verify"
        )
    note = (request.note or "").strip()
    if rule.note is not None and not note:
        raise InvalidInput(f"{move} needs --note with {rule.note}")
    lead_unit = task.lead_unit
    if move is Move.REASSIGN:
        target = (request.to_unit or "").strip()
        if not target:
            raise InvalidInput("reassign needs --to UNIT, the new lead unit")
        if target == task.lead_unit:
            raise InvalidInput(f"task {task.id} is already led by {target}; name another unit")
        lead_unit = target
    return Decision(move, task.state, dest, role, lead_unit)


def _acting_role(task: TaskFacts, actor: Actor, move: Move, rule: MoveRule) -> Role:
    if actor.roles == frozenset({Role.AUDITOR}):
        raise PermissionDenied(f"{actor.id} is an auditor: auditors read and verify, never act")
    if rule.by_lead_unit:
        if actor.unit != task.lead_unit:
            raise PermissionDenied(
                f"only a member of the lead unit {task.lead_unit} can {move} task {task.id}; "
                f"{actor.id} belongs to {actor.unit}"
            )
        for role in _LEAD_UNIT_ACTING_ROLES:
            if actor.has(role):
                return role
        raise PermissionDenied(f"{actor.id} holds no role that can act on tasks")
    for role in sorted(rule.roles):
        if actor.has(role):
            return role
    held = ", ".join(sorted(actor.roles)) or "no role"
    raise PermissionDenied(
        f"{move} needs the {_names(sorted(rule.roles))} role; {actor.id} has {held}"
    )
