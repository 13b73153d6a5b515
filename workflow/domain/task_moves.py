"""Which moves this person may make on this task now, and why the others are refused:
what a task's page offers (buttons) and explains (a four-eyes refusal in words).

Read off the lifecycle's machine (`lifecycle.EDGES`), never decided again: a move is
offered when the person's credential carries `tasks:move` and every guard of its
transition passes but those that judge what the person will type (a note, a unit), which
the form then asks for. A move the task's state offers but a guard refuses is a
`Refusal`, naming that guard, so that an adapter can say why in its own language.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.domain.access import Access, Permission
from workflow.domain.lifecycle import (
    EDGES,
    Guard,
    Move,
    MoveRequest,
    NewLeadUnit,
    NoteRequired,
    State,
    TaskFacts,
    available_moves,
)
from workflow.errors import PlanflowError


@dataclass(frozen=True, slots=True)
class MoveOption:
    """A move the person may make now, and what its form must ask for."""

    move: Move
    dest: State
    note: str | None  # what the required note must say; None: a note is optional
    needs_unit: bool  # reassign: the new lead unit


@dataclass(frozen=True, slots=True)
class Refusal:
    """A move the task's state offers that this person may not make: the guard that
    refuses it (its class says which rule) and the refusal's words."""

    move: Move
    guard: Guard | None  # None: the credential does not carry tasks:move
    reason: str


@dataclass(frozen=True, slots=True)
class MovesNow:
    allowed: tuple[MoveOption, ...]
    refused: tuple[Refusal, ...]

    def allows(self, move: Move) -> bool:
        return any(option.move is move for option in self.allowed)

    def refusal(self, move: Move) -> Refusal | None:
        return next((r for r in self.refused if r.move is move), None)


def moves_now(task: TaskFacts, access: Access) -> MovesNow:
    """The moves `access`'s person may make on `task` now, in the machine's order, and the
    refusals of the others its state offers."""
    allowed: list[MoveOption] = []
    refused: list[Refusal] = []
    may_move = Permission.TASKS_MOVE in access.permissions
    for move in available_moves(task.state):
        if not may_move:
            refused.append(Refusal(move, None, f"{access.actor.id} may not move tasks"))
            continue
        refusal = refusal_of(task, access, MoveRequest(move))
        if refusal is not None:
            refused.append(refusal)
            continue
        guards = EDGES[(move, task.state)].guards
        note = next((g.what for g in guards if isinstance(g, NoteRequired)), None)
        needs_unit = any(isinstance(g, NewLeadUnit) for g in guards)
        allowed.append(MoveOption(move, EDGES[(move, task.state)].dest, note, needs_unit))
    return MovesNow(tuple(allowed), tuple(refused))


def refusal_of(
    task: TaskFacts, access: Access, request: MoveRequest, *, judge_input: bool = False
) -> Refusal | None:
    """The first guard of the move's transition that refuses this person (with
    `judge_input`, also those that judge the note and the unit typed); None when every
    one passes, or when the task's state offers no such move (that is no person's rule)."""
    edge = EDGES.get((request.move, task.state))
    if edge is None:
        return None
    for guard in edge.guards:
        if guard.needs_input and not judge_input:
            continue
        try:
            guard.check(task, access.actor, request)
        except PlanflowError as exc:
            return Refusal(request.move, guard, str(exc))
    return None
