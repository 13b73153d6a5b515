"""What the web pages read about tasks, each in one reading transaction: a person's work
("Việc của tôi"), the office's and the leaders' inbox, and a task's page with its history
and the moves the person may make now (`domain.task_moves`, never decided here again).

Reads only: every move goes through `services.tasks.move`, as the API's do.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from workflow.context import Context
from workflow.domain.access import Access, Permission
from workflow.domain.filters import AuditFilter, TaskFilter
from workflow.domain.lifecycle import RULES, Move, State
from workflow.domain.task_moves import MovesNow, Refusal, moves_now
from workflow.domain.tasks import TaskView
from workflow.errors import NotFound
from workflow.services.tasks import SUBMITTED_ELSEWHERE
from workflow.store.uow import Reader

INBOX_LIMIT = 200  # the oldest this many of each kind: the office works from the oldest


@dataclass(frozen=True, slots=True)
class Row:
    task: TaskView
    overdue: bool
    moves: MovesNow


@dataclass(frozen=True, slots=True)
class MyWork:
    rows: list[Row]
    counts: dict[State, int]  # per state, over the plan and period chosen (any state)
    plans: list[str]  # what the filters offer: the plans and periods of the unit's tasks
    periods: list[str]
    unit_name: str
    plan: str | None  # the filters applied
    period: str | None
    state: State | None


@dataclass(frozen=True, slots=True)
class InboxRow:
    task: TaskView
    moves: MovesNow
    submitted_by: str | None
    note: str | None  # the submission's note (what was delivered)


@dataclass(frozen=True, slots=True)
class Inbox:
    to_verify: list[InboxRow] | None  # None: this person verifies nothing (not the office)
    to_close: list[InboxRow] | None  # None: this person closes nothing


@dataclass(frozen=True, slots=True)
class TaskPage:
    task: TaskView
    overdue: bool
    moves: MovesNow
    history: list[dict[str, Any]]  # the task's audit entries, oldest first
    units: dict[str, str]  # the organisation's units, code to name
    people: dict[str, str]  # its people, id to name


def moves_of(task: TaskView, access: Access) -> MovesNow:
    """`moves_now`, less a submission another use case must carry (an inspection's record)."""
    found = moves_now(task.facts(), access)
    elsewhere = SUBMITTED_ELSEWHERE.get(task.kind)
    if elsewhere is None or not found.allows(Move.SUBMIT):
        return found
    allowed = tuple(o for o in found.allowed if o.move is not Move.SUBMIT)
    why = Refusal(Move.SUBMIT, None, f"an {task.kind} task is submitted with `{elsewhere}`")
    return MovesNow(allowed, (*found.refused, why))


def my_work(
    ctx: Context,
    access: Access,
    today: dt.date,
    *,
    plan: str | None = None,
    state: State | None = None,
    period: str | None = None,
) -> MyWork:
    """The tasks the person's unit leads, by due date (none last): those still open, or
    those in `state`; each overdue one marked as of `today`."""
    actor = access.actor
    access.require(Permission.TASKS_READ)
    with ctx.uow.reading() as r:
        every = r.tasks.find(TaskFilter(organisation=actor.organisation, unit=actor.unit))
        unit_name = r.organisations.unit_names(actor.organisation).get(actor.unit, actor.unit)
    plans = sorted({t.plan for t in every if t.plan})
    periods = sorted({t.period for t in every if t.period})
    # A plan or period none of the unit's tasks has is no filter (a link kept from before).
    plan = plan if plan in plans else None
    period = period if period in periods else None
    chosen = [
        t
        for t in every
        if (plan is None or t.plan == plan) and (period is None or t.period == period)
    ]
    counts = Counter(t.state for t in chosen)
    shown = [t for t in chosen if (t.state is state if state else t.state is not State.CLOSED)]
    shown.sort(key=lambda t: (t.due_date is None, t.due_date or dt.date.max, t.id))
    rows = [Row(t, t.is_overdue(today), moves_of(t, access)) for t in shown]
    every_state = {s: counts.get(s, 0) for s in State}
    return MyWork(rows, every_state, plans, periods, unit_name, plan, period, state)


def inbox(ctx: Context, access: Access) -> Inbox:
    """Submitted tasks waiting for verification (for whoever the lifecycle lets verify),
    verified ones waiting to be closed (for whoever it lets close): oldest first."""
    access.require(Permission.TASKS_READ)
    actor = access.actor
    verifies = bool(RULES[Move.VERIFY].roles & actor.roles)
    closes = bool(RULES[Move.CLOSE].roles & actor.roles)
    with ctx.uow.reading() as r:
        to_verify = _waiting(r, access, State.SUBMITTED) if verifies else None
        to_close = _waiting(r, access, State.VERIFIED) if closes else None
    return Inbox(to_verify, to_close)


def _waiting(r: Reader, access: Access, state: State) -> list[InboxRow]:
    found = r.tasks.find(TaskFilter(organisation=access.actor.organisation, state=state))
    # Oldest first: a task stays in these states untouched, so its last change is when it
    # arrived there.
    found.sort(key=lambda t: (t.updated_at or dt.datetime.min.replace(tzinfo=dt.UTC), t.id))
    found = found[:INBOX_LIMIT]
    rows = []
    for task in found:
        note = None
        if state is State.SUBMITTED:
            note = _last_note(r, task.id, Move.SUBMIT)
        rows.append(InboxRow(task, moves_of(task, access), task.submitted_by, note))
    return rows


def _last_note(r: Reader, task_id: int, move: Move) -> str | None:
    entries = r.audit.query(AuditFilter(task_id=task_id, action=move.value))
    if not entries:
        return None
    note = (entries[-1].get("data") or {}).get("note")
    return str(note) if note else None


def task_page(ctx: Context, access: Access, task_id: int, today: dt.date) -> TaskPage:
    """The task, if the person may read its organisation (else NotFound, as if it did not
    exist), its history and the moves the person may make now."""
    access.require(Permission.TASKS_READ)
    with ctx.uow.reading() as r:
        task = r.tasks.get(task_id)
        if task is None or not access.can_read(task.organisation):
            raise NotFound(f"task {task_id} does not exist")
        history = r.audit.query(AuditFilter(task_id=task_id))
        units = r.organisations.unit_names(task.organisation)
        people = r.organisations.person_names(task.organisation)
    return TaskPage(task, task.is_overdue(today), moves_of(task, access), history, units, people)


def people_names(ctx: Context, organisation: str) -> dict[str, str]:
    with ctx.uow.reading() as r:
        return r.organisations.person_names(organisation)
