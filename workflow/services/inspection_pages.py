"""Reads for the inspection pages: the draws a person may see, a period's population before a
draw, a draw with its re-derivation, an inspection task's record form, a conclusion notice's
stored files.

Every read is fenced as the API fences it: `inspections:read`, and an organisation the
person reads (another agency's draw, task or notice reads as one that does not exist).
Nothing here decides a rule: the population and its signals are `inspection_draws.signals`,
the order is `sampling.select`'s, the explanation `inspections.explain`'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from workflow.context import Context
from workflow.domain import sampling
from workflow.domain.access import Access, Permission
from workflow.domain.inspection import current_period
from workflow.domain.tasks import TaskView
from workflow.errors import AuditVerificationFailed, NotFound
from workflow.services import inspection_records as records
from workflow.services import inspections as service
from workflow.services import tasks as task_service
from workflow.services.inspection_draws import check_request, inspection_of, signals

# How a unit stands before the draw: chosen whatever the seed, left out whatever the seed,
# or in a tie across the cut that only the seeded draw (at confirmation) settles.
SURE, DRAWN, OUT = "sure", "drawn", "out"
NOTICE_TYPES = {
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True, slots=True)
class PreviewUnit:
    unit: str
    name: str
    last_inspected: str | None
    periods_since: int | None  # None: never inspected
    overdue_tasks: int
    returned_submissions: int
    late_dossiers: int
    risk: int
    outlook: str  # SURE, DRAWN or OUT
    tied: int  # units ranked alike on staleness and risk (itself included)
    places: int  # how many of those the draw chooses


@dataclass(frozen=True, slots=True)
class Preview:
    organisation: str
    period: str
    ratio: float
    count: int
    units: list[PreviewUnit]  # in the order the rules rank them (ties in code order)
    existing: int | None  # the period's stored draw: a draw now returns it


@dataclass(frozen=True, slots=True)
class Overview:
    organisation: str | None  # the person's own, when it has an inspection plan
    every: str | None  # year | half | quarter
    current: str | None  # the period of that kind today
    draws: list[dict[str, Any]]  # newest first, superseded ones included


def overview(ctx: Context, access: Access, today: dt.date) -> Overview:
    """The draws the person reads, and the kind of period their own agency draws."""
    access.require(Permission.INSPECTIONS_READ)
    found = [d for d in service.list_draws(ctx) if access.can_read(d["organisation"])]
    found.sort(key=lambda d: d["inspection"], reverse=True)
    own = access.actor.organisation
    with ctx.uow.reading() as r:
        spec = r.organisations.require(own)
    plan = spec.inspection
    if plan is None:
        return Overview(None, None, None, found)
    return Overview(own, plan.every, current_period(today, plan.every), found)


def preview(ctx: Context, access: Access, period: str) -> Preview:
    """The population of the person's own agency for `period`, with each unit's signals
    and whether the rules choose it whatever the seed, leave it out, or leave it to the
    seeded draw: every refusal the draw would make (role, period, file) raised as it would."""
    access.require(Permission.INSPECTIONS_WRITE, access.actor.organisation)
    org = access.actor.organisation
    with ctx.uow.reading() as r:
        req = check_request(r, org, period, access.actor.id, None, None)
        if req.existing is not None:
            return Preview(org, req.period.key, req.existing.ratio, 0, [], req.existing.id)
        population = signals(r, req.spec, req.period, r.now)
        names = r.organisations.unit_names(org)
    ratio = inspection_of(req.spec).ratio
    # Any seed gives the same order but for the ties; a tie group straddling the cut is
    # the only thing the seed (known at confirmation) decides.
    ranked = sampling.select(population, req.period.key, ratio, 0)
    groups: dict[tuple[int | None, int], list[int]] = {}
    for place in ranked.ranking:
        groups.setdefault((place.periods_since_inspection, place.risk), []).append(place.rank)
    units: list[tuple[int, PreviewUnit]] = []
    for place in ranked.ranking:
        ranks = groups[(place.periods_since_inspection, place.risk)]
        outlook = (
            SURE if max(ranks) <= ranked.count else OUT if min(ranks) > ranked.count else DRAWN
        )
        places = sum(1 for rank in ranks if rank <= ranked.count)
        s = place.signals
        units.append(
            (
                min(ranks),
                PreviewUnit(
                    s.unit,
                    names.get(s.unit, s.unit),
                    s.last_inspected,
                    place.periods_since_inspection,
                    s.overdue_tasks,
                    s.returned_submissions,
                    s.late_dossiers,
                    s.risk,
                    outlook,
                    len(ranks),
                    places,
                ),
            )
        )
    # The rules' order; units tied on staleness and risk in code order (the seed is not known).
    units.sort(key=lambda pair: (pair[0], pair[1].unit))
    return Preview(org, req.period.key, ratio, ranked.count, [u for _, u in units], None)


def readable_draw(ctx: Context, access: Access, inspection_id: int) -> dict[str, Any]:
    """The draw's listing row, if the person reads it; else NotFound, as for one that does
    not exist (asked of the draws' list before anything of the draw is read)."""
    access.require(Permission.INSPECTIONS_READ)
    for found in service.list_draws(ctx):
        if found["inspection"] == inspection_id and access.can_read(found["organisation"]):
            return found
    raise NotFound(f"inspection {inspection_id} does not exist")


@dataclass(frozen=True, slots=True)
class DrawPage:
    draw: dict[str, Any]  # `inspections.show`
    explained: dict[str, Any] | None  # `inspections.explain`; None when it failed
    broken: str | None  # why the explanation failed (the log does not bear the draw out)
    units: dict[str, str]  # code: name
    people: dict[str, str]  # id: name
    titles: dict[int, str]  # task id: title
    notices: dict[int, list[str]]  # inspection task: the extensions of its stored notice
    history: list[dict[str, Any]]  # every draw of the same period, newest first
    pending: list[int]  # its inspection tasks verified and not yet concluded


def draw_page(ctx: Context, access: Access, inspection_id: int) -> DrawPage:
    row = readable_draw(ctx, access, inspection_id)
    shown = service.show(ctx, inspection_id)
    explained: dict[str, Any] | None = None
    broken = None
    try:
        explained = service.explain(ctx, inspection_id)
    except AuditVerificationFailed as exc:
        broken = str(exc)
    org = row["organisation"]
    history = service.list_draws(ctx, org, row["period"])
    history.sort(key=lambda d: d["inspection"], reverse=True)
    ids = [t["task"] for t in shown["targets"]]
    ids += [f for t in shown["targets"] for f in t["fix_tasks"]]
    with ctx.uow.reading() as r:
        units = r.organisations.unit_names(org)
        people = r.organisations.person_names(org)
        titles = {t.id: t.title for t in r.inspections.checked_tasks(ids).values()}
        notices = {
            t["task"]: [d.path.rsplit(".", 1)[-1] for d in r.documents.of_source(_key(t["task"]))]
            for t in shown["targets"]
        }
    pending = [t for t in records.pending_conclusions(ctx, org) if t in set(ids)]
    return DrawPage(shown, explained, broken, units, people, titles, notices, history, pending)


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    task: int
    code: str
    title: str


@dataclass(frozen=True, slots=True)
class RecordForm:
    task: TaskView
    unit: str
    unit_name: str
    inspection: int
    checklist: list[ChecklistItem]


def readable_task(ctx: Context, access: Access, task_id: int) -> TaskView:
    access.require(Permission.INSPECTIONS_READ)
    try:
        task = task_service.get_task(ctx, task_id)
    except NotFound:
        task = None
    if task is None or not access.can_read(task.organisation):
        raise NotFound(f"task {task_id} does not exist")
    return task


def record_form(ctx: Context, access: Access, task_id: int) -> RecordForm:
    """An inspection task's checklist, the record form's rows (`inspections template`)."""
    task = readable_task(ctx, access, task_id)
    with ctx.uow.reading() as r:
        target = r.inspections.target_of(task_id)
        if target is None:
            raise NotFound(f"task {task_id} is not an inspection task")
        found = r.inspections.checked_tasks(target.checklist)
        names = r.organisations.unit_names(task.organisation)
    items = [
        ChecklistItem(found[i].id, found[i].code, found[i].title)
        for i in target.checklist
        if i in found
    ]
    unit = target.unit
    return RecordForm(task, unit, names.get(unit, unit), target.inspection_id, items)


def notice_file(ctx: Context, access: Access, task_id: int, ext: str) -> tuple[str, bytes]:
    """A conclusion notice's stored file (its name, its bytes), as recorded when it was
    issued: the copy whose hash the audit log holds."""
    readable_task(ctx, access, task_id)
    if ext not in NOTICE_TYPES:
        raise NotFound(f"no {ext} notice")
    with ctx.uow.reading() as r:
        stored = r.documents.of_source(_key(task_id))
    for doc in stored:
        if doc.path.endswith(f".{ext}"):
            return doc.path.rsplit("/", 1)[-1], doc.content
    raise NotFound(f"inspection task {task_id} has no conclusion notice")


def _key(task_id: int) -> str:
    return f"conclusion:{task_id}"
