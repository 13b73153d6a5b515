"""The end-to-end demonstration: load the definitions, simulate a quarter of work, verify.

Everything goes through the services, as a real office would use them: people start,
submit, get returned, resubmit; the office verifies (never its own submissions); leadership
closes. A seeded random draw makes every run the same.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.checks import validate
from workflow.definitions.models import OrganisationSpec, PersonSpec
from workflow.domain.lifecycle import Move, State
from workflow.domain.roles import Role
from workflow.domain.tasks import TaskView
from workflow.errors import InvalidInput, PlanflowError
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import plans as plan_service
from workflow.services import tasks as task_service
from workflow.store import schema
from workflow.store.repo import TaskFilter

QUARTER_START = dt.datetime(2024, 4, 1, 8, 0, tzinfo=LOCAL_TZ)
QUARTER_DAYS = 91

NOTES = [
    "Đã ban hành văn bản triển khai và báo cáo kết quả",
    "Đã cập nhật số liệu trên Cổng thông tin điện tử",
    "Đã tổ chức hội nghị đối thoại với doanh nghiệp",
    "Báo cáo kết quả thực hiện kèm phụ lục số liệu",
]
RETURN_REASONS = [
    "Thiếu số liệu minh chứng, đề nghị bổ sung",
    "Báo cáo chưa đúng mẫu quy định, đề nghị hoàn thiện",
]


@dataclass
class DemoSummary:
    database: str
    moves: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    plans: int = 0
    tasks: int = 0
    audit_entries: int = 0
    anchor: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "plans": self.plans,
            "tasks": self.tasks,
            "moves": dict(self.moves),
            "refused": dict(self.refused),
            "tasks_by_state": dict(self.states),
            "audit_entries": self.audit_entries,
            "audit_anchor": self.anchor,
        }


class _Cast:
    """Who plays which part in one organisation."""

    def __init__(self, org: OrganisationSpec) -> None:
        self.by_unit: dict[str, list[PersonSpec]] = {}
        for person in org.people:
            if set(person.roles) & {Role.STAFF, Role.UNIT_HEAD}:
                self.by_unit.setdefault(person.unit, []).append(person)
        self.office = [p for p in org.people if Role.OFFICE in p.roles]
        self.leaders = [p for p in org.people if Role.LEADER in p.roles]

    def member(self, unit: str, rng: random.Random) -> str | None:
        people = self.by_unit.get(unit)
        return rng.choice(people).id if people else None

    def officer(self, rng: random.Random, not_: str | None = None) -> str:
        return rng.choice([p.id for p in self.office if p.id != not_]).strip()

    def closer(self, rng: random.Random) -> str:
        return rng.choice([p.id for p in self.leaders] or [p.id for p in self.office])


def run_demo(ctx: Context, definitions: Path, seed: int = 2024) -> DemoSummary:
    clock = ctx.clock
    if not isinstance(clock, FixedClock):
        raise InvalidInput("the demo runs on a simulated clock")
    schema.upgrade(ctx.engine)
    found, problems = validate([definitions])
    if problems:
        raise InvalidInput(f"{problems[0]} ({len(problems)} problem(s) in {definitions})")
    plan_service.load(ctx, found)
    casts = {code: _Cast(spec) for code, (spec, _) in found.organisations.items()}
    summary = DemoSummary(database=ctx.engine.url.render_as_string(hide_password=True))
    rng = random.Random(seed)
    open_tasks = [
        t for t in task_service.list_tasks(ctx, TaskFilter()) if t.state is not State.CLOSED
    ]
    rng.shuffle(open_tasks)
    worked = open_tasks[: max(1, len(open_tasks) * 2 // 3)]
    step = dt.timedelta(days=QUARTER_DAYS) / (len(worked) * 2 + 1)
    for task in worked:
        clock.advance(step)
        _work_on(ctx, task, casts[task.organisation], rng, summary)
    # A four-eyes attempt the engine must refuse: the submitter tries to verify.
    for task in task_service.list_tasks(ctx, TaskFilter(state=State.SUBMITTED)):
        if task.submitted_by and any(
            p.id == task.submitted_by for p in casts[task.organisation].office
        ):
            _try(ctx, task, Move.VERIFY, task.submitted_by, summary)
            break
    final = task_service.list_tasks(ctx, TaskFilter())
    summary.tasks = len(final)
    summary.states = Counter(str(t.state) for t in final)
    summary.plans = len(plan_service.list_plans(ctx))
    verification = audit_service.verify(ctx)
    if not verification.ok:
        raise PlanflowError(f"audit verification failed after the demo: {verification.problem}")
    summary.audit_entries = verification.checked
    summary.anchor = f"{verification.head_seq}:{verification.head_hash}"
    return summary


def _try(
    ctx: Context,
    task: TaskView,
    move: Move,
    who: str | None,
    summary: DemoSummary,
    note: str | None = None,
    to_unit: str | None = None,
) -> TaskView | None:
    if who is None:
        return None
    try:
        done = task_service.move(ctx, task.id, move, who, note=note, to_unit=to_unit)
    except PlanflowError as exc:
        summary.refused[f"{move.value} (exit {exc.exit_code})"] += 1
        ctx.log.info("demo.refused", task=task.id, move=move.value, actor=who, reason=str(exc))
        return None
    summary.moves[move.value] += 1
    return done


def _work_on(
    ctx: Context, task: TaskView, cast: _Cast, rng: random.Random, summary: DemoSummary
) -> None:
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    if rng.random() < 0.06:  # the office gives the task to the unit that should lead it
        others = [u for u in cast.by_unit if u != task.lead_unit]
        moved = _try(
            ctx,
            task,
            Move.REASSIGN,
            cast.officer(rng),
            summary,
            note="Giao lại cho đơn vị đúng chức năng",
            to_unit=rng.choice(others),
        )
        task = moved or task
    current = _try(ctx, task, Move.START, cast.member(task.lead_unit, rng), summary)
    if current is None or rng.random() < 0.2:
        return  # still in progress at the end of the quarter
    clock.advance(dt.timedelta(days=rng.randint(1, 5)))
    submitter = cast.member(current.lead_unit, rng)
    current = _try(ctx, current, Move.SUBMIT, submitter, summary, note=rng.choice(NOTES))
    if current is None:
        return
    if rng.random() < 0.3:  # returned for rework once, then resubmitted
        current = _try(
            ctx, current, Move.RETURN, cast.officer(rng), summary, note=rng.choice(RETURN_REASONS)
        )
        if current is None or rng.random() < 0.3:
            return
        clock.advance(dt.timedelta(days=rng.randint(1, 3)))
        current = _try(
            ctx,
            current,
            Move.SUBMIT,
            cast.member(current.lead_unit, rng),
            summary,
            note="Đã bổ sung theo yêu cầu",
        )
        if current is None:
            return
    if rng.random() < 0.15:
        return  # waiting for the office
    current = _try(ctx, current, Move.VERIFY, cast.officer(rng, not_=current.submitted_by), summary)
    if current is not None and rng.random() < 0.6:
        _try(ctx, current, Move.CLOSE, cast.closer(rng), summary)
