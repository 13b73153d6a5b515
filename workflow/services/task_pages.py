"""What the web pages read about tasks, each in one reading transaction: a person's work
("Việc của tôi"), the office's and the leaders' inbox, and a task's page with its history
and the moves the person may make now (`domain.task_moves`, never decided here again).

Reads only: every move goes through `services.tasks.move`, as the API's do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from workflow.context import Context
from workflow.domain.access import Access, Permission
from workflow.domain.filters import AuditFilter
from workflow.domain.lifecycle import RULES, Move, State
from workflow.domain.task_moves import MovesNow, Refusal, moves_now
from workflow.domain.tasks import TaskView
from workflow.errors import NotFound
from workflow.services.tasks import SUBMITTED_ELSEWHERE
from workflow.store.uow import Reader

# The first this many by due date: a unit's list over the years (closed tasks shown only
# when asked for) stays a page; the counts are of every task.
MY_WORK_LIMIT = 500
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
    matching: int = 0  # how many tasks the filters match: more than `rows` past the limit


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
    org, unit = actor.organisation, actor.unit
    with ctx.uow.reading() as r:
        plans, periods = r.tasks.unit_choices(org, unit)
        # A plan or period none of the unit's tasks has is no filter (a link kept from before).
        plan = plan if plan in plans else None
        period = period if period in periods else None
        counts = r.tasks.unit_counts(org, unit, plan, period)
        states = [state] if state else [s for s in State if s is not State.CLOSED]
        shown = r.tasks.unit_tasks(org, unit, plan, period, states, MY_WORK_LIMIT)
        unit_name = r.organisations.unit_names(org).get(unit, unit)
    rows = [Row(t, t.is_overdue(today), moves_of(t, access)) for t in shown]
    every_state = {s: counts.get(s, 0) for s in State}
    matching = sum(n for s, n in every_state.items() if s in states)
    return MyWork(rows, every_state, plans, periods, unit_name, plan, period, state, matching)


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
    found = r.tasks.waiting(access.actor.organisation, state, INBOX_LIMIT)
    notes = r.audit.last_notes([t.id for t in found], Move.SUBMIT.value)
    submitted = state is State.SUBMITTED
    return [
        InboxRow(
            task,
            moves_of(task, access),
            task.submitted_by,
            notes.get(task.id) if submitted else None,
        )
        for task in found
    ]


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
