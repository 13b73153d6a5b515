"""The end-to-end demonstration: load the definitions, simulate a quarter of work, verify.

Everything goes through the services, as a real office would use them: people start,
submit, get returned, resubmit; the office verifies (never its own submissions); leadership
closes. A seeded random draw makes every run the same.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow import demo_inspections as inspections
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.context import Context
from workflow.definitions.checks import validate
from workflow.definitions.models import OrganisationSpec, PersonSpec
from workflow.domain.calendar import WorkingCalendar
from workflow.domain.filters import TaskFilter
from workflow.domain.lifecycle import Move, State
from workflow.domain.roles import Role
from workflow.domain.tasks import TaskView
from workflow.errors import InvalidInput, PlanflowError
from workflow.services import audit_log as audit_service
from workflow.services import database
from workflow.services import dossiers as dossier_service
from workflow.services import plans as plan_service
from workflow.services import tasks as task_service
from workflow.store import schema

QUARTER_START = dt.datetime(2024, 4, 1, 8, 0, tzinfo=LOCAL_TZ)
QUARTER_DAYS = 91
INSPECTION_DRAW = dt.date(2024, 4, 15)  # the inspectors draw the period's units
INSPECTION_RUNS = {dt.date(2024, 5, 13), dt.date(2024, 6, 3), dt.date(2024, 6, 24)}
# The office reports the quarter after its reporting window closes (14/6), and once more on
# calendar quarters on the last day (a provisional report: the quarter is not over).
REPORT_DAY = dt.date(2024, 6, 17)

NOTES = [
    "Đã ban hành văn bản triển khai và báo cáo kết quả",
    "Đã cập nhật số liệu trên Cổng thông tin điện tử",
    "Đã tổ chức hội nghị đối thoại với doanh nghiệp",
    "Báo cáo kết quả thực hiện kèm phụ lục số liệu",
]
APPLICANTS = [
    "Công ty TNHH Thương mại Hoa Sen",
    "Công ty Cổ phần Đầu tư Xứ Lạng",
    "Hộ kinh doanh Nguyễn Thị Hồng",
    "Công ty TNHH Cơ khí Chu Lai",
    "Doanh nghiệp tư nhân Vạn Phúc",
    "Công ty TNHH May mặc Tam Kỳ",
]
DELAY_REASONS = [
    "Cần lấy ý kiến cơ quan liên quan",
    "Hồ sơ cần xác minh thêm thông tin",
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
    dossiers: int = 0
    delays: int = 0
    letters: int = 0
    escalations: int = 0
    reminders: int = 0
    flow_runs: int = 0
    letters_dir: str = ""
    stuck: set[int] = field(default_factory=set)  # dossiers nobody handles: they escalate
    audit_entries: int = 0
    anchor: str | None = None
    inspections: inspections.InspectionTally = field(default_factory=inspections.InspectionTally)
    reports: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "plans": self.plans,
            "tasks": self.tasks,
            "moves": dict(self.moves),
            "refused": dict(self.refused),
            "tasks_by_state": dict(self.states),
            "dossiers": self.dossiers,
            "delays_declared": self.delays,
            "apology_flow_runs": self.flow_runs,
            "letters": self.letters,
            "escalations": self.escalations,
            "reminders": self.reminders,
            "letters_dir": self.letters_dir,
            "inspections": self.inspections.as_json(),
            "reports": self.reports,
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
        self.desk = [
            p.id for p in org.people if p.unit == org.office_unit and Role.STAFF in p.roles
        ]
        self.leaders = [p for p in org.people if Role.LEADER in p.roles]

    def member(self, unit: str, rng: random.Random) -> str | None:
        people = self.by_unit.get(unit)
        return rng.choice(people).id if people else None

    def officer(self, rng: random.Random, not_: str | None = None) -> str:
        return rng.choice([p.id for p in self.office if p.id != not_]).strip()

    def closer(self, rng: random.Random) -> str:
        return rng.choice([p.id for p in self.leaders] or [p.id for p in self.office])


def run_demo(
    ctx: Context,
    definitions: Path,
    out_dir: Path,
    seed: int = 2024,
    os_user: str = "demo",
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """`os_user`: who runs the demo on this host, recorded as having made the database a
    simulation (a production database is refused: its people act with their own tokens).
    `progress(done, total)`: told after each simulated day."""
    clock = ctx.clock
    if not isinstance(clock, FixedClock):
        raise InvalidInput("the demo runs on a simulated clock")
    schema.upgrade(ctx.engine)
    # Loaded before the first day's flows run (07:30): the log's entries go forward in time.
    clock.set(dt.datetime.combine(QUARTER_START.date(), dt.time(7, 0), LOCAL_TZ))
    database.initialise(ctx, simulation=True, os_user=os_user)
    found, problems = validate([definitions])
    if problems:
        raise InvalidInput(f"{problems[0]} ({len(problems)} problem(s) in {definitions})")
    plan_service.load(ctx, found)
    casts = {code: _Cast(spec) for code, (spec, _) in found.organisations.items()}
    orgs = {code: spec for code, (spec, _) in found.organisations.items()}
    officers = {code: [p.id for p in cast.office] for code, cast in casts.items()}
    summary = DemoSummary(database=ctx.engine.url.render_as_string(hide_password=True))
    rng = random.Random(seed)
    calendar = WorkingCalendar()
    db_url = ctx.engine.url.render_as_string(hide_password=False)
    letters_dir = out_dir.resolve()
    notices_dir = letters_dir / "inspections"
    day = QUARTER_START.date()
    last = day + dt.timedelta(days=QUARTER_DAYS - 1)
    while not calendar.is_working_day(last):  # the quarter's last working day closes it
        last -= dt.timedelta(days=1)
    total = (last - day).days + 1
    while day <= last:
        if calendar.is_working_day(day):
            clock.set(dt.datetime.combine(day, dt.time(7, 30), LOCAL_TZ))
            if day.weekday() == 0 or day == last:  # the office runs the flow every Monday
                _apology_run(db_url, day, letters_dir, clock.now(), summary)
            if day in (INSPECTION_DRAW, last) or day in INSPECTION_RUNS:
                for org in orgs.values():
                    inspections.run_flow(
                        db_url, org, day, clock.now(), notices_dir, summary.inspections, seed
                    )
            if day in (REPORT_DAY, last):
                rule = "reporting" if day == REPORT_DAY else "calendar"
                for code in orgs:
                    _report_run(db_url, code, rule, out_dir.resolve(), clock.now(), summary)
            clock.set(dt.datetime.combine(day, dt.time(8, 0), LOCAL_TZ))
            _a_working_day(ctx, day, casts, rng, summary)
            if day > INSPECTION_DRAW:
                inspections.a_working_day(
                    ctx, orgs, officers, rng, summary.inspections, summary.refused
                )
        day += dt.timedelta(days=1)
        if progress is not None:
            progress(total - (last - day).days - 1, total)
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
    summary.letters_dir = str(letters_dir / "letters")
    verification = audit_service.verify(ctx)
    if not verification.ok:
        raise PlanflowError(f"audit verification failed after the demo: {verification.problem}")
    summary.audit_entries = verification.checked
    summary.anchor = f"{verification.head_seq}:{verification.head_hash}"
    return summary


def _apology_run(
    db_url: str, day: dt.date, out_dir: Path, now: dt.datetime, summary: DemoSummary
) -> None:
    from flows.settings import quiet_prefect

    quiet_prefect()
    from flows.apology import apology_flow

    result = apology_flow(db_url, day, str(out_dir), None, 500, now)
    summary.letters += len(result["letters"])
    summary.escalations += len(result["escalations"])
    summary.reminders += len(result["reminders"])
    summary.flow_runs += 1


def _report_run(
    db_url: str, org: str, rule: str, out_dir: Path, now: dt.datetime, summary: DemoSummary
) -> None:
    from flows.settings import quiet_prefect

    quiet_prefect()
    from flows.aggregate import aggregate_flow

    result = aggregate_flow(
        db_url, org, "2024Q2", rule, str(out_dir / "reports"), requested_by=None, now=now
    )
    totals = result["totals"]
    summary.reports.append(
        {
            "organisation": org,
            "period": result["period"],
            "window": result["window"],
            "snapshot": result["snapshot"],
            "hash": result["hash"],
            "tasks": totals.get("tasks"),  # open in the window (planflow.report/2)
            "tasks_completed": totals.get("tasks_completed"),
            "tasks_overdue": totals.get("tasks_overdue"),
            "provisional": result.get("provisional"),
            "files": result["files"],
        }
    )


def _a_working_day(
    ctx: Context, day: dt.date, casts: dict[str, _Cast], rng: random.Random, summary: DemoSummary
) -> None:
    """People move a few tasks one step on; the desk receives dossiers; units handle some."""
    clock = ctx.clock
    assert isinstance(clock, FixedClock)
    open_tasks = inspections.open_work(ctx)
    for task in rng.sample(open_tasks, k=min(len(open_tasks), rng.randint(1, 3))):
        clock.advance(dt.timedelta(minutes=rng.randint(10, 60)))
        _step(ctx, task, casts[task.organisation], rng, summary)
    for org, cast in casts.items():
        procedures = dossier_service.list_procedures(ctx, org)
        if not procedures or not cast.desk:
            continue
        for _ in range(rng.choice((0, 1, 1, 2))):
            clock.advance(dt.timedelta(minutes=rng.randint(5, 40)))
            proc = rng.choice(procedures)
            applicant = dossier_service.Applicant(
                rng.choice(APPLICANTS), phone=f"09{rng.randint(10_000_000, 99_999_999)}"
            )
            new = dossier_service.NewDossier(proc["code"], applicant, clock.now())
            received = dossier_service.receive(ctx, new, rng.choice(cast.desk))
            summary.dossiers += 1
            if rng.random() < 0.08:
                summary.stuck.add(received["id"])
    clock.set(dt.datetime.combine(day, dt.time(15, 0), LOCAL_TZ))
    for dossier in dossier_service.list_dossiers(ctx, state=State.ASSIGNED):
        due = dt.date.fromisoformat(dossier["due_date"])
        cast = casts[dossier["organisation"]]
        if dossier["id"] in summary.stuck:
            _declare_delay(ctx, dossier, cast, day, summary)
            continue
        if due > day + dt.timedelta(days=2):
            continue
        roll = rng.random()
        if roll < 0.7:  # handled in time: proposed, approved, returned to the applicant
            _handle(ctx, dossier, cast, rng, summary)
        elif roll < 0.8 and due > day and dossier["extension_count"] == 0:
            member = cast.member(dossier["lead_unit"], rng)
            if member:
                dossier_service.delay(
                    ctx, dossier["id"], rng.choice(DELAY_REASONS), rng.randint(2, 4), member
                )
                summary.delays += 1


def _declare_delay(
    ctx: Context, dossier: dict[str, Any], cast: _Cast, day: dt.date, summary: DemoSummary
) -> None:
    """A dossier the unit knows it cannot finish in time: it declares why (its apology letter
    states that reason) on the day it learns it, before the due date. Reason, days and who
    are chosen without the seeded draw, so that the rest of the simulation stays the same."""
    due = dt.date.fromisoformat(dossier["due_date"])
    members = cast.by_unit.get(dossier["lead_unit"])
    if due <= day or dossier["extension_count"] or dossier["delay_reason"] or not members:
        return
    number = int(dossier["id"])
    reason = DELAY_REASONS[number % len(DELAY_REASONS)]
    dossier_service.delay(ctx, number, reason, 2 + number % 3, members[0].id)
    summary.delays += 1


def _handle(
    ctx: Context, dossier: dict[str, Any], cast: _Cast, rng: random.Random, summary: DemoSummary
) -> None:
    task = task_service.get_task(ctx, dossier["id"])
    worker = cast.member(task.lead_unit, rng)
    done = _try(ctx, task, Move.START, worker, summary)
    done = done and _try(
        ctx, done, Move.SUBMIT, worker, summary, note="Dự thảo kết quả giải quyết hồ sơ"
    )
    done = done and _try(ctx, done, Move.VERIFY, cast.officer(rng, not_=worker), summary)
    if done:
        _try(ctx, done, Move.CLOSE, cast.closer(rng), summary)


def _step(
    ctx: Context, task: TaskView, cast: _Cast, rng: random.Random, summary: DemoSummary
) -> None:
    """The next natural move for a task in its state."""
    if task.state is State.ASSIGNED:
        if rng.random() < 0.05:  # the office gives it to the unit that should lead it
            others = [u for u in cast.by_unit if u != task.lead_unit]
            _try(
                ctx,
                task,
                Move.REASSIGN,
                cast.officer(rng),
                summary,
                note="Giao lại cho đơn vị đúng chức năng",
                to_unit=rng.choice(others),
            )
        else:
            _try(ctx, task, Move.START, cast.member(task.lead_unit, rng), summary)
    elif task.state is State.IN_PROGRESS:
        _try(
            ctx,
            task,
            Move.SUBMIT,
            cast.member(task.lead_unit, rng),
            summary,
            note=rng.choice(NOTES),
        )
    elif task.state is State.SUBMITTED:
        if task.returned_count == 0 and rng.random() < 0.3:
            _try(
                ctx, task, Move.RETURN, cast.officer(rng), summary, note=rng.choice(RETURN_REASONS)
            )
        else:
            _try(ctx, task, Move.VERIFY, cast.officer(rng, not_=task.submitted_by), summary)
    elif task.state is State.VERIFIED and rng.random() < 0.6:
        _try(ctx, task, Move.CLOSE, cast.closer(rng), summary)


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
