"""Replaying the audit log: what every task, dossier, role grant, document, draw and
definition must be, recomputed from the entries alone.

Pure functions, no I/O. `replay` decodes each entry into its typed event
(`workflow.domain.events`) and dispatches on the type (`HANDLERS`): creations make a task,
the lifecycle's moves are checked against the machine's rules (from the state the log left
the task in, along the lifecycle's graph, the version bumped by one, in a role the move
allows, four-eyes), the other events on a task follow it (`from_state`, when given, must
match; `to_state`, when given, becomes the state; `data.version`, when given, must be the
next one) and set what they record (a plan's amendment, an apology letter's new due date, a
dossier's delay or escalation), and events about no task leave the tasks alone. Every entry's
actor is held against who existed and held which role then (`workflow.domain.roster`). An
entry whose action no event type knows is a problem, never skipped. `check` then holds the
stored rows (plain mappings, in the log's own text forms) against the replay, column by
column (`workflow.domain.replay_compare`; what is rebuilt: `workflow.domain.replay_model`).
Together with the hash chain (`audit verify`), this is how a state without its entry, or an
entry without its state change, is found.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workflow.domain import events as ev
from workflow.domain.lifecycle import RULES, Move, State, destination
from workflow.domain.replay_compare import (
    compare,
    compare_documents,
    compare_dossiers,
    compare_roles,
)
from workflow.domain.replay_model import (
    COMPARED,
    CREATE,
    DOCUMENT_TABLES,
    DOSSIER_COMPARED,
    LogProblem,
    Mismatch,
    Replayed,
    ReplayedDossier,
    ReplayedTask,
    ReplayReport,
    utc_text,
)

__all__ = [  # what callers and tests use, wherever it lives
    "COMPARED",
    "CREATE",
    "DOCUMENT_TABLES",
    "DOSSIER_COMPARED",
    "HANDLERS",
    "LogProblem",
    "Mismatch",
    "ReplayReport",
    "Replayed",
    "ReplayedDossier",
    "ReplayedTask",
    "Stored",
    "check",
    "compare",
    "compare_documents",
    "compare_dossiers",
    "compare_roles",
    "replay",
]


def _data(entry: Mapping[str, Any]) -> dict[str, Any]:
    raw = entry.get("data")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


Problem = Callable[[str], None]
Handler = Callable[[Replayed, ev.Event, int, Problem], None]


def replay(entries: Iterable[Mapping[str, Any]]) -> Replayed:
    """Rebuild every task, dossier and role grant from the entries (seq order)."""
    out = Replayed()
    tasks, problems = out.tasks, out.problems
    for entry in entries:
        seq, task_id = int(entry["seq"]), entry.get("task_id")

        def problem(text: str, seq: int = seq, task_id: int | None = task_id) -> None:
            problems.append(LogProblem(seq, task_id, text))

        try:
            event = ev.decode(entry, _data(entry))
        except ev.UnknownAction:
            problem(f"action {entry.get('action')!r} is not an event this planflow knows")
            continue
        who = out.roster.problem(entry)  # as the grants before this entry stand
        if who is not None:
            problem(who)
        if event.task_id is None:
            HANDLERS[type(event)](out, event, seq, problem)
            continue
        out.used += 1
        at = str(entry.get("at") or "")
        before = tasks.get(event.task_id)
        if before is not None and at < before.last_at:
            # Each move starts from what the one before it left: it cannot come earlier.
            problem(
                f"{event.action} is dated {at}, before entry {before.last_seq} that it follows "
                f"on task {event.task_id} ({before.last_at})"
            )
        HANDLERS[type(event)](out, event, seq, problem)
        task = tasks.get(event.task_id)
        if task is not None:
            task.last_at = max(task.last_at, at)
    return out


def _created(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    assert isinstance(event, ev.TaskCreated) and event.task_id is not None
    task = out.tasks.get(event.task_id)
    if task is not None:
        problem(f"task {event.task_id} is created again (first by entry {task.created_seq})")
        return
    to_state = event.to_state or State.ASSIGNED.value
    if to_state != State.ASSIGNED.value:
        problem(f"task.create puts the task in {to_state}, not assigned")
    lead = event.lead_unit
    task = ReplayedTask(
        event.task_id,
        str(to_state),
        1,
        str(lead) if lead is not None else None,
        period=str(event.period or ""),
        due_date=event.due_date,
        parent_task=event.parent_task,
        code=event.code,
        organisation=event.organisation,
        plan_id=event.plan_id,
        kind=event.kind,
        title=event.title,
        category=event.category,
        created_seq=seq,
        last_seq=seq,
    )
    if event.cooperating_units is None or event.kind is None:
        # Written before issue 15 (a new entry always records both): what it lacks is not
        # covered, rather than a false mismatch.
        why = f"its {CREATE} entry {seq} predates recording it (issue 15)"
        for name in ("cooperating_units", "kind", "title", "category"):
            task.uncovered[name] = why
    if event.cooperating_units is not None:
        task.cooperating_units = [str(u) for u in event.cooperating_units]
    out.tasks[event.task_id] = task


def _existing(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> ReplayedTask | None:
    assert event.task_id is not None
    task = out.tasks.get(event.task_id)
    if task is None:
        problem(f"{event.action} of task {event.task_id}, which no earlier entry created")
        return None
    task.last_seq = seq
    return task


def _followed(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> ReplayedTask | None:
    """An event on a task that is not a move: it follows the task's state and version."""
    task = _existing(out, event, seq, problem)
    if task is None:
        return None
    _check_from(task, event, problem)
    version = getattr(event, "version", None)
    if version is not None:
        _check_version(task, event, version, problem)
    if event.to_state is not None:
        task.state = str(event.to_state)
    return task


