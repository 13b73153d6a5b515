"""The task lifecycle: states, moves, and who may make each move, declared once.

One `transitions` Machine, shared by every task and holding no model, declares the states,
the moves (its triggers) and each move's conditions (the guards below: same agency, not an
auditor, the lead unit or a role, four-eyes, a required note, a new lead unit). Everything
else is read off it: `decide` (is this move allowed, in which role), `RULES` (the table the
README and replay use), `allowed_moves` (what this person may do now), the Mermaid diagram.
The service decides and commits; nothing here has side effects, so a refused move leaves
nothing behind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from transitions import Machine

from workflow.domain.roles import Actor, Role
from workflow.errors import (
    InvalidInput,
    MoveNotAllowed,
    OtherAgency,
    PermissionDenied,
    PlanflowError,
)


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


# ----------------------------------------------------------------------------- guards


class Guard(ABC):
    """A condition of a transition: `check` passes (returning the role the person acts in,
    when the guard is the one that decides it) or raises the refusal, in words. Called, it
    says only whether the move passes."""

    needs_input = False  # passes or not on what the person types (a note, a unit)

    @abstractmethod
    def check(self, task: TaskFacts, actor: Actor, request: MoveRequest) -> Role | None: ...

    def __call__(self, task: TaskFacts, actor: Actor, request: MoveRequest) -> bool:
        try:
            self.check(task, actor, request)
        except PlanflowError:
            return False
        return True

    def describe(self) -> str:
        return ""


class SameAgency(Guard):
    def check(self, task: TaskFacts, actor: Actor, request: MoveRequest) -> None:
        if actor.organisation != task.organisation:
            raise OtherAgency(
                f"{actor.id} belongs to {actor.organisation} and cannot act on task {task.id} "
                f"of {task.organisation}",
                task.organisation,
            )


class MakesBusinessMoves(Guard):
    """Auditors read and verify the log; administrators manage accounts: neither moves a
    task. (A person holding one of them and another role acts in the other role.)"""

    def check(self, task: TaskFacts, actor: Actor, request: MoveRequest) -> None:
        if actor.makes_no_business_move():
            raise PermissionDenied(actor.refusal())


class LeadUnitMember(Guard):
    """A member of the task's lead unit, acting in the first of these roles they hold."""

    ACTING = (Role.UNIT_HEAD, Role.STAFF, Role.OFFICE, Role.INSPECTOR, Role.LEADER)

    def check(self, task: TaskFacts, actor: Actor, request: MoveRequest) -> Role:
        if actor.unit != task.lead_unit:
            raise PermissionDenied(
                f"only a member of the lead unit {task.lead_unit} can {request.move} task "
                f"{task.id}; {actor.id} belongs to {actor.unit}"
            )
        for role in self.ACTING:
            if role in actor.roles:
                return role
        raise PermissionDenied(f"{actor.id} holds no role that can act on tasks")

    def describe(self) -> str:
        return "lead unit"


class HoldsRole(Guard):
    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def check(self, task: TaskFacts, actor: Actor, request: MoveRequest) -> Role:
        for role in sorted(self.roles):
            if role in actor.roles:
                return role
        held = ", ".join(sorted(actor.roles)) or "no role"
        raise PermissionDenied(
            f"{request.move} needs the {_names(sorted(self.roles))} role; {actor.id} has {held}"
        )

    def describe(self) -> str:
        return " or ".join(sorted(r.value for r in self.roles))


class NotTheSubmitter(Guard):
    """Four-eyes: whoever submitted the result does not approve it."""

    def check(self, task: TaskFacts, actor: Actor, request: MoveRequest) -> None:
        if task.submitted_by == actor.id:
            raise PermissionDenied(
                f"four-eyes rule: {actor.id} submitted task {task.id} and cannot also verify "
                "it; another member of the coordinating office must verify"
            )

    def describe(self) -> str:
        return "not the submitter"


class NoteRequired(Guard):
    needs_input = True

    def __init__(self, what: str) -> None:
        self.what = what

    def check(self, task: TaskFacts, actor: Actor, request: MoveRequest) -> None:
        if not (request.note or "").strip():
            raise InvalidInput(f"{request.move} needs --note with {self.what}")

    def describe(self) -> str:
        return "note"


class NewLeadUnit(Guard):
    """Reassign: the unit that leads the task from now on, another than today's."""

    needs_input = True

    def check(self, task: TaskFacts, actor: Actor, request: MoveRequest) -> None:
        target = (request.to_unit or "").strip()
        if not target:
            raise InvalidInput(f"{request.move} needs --to UNIT, the new lead unit")
        if target == task.lead_unit:
            raise InvalidInput(f"task {task.id} is already led by {target}; name another unit")


# ----------------------------------------------------------------------------- the machine

SAME_AGENCY = SameAgency()
# Every move's first conditions: a person acts only on their own agency's tasks, and never
# as an auditor or administrator alone.
EVERY_MOVE: tuple[Guard, ...] = (SAME_AGENCY, MakesBusinessMoves())
LEAD_UNIT = LeadUnitMember()
OFFICE = HoldsRole(Role.OFFICE)
A_REASON = NoteRequired("a reason")


def _move(move: Move, sources: Sequence[State], dest: State, *guards: Guard) -> dict[str, Any]:
    return {
        "trigger": move.value,
        "source": [s.value for s in sources],
        "dest": dest.value,
        "conditions": [*EVERY_MOVE, *guards],
    }


