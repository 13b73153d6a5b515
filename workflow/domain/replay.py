"""Replaying the audit log: what every task must be, recomputed from its entries alone.

Pure functions, no I/O. `replay` decodes each entry into its typed event
(`workflow.domain.events`) and dispatches on the type (`HANDLERS`): creations make a task,
the lifecycle's moves are checked against the machine's rules (from the state the log left
the task in, along the lifecycle's graph, the version bumped by one, in a role the move
allows, four-eyes), the other events on a task follow it (`from_state`, when given, must
match; `to_state`, when given, becomes the state; `data.version`, when given, must be the
next one), and events about no task leave the tasks alone. An entry whose action no event
type knows is a problem, never skipped. `compare` then holds the tasks table against the
replay. Together with the hash chain (`audit verify`), this is how a state without its entry,
or an entry without its state change, is found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflow.domain import events as ev
from workflow.domain.lifecycle import RULES, Move, State, destination

CREATE = ev.TaskCreated.ACTION
COMPARED = ("state", "version", "lead_unit", "submitted_by", "returned_count")


@dataclass(slots=True)
class ReplayedTask:
    """A task as its audit entries say it is."""

    id: int
    state: str
    version: int
    lead_unit: str | None
    submitted_by: str | None = None
    returned_count: int = 0
    created_seq: int | None = None
    last_seq: int = 0
    last_at: str = ""  # when its last entry was made (stored text: sorts as instants do)

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COMPARED}


@dataclass(frozen=True, slots=True)
class LogProblem:
    """An entry that does not follow from the entries before it."""

    seq: int
    task: int | None  # None: an entry about no task
    problem: str

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "task": self.task, "problem": self.problem}

    def __str__(self) -> str:
        about = f" (task {self.task})" if self.task is not None else ""
        return f"entry {self.seq}{about}: {self.problem}"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A task whose stored row differs from the replay of the log."""

    task: int
    fields: tuple[str, ...]
    stored: dict[str, Any] | None  # None: no such row in the tasks table
    replayed: dict[str, Any] | None  # None: the log never created this task
    problem: str
    last_seq: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "fields": list(self.fields),
            "stored": self.stored,
            "replayed": self.replayed,
            "last_seq": self.last_seq,
            "problem": self.problem,
        }

    def __str__(self) -> str:
        return self.problem


@dataclass(frozen=True, slots=True)
class ReplayReport:
    tasks_checked: int
    entries_replayed: int
    mismatches: list[Mismatch] = field(default_factory=list)
    log_problems: list[LogProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.log_problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tasks_checked": self.tasks_checked,
            "entries_replayed": self.entries_replayed,
            "mismatches": [m.as_json() for m in self.mismatches],
            "log_problems": [p.as_json() for p in self.log_problems],
        }


def _data(entry: Mapping[str, Any]) -> dict[str, Any]:
    raw = entry.get("data")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


Problem = Callable[[str], None]
Handler = Callable[[dict[int, "ReplayedTask"], ev.Event, int, Problem], None]


def replay(
    entries: Iterable[Mapping[str, Any]],
) -> tuple[dict[int, ReplayedTask], list[LogProblem], int]:
    """Rebuild every task from the entries (seq order); return tasks, problems, and how many
    entries were about a task."""
    tasks: dict[int, ReplayedTask] = {}
    problems: list[LogProblem] = []
    used = 0
    for entry in entries:
        seq, task_id = int(entry["seq"]), entry.get("task_id")

        def problem(text: str, seq: int = seq, task_id: int | None = task_id) -> None:
            problems.append(LogProblem(seq, task_id, text))

        try:
            event = ev.decode(entry, _data(entry))
        except ev.UnknownAction:
            problem(f"action {entry.get('action')!r} is not an event this planflow knows")
            continue
        if event.task_id is None:
            continue
        used += 1
        at = str(entry.get("at") or "")
        before = tasks.get(event.task_id)
        if before is not None and at < before.last_at:
            # Each move starts from what the one before it left: it cannot come earlier.
            problem(
                f"{event.action} is dated {at}, before entry {before.last_seq} that it follows "
                f"on task {event.task_id} ({before.last_at})"
            )
        HANDLERS[type(event)](tasks, event, seq, problem)
        task = tasks.get(event.task_id)
        if task is not None:
            task.last_at = max(task.last_at, at)
    return tasks, problems, used


