"""How a draw is made, inside the transaction `inspections.draw` opens: the request checked
(period, organisation file, who draws, what a redraw needs), the population's risk signals
read (`signals`), and the draw stored with its inspection tasks, their checklists, the
tasks a redraw withdraws and its audit entry (`store_draw`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from workflow.clock import LOCAL_TZ
from workflow.definitions.models import InspectionSpec, OrganisationSpec
from workflow.documents.vietnamese import period_label
from workflow.domain import sampling
from workflow.domain.audit_chain import canonical_json, content_hash
from workflow.domain.events import InspectionDrawn
from workflow.domain.inspection import period_bounds
from workflow.domain.lifecycle import Move, State
from workflow.domain.periods import Period, parse_period
from workflow.domain.roles import Actor, Role
from workflow.errors import InvalidInput, MoveNotAllowed, NotFound, PermissionDenied
from workflow.services import tasks as task_service
from workflow.store.queries.inspections import StoredDraw
from workflow.store.repositories.inspections import NewDraw, NewTarget
from workflow.store.uow import Reader, Tx

# Who draws when no person does and nobody was authenticated (a simulation's run without
# --as); a scheduled run draws as its schedule (`schedule:inspection/<ORG>`).
ACTOR = "flow:inspection"
CHECKED_KINDS = ("plan", "fix")  # the tasks an inspection looks at (not dossiers, not itself)
LOOKBACK = dt.timedelta(days=365)  # how far back returns and late dossiers count as risk
# The PAR INDEX counts inspecting reform work under "leadership and direction" (PAR/SIPAS
# 2023, task A.I.3); a fix inherits the category of the task it remedies.
INSPECTION_CATEGORY = "par.leadership"
# An inspection task still in one of these states has no record yet: its draw can be redone.
BEFORE_RECORD = (State.ASSIGNED.value, State.IN_PROGRESS.value)


@dataclass
class Draw:
    """A stored draw, as the CLI and the flow report it."""

    inspection: int
    organisation: str
    period: str
    revision: int
    ratio: float
    seed: int
    algorithm: str
    population: list[dict[str, Any]]
    selected: list[str]
    drawn_by: str
    drawn_at: dt.datetime
    existing: bool
    reason: str | None = None
    supersedes: int | None = None
    superseded_by: int | None = None
    tasks: dict[str, int] = field(default_factory=dict)
    withdrawn: list[int] = field(default_factory=list)
    seed_from: dict[str, Any] | None = None  # how the seed was derived (None: given)

    def as_json(self) -> dict[str, Any]:
        return {
            "inspection": self.inspection,
            "organisation": self.organisation,
            "period": self.period,
            "revision": self.revision,
            "ratio": self.ratio,
            "seed": self.seed,
            "seed_from": self.seed_from,
            "algorithm": self.algorithm,
            "count": len(self.selected),
            "population": self.population,
            "selected": self.selected,
            "existing": self.existing,
            "drawn_by": self.drawn_by,
            "drawn_at": self.drawn_at.isoformat(),
            "reason": self.reason,
            "supersedes": self.supersedes,
            "superseded_by": self.superseded_by,
            "tasks": [{"unit": u, "task": t} for u, t in self.tasks.items()],
            "withdrawn": self.withdrawn,
        }


# ----------------------------------------------------------------------------- the request


@dataclass(frozen=True, slots=True)
class DrawRequest:
    """A draw asked for, checked: what the draw goes on with."""

    spec: OrganisationSpec
    plan: InspectionSpec
    period: Period
    actor: Actor | None  # None: a schedule, on the authority of the organisation's file
    role: str
    existing: StoredDraw | None  # the period's draw in force


def check_request(
    r: Reader,
    organisation: str,
    period: str,
    actor_id: str | None,
    ratio: float | None,
    redraw_reason: str | None,
) -> DrawRequest:
    """Every refusal a draw makes, before anything is written."""
    current = parse_period(period)
    if ratio is not None:
        sampling.required_count(1, ratio)  # a ratio below 30% is refused before anything else
    spec = r.organisations.require(organisation)
    plan = inspection_of(spec)
    if current.granularity != plan.every:
        example = {"year": "2024", "half": "2024H1", "quarter": "2024Q3"}[plan.every]
        raise InvalidInput(
            f"{organisation} inspects every {plan.every} (its file's inspection.every): "
            f"give a period like {example}, not {period}"
        )
    actor, role = _drawer(r, spec, actor_id, redraw=redraw_reason is not None)
    existing = r.inspections.current(organisation, period)
    if redraw_reason is not None:
        if not redraw_reason.strip():
            raise InvalidInput("a redraw needs --reason saying why the draw is redone")
        if existing is None:
            raise InvalidInput(
                f"{organisation} has no draw for {period} to redraw; run it without --redraw"
            )
        _refuse_if_recorded(r, existing.id)
    return DrawRequest(spec, plan, current, actor, role, existing)


def inspection_of(spec: OrganisationSpec) -> InspectionSpec:
    if spec.inspection is None:
        raise InvalidInput(
            f"{spec.code} has no `inspection:` section in its organisation file: add one "
            "(unit: the inspection team, units, every, ratio) and load the file again"
        )
    return spec.inspection


def _drawer(
    r: Reader, spec: OrganisationSpec, actor_id: str | None, *, redraw: bool
) -> tuple[Actor | None, str]:
    if actor_id is None:
        if redraw:
            raise PermissionDenied("a redraw needs a person of the office (--as PERSON)")
        return None, "system"
    actor = r.organisations.actor(actor_id)
    if actor is None:
        raise NotFound(f"person {actor_id!r} does not exist")
    if actor.organisation != spec.code:
        raise PermissionDenied(
            f"{actor.id} belongs to {actor.organisation} and cannot draw {spec.code}'s inspection"
        )
    needed = Role.OFFICE if redraw else Role.INSPECTOR
    if not actor.has(needed):
        held = ", ".join(sorted(actor.roles)) or "no role"
        what = "a redraw needs the office role" if redraw else "a draw needs the inspector role"
        raise PermissionDenied(f"{what}; {actor.id} has {held}")
    return actor, needed.value


def _refuse_if_recorded(r: Reader, inspection_id: int) -> None:
    targets = sorted(r.inspections.target_views(inspection_id), key=lambda t: t.task_id)
    recorded = next((t for t in targets if t.state not in BEFORE_RECORD), None)
    if recorded is not None:
        raise MoveNotAllowed(
            f"cannot redraw: the inspection of {recorded.unit} already has a record (task "
            f"{recorded.task_id} is {recorded.state}); a draw can be redone only before any "
            "record is submitted"
        )


# ----------------------------------------------------------------------------- signals


def signals(
    r: Reader, spec: OrganisationSpec, period: Period, now: dt.datetime
) -> list[sampling.UnitSignals]:
    """Every inspectable unit with its risk signals as of `now` (each one SQL aggregate,
    `InspectionQueries.risk_counts`):

    - overdue tasks: plan and fix tasks past their due date and not yet done (assigned, in
      progress or submitted);
    - returned submissions: `return` moves on the unit's tasks in the last 365 days;
    - late dossiers: dossiers received in the last 365 days that were resolved after their
      original due date, or are still unresolved past it;
    - last inspected: the latest earlier period of the same kind whose current draw chose it.
    """
    stored = r.organisations.unit_names(spec.code)
    codes = [u for u in spec.inspected_units() if u in stored]
    if not codes:
        raise InvalidInput(f"{spec.code} has no unit to inspect")
    today = now.astimezone(LOCAL_TZ).date()
    counts = r.inspections.risk_counts(spec.code, CHECKED_KINDS, today, now - LOOKBACK)
    last: dict[str, Period] = {}
    for unit, key in r.inspections.inspected(spec.code):
        seen = parse_period(key)
        if seen.granularity != period.granularity or seen.ordinal >= period.ordinal:
            continue  # another kind of period (the file changed), or not earlier
        if unit not in last or seen.ordinal > last[unit].ordinal:
            last[unit] = seen
    return [
        sampling.UnitSignals(
            unit=u,
            last_inspected=last[u].key if u in last else None,
            overdue_tasks=counts.overdue_tasks.get(u, 0),
            returned_submissions=counts.returned_submissions.get(u, 0),
            late_dossiers=counts.late_dossiers.get(u, 0),
        )
        for u in codes
    ]


def checklist(r: Reader, organisation: str, unit: str, start: dt.date, end: dt.date) -> list[int]:
    """The unit's tasks an inspection of [start, end] looks at: those due in the period,
    and those still open that were due before it or have no due date (ongoing duties)."""
    return r.inspections.checklists(organisation, [unit], start, end, CHECKED_KINDS)[unit]


# ----------------------------------------------------------------------------- storing


def store_draw(
    tx: Tx,
    req: DrawRequest,
    selection: sampling.Selection,
    reason: str | None,
    system: str = ACTOR,
    seed_from: sampling.SeedDerivation | None = None,
) -> Draw:
    """The draw, the one it supersedes (its dropped units' tasks withdrawn), one task per
    selected unit, and the draw's audit entry with its full record. `system`: who draws
    when no person does (the schedule that started the run, or `flow:inspection`);
    `seed_from`: how the seed was derived, when nobody chose it."""
    record = selection.as_record()
    record_hash = content_hash(canonical_json(record))
    previous = req.existing
    revision = 1 if previous is None else previous.revision + 1
    actor_name = req.actor.id if req.actor is not None else system
    inspection_id = tx.inspections.add(
        NewDraw(
            organisation=req.spec.code,
            period=selection.period,
            revision=revision,
            ratio=selection.ratio,
            seed=selection.seed,
            algorithm=selection.algorithm,
            selected=selection.selected,
            record_hash=record_hash,
            drawn_by=actor_name,
            drawn_at=tx.now,
            reason=reason,
        )
    )
    kept: dict[str, int] = {}
    withdrawn: list[int] = []
    if previous is not None:
        tx.inspections.supersede(previous.id, by=inspection_id, at=tx.now)
        assert req.actor is not None  # a redraw is always a person's
        for unit, task_id in tx.inspections.targets(previous.id).items():
            if unit in selection.selected:
                kept[unit] = task_id
            else:
                done = task_service.make_move(
                    tx, task_id, Move.WITHDRAW, req.actor.id, None,
                    note=f"Bốc thăm lại đợt kiểm tra {selection.period}: {reason}",
                )  # fmt: skip
                withdrawn.append(done.task.id)
    task_ids = _inspection_tasks(tx, req, selection, inspection_id, revision, kept, actor_name)
    supersedes = previous.id if previous is not None else None
    tx.record(
        InspectionDrawn(
            actor=actor_name,
            role=req.role,
            unit=req.actor.unit if req.actor is not None else req.plan.unit,
            organisation=req.spec.code,
            inspection=inspection_id,
            record=record,
            record_hash=record_hash,
            revision=revision,
            supersedes=supersedes,
            reason=reason,
            tasks=task_ids,
            withdrawn=withdrawn,
            seed_from=seed_from.as_record() if seed_from is not None else None,
        )
    )
    return Draw(
        inspection=inspection_id,
        organisation=req.spec.code,
        period=selection.period,
        revision=revision,
        ratio=selection.ratio,
        seed=selection.seed,
        algorithm=selection.algorithm,
        population=record["population"],
        selected=list(selection.selected),
        drawn_by=actor_name,
        drawn_at=tx.now,
        existing=False,
        reason=reason,
        supersedes=supersedes,
        tasks=task_ids,
        withdrawn=withdrawn,
        seed_from=seed_from.as_record() if seed_from is not None else None,
    )


def _inspection_tasks(
    tx: Tx,
    req: DrawRequest,
    selection: sampling.Selection,
    inspection_id: int,
    revision: int,
    kept: dict[str, int],
    actor: str,
) -> dict[str, int]:
    """One task per selected unit (a kept one when a redraw keeps the unit), with the
    checklist of the unit's tasks the record must cover."""
    spec, plan = req.spec, req.plan
    start, end = period_bounds(selection.period)
    names = {u.code: u.name for u in spec.units}
    label = period_label(selection.period)
    suffix = "" if revision == 1 else f"-L{revision}"
    new = [
        task_service.NewTask(
            organisation=spec.code,
            code=f"KT-{selection.period}-{unit}{suffix}",
            title=f"Kiểm tra công tác cải cách hành chính {label} tại {names.get(unit, unit)}",
            lead_unit=plan.unit,
            kind="inspection",
            period=selection.period,
            category=INSPECTION_CATEGORY,
            due_date=end,
            deliverable="Biên bản kiểm tra; Thông báo kết luận kiểm tra",
            cooperating_units=[unit],
        )
        for unit in selection.selected
        if unit not in kept
    ]
    created = task_service.insert_new_tasks(
        tx, new, actor=actor, role=req.role, reason=f"inspection draw {selection.period}"
    )
    by_unit = dict(kept)
    fresh = iter(created)
    for unit in selection.selected:
        if unit not in kept:
            by_unit[unit] = next(fresh)
    # Every unit's checklist in one statement (the inspection tasks just created are not
    # on any: an inspection does not check inspections).
    lists = tx.inspections.checklists(spec.code, selection.selected, start, end, CHECKED_KINDS)
    tx.inspections.add_targets(
        inspection_id,
        [NewTarget(unit, by_unit[unit], lists[unit]) for unit in selection.selected],
    )
    return {unit: by_unit[unit] for unit in selection.selected}