MACHINE = Machine(
    model=None,
    states=[s.value for s in State],
    transitions=[
        _move(Move.START, [State.ASSIGNED], State.IN_PROGRESS, LEAD_UNIT),
        _move(
            Move.SUBMIT,
            [State.IN_PROGRESS],
            State.SUBMITTED,
            LEAD_UNIT,
            NoteRequired("a note saying what was delivered"),
        ),
        _move(Move.RETURN, [State.SUBMITTED], State.IN_PROGRESS, OFFICE, A_REASON),
        _move(Move.VERIFY, [State.SUBMITTED], State.VERIFIED, OFFICE, NotTheSubmitter()),
        _move(Move.CLOSE, [State.VERIFIED], State.CLOSED, HoldsRole(Role.OFFICE, Role.LEADER)),
        _move(
            Move.REASSIGN,
            [State.ASSIGNED, State.IN_PROGRESS],
            State.ASSIGNED,
            OFFICE,
            A_REASON,
            NewLeadUnit(),
        ),
        # A task no longer needed (a unit dropped by an inspection redraw, a row dropped from
        # a plan) is closed with its reason, before any result was submitted; it never counts
        # as completed (it has no completion time).
        _move(Move.WITHDRAW, [State.ASSIGNED, State.IN_PROGRESS], State.CLOSED, OFFICE, A_REASON),
    ],
    initial=State.ASSIGNED.value,
    auto_transitions=False,
)


@dataclass(frozen=True, slots=True)
class Edge:
    """One transition of the machine: where the move leads from a state, on what guards."""

    dest: State
    guards: tuple[Guard, ...]


def _guard(condition: object) -> Guard:
    assert isinstance(condition, Guard), f"a lifecycle condition is not a Guard: {condition!r}"
    return condition


# The machine's graph, read once: every move asks where it leads and on what conditions.
EDGES: dict[tuple[Move, State], Edge] = {
    (Move(trigger), State(source)): Edge(
        State(str(transition.dest)), tuple(_guard(c.func) for c in transition.conditions)
    )
    for trigger, event in MACHINE.events.items()
    for source, found in event.transitions.items()
    for transition in found
}

TERMINAL_STATES = frozenset(s for s in State if not MACHINE.get_triggers(s.value))
OPEN_STATES = frozenset(State) - TERMINAL_STATES
# Verification is what "done" means (the work accepted; a task's completion time): the
# states before it are the work still to do, and what counts as overdue past a due date.
NOT_DONE = OPEN_STATES - {State.VERIFIED}


@dataclass(frozen=True, slots=True)
class MoveRule:
    """A move as the machine declares it, in a table (the README, the diagram, replay)."""

    sources: tuple[State, ...]
    dest: State
    by_lead_unit: bool  # a member of the task's lead unit (staff, unit head, ...)
    roles: frozenset[Role]  # otherwise: one of these roles
    note: str | None  # what the required note must say, or None when optional
    four_eyes: bool  # never the person who submitted the result


def _rule(move: Move) -> MoveRule:
    edges = [(state, edge) for (m, state), edge in EDGES.items() if m is move]
    guards = edges[0][1].guards
    return MoveRule(
        sources=tuple(state for state, _ in edges),
        dest=edges[0][1].dest,
        by_lead_unit=any(isinstance(g, LeadUnitMember) for g in guards),
        roles=frozenset(r for g in guards if isinstance(g, HoldsRole) for r in g.roles),
        note=next((g.what for g in guards if isinstance(g, NoteRequired)), None),
        four_eyes=any(isinstance(g, NotTheSubmitter) for g in guards),
    )


RULES: dict[Move, MoveRule] = {move: _rule(move) for move in Move}


@dataclass(frozen=True, slots=True)
class Decision:
    move: Move
    from_state: State
    to_state: State
    role: Role  # the role the actor acted in (recorded in the audit log)
    lead_unit: str  # the lead unit after the move (changes only on reassign)


def allowed_sources(move: Move) -> list[State]:
    return list(RULES[move].sources)


def destination(move: Move, state: State) -> State | None:
    edge = EDGES.get((move, state))
    return edge.dest if edge is not None else None


def available_moves(state: State) -> list[Move]:
    return [Move(t) for t in MACHINE.get_triggers(state.value)]


def allowed_moves(task: TaskFacts, actor: Actor) -> list[Move]:
    """The moves this person may make on this task now, in the machine's order: every
    guard passes but those that judge what the person types (a note, a unit)."""
    out = []
    for move in available_moves(task.state):
        request = MoveRequest(move)
        guards = EDGES[(move, task.state)].guards
        if all(g.needs_input or g(task, actor, request) for g in guards):
            out.append(move)
    return out


def _names(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def decide(task: TaskFacts, actor: Actor, request: MoveRequest) -> Decision:
    """Check a move against the machine's guards; return what it does.

    The agency first (a person of another agency learns nothing of the task, not even its
    state), then the state, then the transition's guards in their declared order (role,
    four-eyes, note, unit). Each refusal says why.
    """
    move = request.move
    SAME_AGENCY.check(task, actor, request)
    edge = EDGES.get((move, task.state))
    if edge is None:
        raise MoveNotAllowed(
            f"cannot {move} task {task.id}: it is {task.state}; {move} is allowed only when "
            f"the task is {_names(allowed_sources(move))}"
        )
    role: Role | None = None
    lead_unit = task.lead_unit
    for guard in edge.guards:
        decided = guard.check(task, actor, request)
        if decided is not None:
            role = decided
        if isinstance(guard, NewLeadUnit):
            lead_unit = (request.to_unit or "").strip()
    assert role is not None, f"{move} declares no guard that decides the acting role"
    return Decision(move, task.state, edge.dest, role, lead_unit)