def _created(tasks: dict[int, ReplayedTask], event: ev.Event, seq: int, problem: Problem) -> None:
    assert isinstance(event, ev.TaskCreated) and event.task_id is not None
    task = tasks.get(event.task_id)
    if task is not None:
        problem(f"task {event.task_id} is created again (first by entry {task.created_seq})")
        return
    to_state = event.to_state or State.ASSIGNED.value
    if to_state != State.ASSIGNED.value:
        problem(f"task.create puts the task in {to_state}, not assigned")
    lead = event.lead_unit
    tasks[event.task_id] = ReplayedTask(
        event.task_id,
        str(to_state),
        1,
        str(lead) if lead is not None else None,
        created_seq=seq,
        last_seq=seq,
    )


def _existing(
    tasks: dict[int, ReplayedTask], event: ev.Event, seq: int, problem: Problem
) -> ReplayedTask | None:
    assert event.task_id is not None
    task = tasks.get(event.task_id)
    if task is None:
        problem(f"{event.action} of task {event.task_id}, which no earlier entry created")
        return None
    task.last_seq = seq
    return task


def _followed(tasks: dict[int, ReplayedTask], event: ev.Event, seq: int, problem: Problem) -> None:
    """An event on a task that is not a move: it follows the task's state and version."""
    task = _existing(tasks, event, seq, problem)
    if task is None:
        return
    _check_from(task, event, problem)
    version = getattr(event, "version", None)
    if version is not None:
        _check_version(task, event, version, problem)
    if event.to_state is not None:
        task.state = str(event.to_state)


def _moved(tasks: dict[int, ReplayedTask], event: ev.Event, seq: int, problem: Problem) -> None:
    """A move of the lifecycle, as far as the log alone can show its rules."""
    assert isinstance(event, ev.TaskMoved)
    task = _existing(tasks, event, seq, problem)
    if task is None:
        return
    _check_from(task, event, problem)
    move = event.move
    if event.version is None:
        problem(f"{move} records no version; the next version is {task.version + 1}")
        task.version += 1
    else:
        _check_version(task, event, event.version, problem)
    rule = RULES[move]
    source, to_state = event.from_state, event.to_state
    try:
        allowed = destination(move, State(str(source)))
    except ValueError:
        allowed = None
    if allowed is None or allowed.value != to_state:
        problem(f"{move} from {source} to {to_state} is not a move of the lifecycle")
    role, unit, actor = event.role, event.unit, event.actor
    if rule.by_lead_unit:
        if unit != task.lead_unit:
            problem(f"{move} by {actor} of unit {unit}, but the lead unit is {task.lead_unit}")
        if role == "auditor":
            problem(f"{move} by {actor} acting as auditor; auditors never act")
    elif role not in {r.value for r in rule.roles}:
        needs = " or ".join(sorted(r.value for r in rule.roles))
        problem(f"{move} by {actor} acting as {role}; {move} needs the {needs} role")
    if rule.four_eyes and actor is not None and actor == task.submitted_by:
        problem(f"{move} by {actor}, who submitted it (four-eyes)")
    if move is Move.SUBMIT:
        task.submitted_by = str(actor) if actor is not None else None
    elif move is Move.RETURN:
        task.returned_count += 1
    elif move is Move.REASSIGN:
        if event.from_unit != task.lead_unit:
            problem(f"reassign from {event.from_unit}, but the lead unit is {task.lead_unit}")
        task.lead_unit = event.to_unit
        task.submitted_by = None
    if to_state is not None:
        task.state = str(to_state)


def _check_from(task: ReplayedTask, event: ev.Event, problem: Problem) -> None:
    if event.from_state is not None and event.from_state != task.state:
        problem(f"{event.action} from {event.from_state}, but the log left the task {task.state}")