def _amended(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    """A plan's new version: the task's fields it changed, each [before, after]."""
    assert isinstance(event, ev.TaskAmended)
    task = _followed(out, event, seq, problem)
    if task is None:
        return
    changes = event.changes if isinstance(event.changes, dict) else {}
    if "due_date" in changes:
        task.due_date = changes["due_date"][1]
    if "cooperating_units" in changes:
        task.cooperating_units = list(changes["cooperating_units"][1])
        task.uncovered.pop("cooperating_units", None)
    for name in ("title", "category"):
        if name in changes:
            setattr(task, name, changes[name][1])
            task.uncovered.pop(name, None)


def _dossier(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> ReplayedDossier | None:
    assert event.task_id is not None
    dossier = out.dossiers.get(event.task_id)
    if dossier is None:
        problem(f"{event.action} of dossier {event.task_id}, which no earlier entry received")
        return None
    dossier.last_seq = seq
    return dossier


def _received(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    assert isinstance(event, ev.DossierReceived) and event.task_id is not None
    _followed(out, event, seq, problem)
    if event.task_id in out.dossiers:
        problem(f"dossier {event.task_id} is received again")
        return
    out.dossiers[event.task_id] = ReplayedDossier(
        event.task_id,
        str(event.code),
        event.procedure,
        event.applicant,
        utc_text(event.received_at),
        event.due,
        event.due,
        last_seq=seq,
    )


def _delayed(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    assert isinstance(event, ev.DossierDelayDeclared)
    _followed(out, event, seq, problem)
    dossier = _dossier(out, event, seq, problem)
    if dossier is not None:
        dossier.delay_reason, dossier.delay_days = event.reason, event.days


def _apologised(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    """An apology letter re-sets the dossier's due date, and its task's."""
    assert isinstance(event, ev.ApologyIssued)
    task = _followed(out, event, seq, problem)
    if task is not None:
        task.due_date = event.new_due
    dossier = _dossier(out, event, seq, problem)
    if dossier is not None:
        dossier.current_due, dossier.extension_count = event.new_due, event.extension
    # The letter's number is in its text, which its hash covers.
    out.document(
        "notices",
        f"apology:{event.task_id}:{event.missed_due}",
        seq,
        kind="apology",
        task_id=event.task_id,
        due_date=event.missed_due,
        new_due=event.new_due,
        content_hash=event.letter_sha256,
    )


def _escalated(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    assert isinstance(event, ev.DossierEscalated)
    _followed(out, event, seq, problem)
    dossier = _dossier(out, event, seq, problem)
    if dossier is not None:
        dossier.escalated = True
    due = event.missed_extended_due
    out.document(
        "notices",
        f"escalation:{event.task_id}:{due}",
        seq,
        kind="escalation",
        task_id=event.task_id,
        due_date=due,
        new_due=None,
        content_hash=None,
    )


def _reminded(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    assert isinstance(event, ev.TaskReminded)
    _followed(out, event, seq, problem)
    out.document(
        "notices",
        f"reminder:{event.task_id}:{event.due}",
        seq,
        kind="reminder",
        task_id=event.task_id,
        due_date=event.due,
        new_due=None,
        content_hash=None,
    )


def _concluded(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    """A conclusion notice (its number is in its text, which the hash covers)."""
    assert isinstance(event, ev.InspectionConcluded)
    _followed(out, event, seq, problem)
    out.document(
        "notices",
        str(event.notice),
        seq,
        kind="conclusion",
        task_id=event.task_id,
        content_hash=event.docx_hash,
    )


def _drawn(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    """A draw: what it drew, and the draw it superseded."""
    assert isinstance(event, ev.InspectionDrawn)
    record = event.record if isinstance(event.record, dict) else {}
    out.document(
        "inspections",
        str(event.inspection),
        seq,
        period=record.get("period"),
        revision=event.revision,
        ratio=str(record.get("ratio")),
        seed=record.get("seed"),
        algorithm=record.get("algorithm"),
        selected=record.get("selected"),
        record_hash=event.record_hash,
        superseded_by=None,
        # unit -> its inspection task (`inspection_targets`): whom the inspectors visit
        targets=dict(event.tasks) if isinstance(event.tasks, dict) else event.tasks,
    )
    if event.supersedes is not None:
        out.document("inspections", str(event.supersedes), seq, superseded_by=event.inspection)


def _snapshotted(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    assert isinstance(event, ev.ReportSnapshotted)
    out.document(
        "report_snapshots",
        str(event.snapshot),
        seq,
        period=event.period,
        revision=event.revision,
        previous_id=event.previous,
        generated_by=event.requested_by,
        content_hash=event.hash,
        content=event.hash,  # the stored content must hash to it
    )


def _moved(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    """A move of the lifecycle, as far as the log alone can show its rules."""
    assert isinstance(event, ev.TaskMoved)
    task = _existing(out, event, seq, problem)
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
        if event.record_hash is not None:  # an inspection record, submitted with the move
            out.document(
                "inspection_records",
                f"{task.id}/{event.record_revision}",
                seq,
                record=event.record,
                record_hash=event.record_hash,
                submitted_by=actor,
            )
    elif move is Move.RETURN:
        task.returned_count += 1
    elif move is Move.VERIFY:
        task.completed_at = utc_text(event.completed_at)
        if event.completed_at is None:
            task.uncovered["completed_at"] = f"its verify entry {seq} predates recording it"
        else:
            task.uncovered.pop("completed_at", None)
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


def _organisation_loaded(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    assert isinstance(event, ev.OrganisationLoaded)
    out.document("organisations", str(event.organisation), seq, content_hash=event.content_hash)


def _procedures_loaded(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    """Procedures added or changed; an entry from before issue 15 names them only, and the
    values it does not record are not compared."""
    assert isinstance(event, ev.ProceduresLoaded)
    values = event.procedures if isinstance(event.procedures, dict) else {}
    for code in event.changed or []:
        out.document("procedures", f"{event.organisation}/{code}", seq, **values.get(code, {}))


def _rules_loaded(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    """A rule set (what letters' dates are computed by): its definition must hash to the
    entry's hash."""
    assert isinstance(event, ev.RulesLoaded)
    out.document(
        "rule_sets",
        str(event.rules),
        seq,
        effective_from=event.effective_from,
        content_hash=event.spec_sha256,
        definition=event.spec_sha256,
    )


def _plan_loaded(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    """A plan's version: its stored spec must hash to the entry's hash."""
    assert isinstance(event, ev.PlanLoaded)
    out.document(
        "plan_versions",
        f"{event.plan_id}@v{event.version}",
        seq,
        content_hash=event.spec_sha256,
        definition=event.spec_sha256,
    )


def _role_changed(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    assert isinstance(event, ev.RoleChanged)
    out.roster.grant(event, seq)


def _about_no_task(out: Replayed, event: ev.Event, seq: int, problem: Problem) -> None:
    """Loading definitions, draws, report snapshots, accounts: nothing of a task to follow."""


HANDLERS: dict[type[ev.Event], Handler] = {
    ev.TaskCreated: _created,
    ev.TaskMoved: _moved,
    ev.TaskAmended: _amended,
    ev.TaskReminded: _reminded,
    ev.DossierReceived: _received,
    ev.DossierDelayDeclared: _delayed,
    ev.ApologyIssued: _apologised,
    ev.DossierEscalated: _escalated,
    ev.InspectionConcluded: _concluded,
    ev.OrganisationLoaded: _organisation_loaded,
    ev.ProceduresLoaded: _procedures_loaded,
    ev.RulesLoaded: _rules_loaded,
    ev.PlanLoaded: _plan_loaded,
    ev.InspectionDrawn: _drawn,
    ev.ReportSnapshotted: _snapshotted,
    ev.DatabaseInitialised: _about_no_task,
    ev.RoleChanged: _role_changed,
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


@dataclass(frozen=True, slots=True)
class Stored:
    """The rows replay holds against the log, as plain mappings in the log's text forms."""

    tasks: Iterable[Mapping[str, Any]]
    dossiers: Iterable[Mapping[str, Any]] = ()
    roles: Mapping[str, Iterable[str]] | None = None  # None: not compared
    # table -> row key -> columns (see `compare_documents`); None: not compared
    documents: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None


def check(
    entries: Iterable[Mapping[str, Any]], stored: Stored | Iterable[Mapping[str, Any]]
) -> ReplayReport:
    """Replay the log and hold the stored rows (`Stored`, or the tasks alone) against it."""
    if not isinstance(stored, Stored):
        stored = Stored(stored)
    out = replay(entries)
    mismatches, checked = compare(out.tasks, stored.tasks)
    dossier_mismatches, dossiers = compare_dossiers(out.dossiers, stored.dossiers)
    mismatches += dossier_mismatches
    counts = {"tasks": checked, "dossiers": dossiers}
    if stored.roles is not None:
        role_mismatches, counts["person_roles"] = compare_roles(out.roster, stored.roles)
        mismatches += role_mismatches
    if stored.documents is not None:
        document_mismatches, document_counts = compare_documents(out.documents, stored.documents)
        mismatches += document_mismatches
        counts |= document_counts
    not_covered = [
        f"task {task.id}: {name} not covered: {why}"
        for task in sorted(out.tasks.values(), key=lambda t: t.id)
        for name, why in task.uncovered.items()
    ]
    return ReplayReport(checked, out.used, mismatches, out.problems, counts, not_covered)
