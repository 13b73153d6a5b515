"""Replaying the audit log: what every task must be, recomputed from its entries alone.

Pure functions, no I/O. `replay` walks the entries in seq order and rebuilds each task
(state, version, lead unit, submitter, number of returns), checking every entry against the
one before it: a move must start from the state the log left the task in, follow the
lifecycle's graph, bump the version by one, be made in a role the rules allow, and respect
four-eyes. `compare` then holds the tasks table against the replay. Together with the hash
chain (`audit verify`), this is how a state without its entry, or an entry without its state
change, is found.

Actions other than the lifecycle moves (amendments, reminders, letters, ...) are followed by
convention: `from_state` (when given) must match, `to_state` (when given) becomes the state,
and `data.version` (when given) must be the next version.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workflow.domain.lifecycle import RULES, Move, State, destination

CREATE = "task.create"
MOVES = frozenset(m.value for m in Move)
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

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COMPARED}


@dataclass(frozen=True, slots=True)
class LogProblem:
    """An entry that does not follow from the entries before it."""

    seq: int
    task: int
    problem: str

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "task": self.task, "problem": self.problem}

    def __str__(self) -> str:
        return f"entry {self.seq} (task {self.task}): {self.problem}"


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


def replay(
    entries: Iterable[Mapping[str, Any]],
) -> tuple[dict[int, ReplayedTask], list[LogProblem], int]:
    """Rebuild every task from the entries (seq order); return tasks, problems, entries used."""
    tasks: dict[int, ReplayedTask] = {}
    problems: list[LogProblem] = []
    used = 0
    for entry in entries:
        task_id = entry.get("task_id")
        if task_id is None:
            continue
        used += 1
        seq, action = int(entry["seq"]), str(entry["action"])
        data = _data(entry)
        task = tasks.get(task_id)

        def problem(text: str, seq: int = seq, task_id: int = task_id) -> None:
            problems.append(LogProblem(seq, task_id, text))

        if action == CREATE:
            if task is not None:
                problem(f"task {task_id} is created again (first by entry {task.created_seq})")
                continue
            to_state = entry.get("to_state") or State.ASSIGNED.value
            if to_state != State.ASSIGNED.value:
                problem(f"task.create puts the task in {to_state}, not assigned")
            lead = data.get("lead_unit")
            tasks[task_id] = ReplayedTask(
                task_id,
                str(to_state),
                1,
                str(lead) if lead is not None else None,
                created_seq=seq,
                last_seq=seq,
            )
            continue
        if task is None:
            problem(f"{action} of task {task_id}, which no earlier entry created")
            continue
        _apply(task, entry, action, data, problem)
        task.last_seq = seq
    return tasks, problems, used


def _apply(
    task: ReplayedTask,
    entry: Mapping[str, Any],
    action: str,
    data: Mapping[str, Any],
    problem: Callable[[str], None],
) -> None:
    from_state, to_state = entry.get("from_state"), entry.get("to_state")
    if from_state is not None and from_state != task.state:
        problem(f"{action} from {from_state}, but the log left the task {task.state}")
    version = data.get("version")
    if version is not None:
        if not isinstance(version, int) or version != task.version + 1:
            problem(f"{action} records version {version}; the next version is {task.version + 1}")
        if isinstance(version, int):
            task.version = version
    elif action in MOVES:
        problem(f"{action} records no version; the next version is {task.version + 1}")
        task.version += 1
    if action in MOVES:
        _check_move(task, entry, Move(action), data, problem)
    if to_state is not None:
        task.state = str(to_state)


def _check_move(
    task: ReplayedTask,
    entry: Mapping[str, Any],
    move: Move,
    data: Mapping[str, Any],
    problem: Callable[[str], None],
) -> None:
    """The lifecycle's rules, as far as the log alone can show them."""
    rule = RULES[move]
    source, to_state = entry.get("from_state"), entry.get("to_state")
    try:
        allowed = destination(move, State(str(source)))
    except ValueError:
        allowed = None
    if allowed is None or allowed.value != to_state:
        problem(f"{move} from {source} to {to_state} is not a move of the lifecycle")
    role, unit, actor = entry.get("role"), entry.get("unit"), entry.get("actor")
    if rule.by_lead_unit:
        if unit != task.lead_unit:
            problem(f"{move} by {actor} of unit {unit}, but the lead unit is {task.lead_unit}")
        if role == "auditor":
            problem(f"{move} by {actor} acting as auditor; auditors never act")
    elif role not in {r.value for r in rule.roles}:
        needs = " or ".join(sorted(r.value for r in rule.roles))
        problem(f"{move} by {actor} acting as {role}; {move} needs the {needs} role")
    if move is Move.VERIFY and actor is not None and actor == task.submitted_by:
        problem(f"verify by {actor}, who submitted it (four-eyes)")
    if move is Move.SUBMIT:
        task.submitted_by = str(actor) if actor is not None else None
    elif move is Move.RETURN:
        task.returned_count += 1
    elif move is Move.REASSIGN:
        if data.get("from_unit") != task.lead_unit:
            problem(f"reassign from {data.get('from_unit')}, but the lead unit is {task.lead_unit}")
        task.lead_unit = data.get("to_unit")
        task.submitted_by = None


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