def _check_version(task: ReplayedTask, event: ev.Event, version: Any, problem: Problem) -> None:
    if not isinstance(version, int) or version != task.version + 1:
        problem(f"{event.action} records version {version}; the next version is {task.version + 1}")
    if isinstance(version, int):
        task.version = version


def _about_no_task(
    tasks: dict[int, ReplayedTask], event: ev.Event, seq: int, problem: Problem
) -> None:
    """Loading definitions, draws, report snapshots, accounts and roles: nothing of a task
    to follow."""


HANDLERS: dict[type[ev.Event], Handler] = {
    ev.TaskCreated: _created,
    ev.TaskMoved: _moved,
    ev.TaskAmended: _followed,
    ev.TaskReminded: _followed,
    ev.DossierReceived: _followed,
    ev.DossierDelayDeclared: _followed,
    ev.ApologyIssued: _followed,
    ev.DossierEscalated: _followed,
    ev.InspectionConcluded: _followed,
    ev.OrganisationLoaded: _about_no_task,
    ev.ProceduresLoaded: _about_no_task,
    ev.RulesLoaded: _about_no_task,
    ev.PlanLoaded: _about_no_task,
    ev.InspectionDrawn: _about_no_task,
    ev.ReportSnapshotted: _about_no_task,
    ev.DatabaseInitialised: _about_no_task,
    ev.RoleChanged: _about_no_task,
    ev.AccountInvited: _about_no_task,
    ev.AccountActivated: _about_no_task,
    ev.PasswordChanged: _about_no_task,
    ev.AccountDisabled: _about_no_task,
    ev.AccountEnabled: _about_no_task,
    ev.SessionsRevoked: _about_no_task,
    ev.SecondFactorEnabled: _about_no_task,
    ev.AccountLocked: _about_no_task,
    ev.SignedIn: _about_no_task,
    ev.SignedOut: _about_no_task,
    ev.TokenCreated: _about_no_task,
    ev.TokenRevoked: _about_no_task,
}


def _describe(values: Mapping[str, Any], fields: Iterable[str]) -> str:
    return ", ".join(f"{name} {values[name]}" for name in fields)


def compare(
    replayed: Mapping[int, ReplayedTask], stored: Iterable[Mapping[str, Any]]
) -> tuple[list[Mismatch], int]:
    """Every task whose row differs from the replay; returns mismatches and tasks checked."""
    mismatches: list[Mismatch] = []
    seen: set[int] = set()
    for row in stored:
        task_id = int(row["id"])
        seen.add(task_id)
        values = {name: row[name] for name in COMPARED}
        task = replayed.get(task_id)
        if task is None:
            mismatches.append(
                Mismatch(
                    task_id,
                    COMPARED,
                    values,
                    None,
                    f"task {task_id} ({values['state']}, version {values['version']}) has no "
                    f"{CREATE} entry in the audit log",
                )
            )
            continue
        expected = task.as_json()
        differ = tuple(name for name in COMPARED if values[name] != expected[name])
        if differ:
            mismatches.append(
                Mismatch(
                    task_id,
                    differ,
                    {name: values[name] for name in differ},
                    {name: expected[name] for name in differ},
                    f"task {task_id}: stored {_describe(values, differ)}; the audit log replays "
                    f"to {_describe(expected, differ)} (its last entry is {task.last_seq})",
                    task.last_seq,
                )
            )
    for task_id in sorted(set(replayed) - seen):
        task = replayed[task_id]
        mismatches.append(
            Mismatch(
                task_id,
                COMPARED,
                None,
                task.as_json(),
                f"task {task_id} is in the audit log (last entry {task.last_seq}, "
                f"{task.state}) but not in the tasks table",
                task.last_seq,
            )
        )
    mismatches.sort(key=lambda m: m.task)
    return mismatches, len(seen | set(replayed))


def check(
    entries: Iterable[Mapping[str, Any]], stored: Iterable[Mapping[str, Any]]
) -> ReplayReport:
    """Replay the log and hold the stored tasks against it."""
    replayed, problems, used = replay(entries)
    mismatches, checked = compare(replayed, stored)
    return ReplayReport(checked, used, mismatches, problems)
