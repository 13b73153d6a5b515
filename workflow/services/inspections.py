"""Inspection draws: which units are inspected in a period, and why (explain).

A draw (`draw`) reads every inspectable unit's risk signals in SQL, lets the pure sampling
rules pick ceil(ratio × units) of them, and in the same transaction stores the draw, writes
its full record (seed, population with signals, algorithm, result) to the audit log and
creates one inspection task per selected unit, led by the inspection team. Drawing again for
the same period returns the stored draw; a redraw needs the office role and a reason, keeps
the old draw (linked by `superseded_by`) and withdraws the tasks of units it drops.

What happens next (the record, its verification, the conclusion and the fix tasks) is in
`inspection_records`. Every step is one transaction with its audit entries.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, text

from workflow import audit
from workflow.clock import LOCAL_TZ
from workflow.definitions.models import InspectionSpec, OrganisationSpec
from workflow.documents.vietnamese import period_label
from workflow.domain import sampling
from workflow.domain.inspection import (
    period_bounds,
)
from workflow.domain.lifecycle import Move, State
from workflow.domain.roles import Actor, Role
from workflow.errors import (
    AuditVerificationFailed,
    InvalidInput,
    MoveNotAllowed,
    NotFound,
    PermissionDenied,
)
from workflow.services import tasks as task_service
from workflow.services.context import Context
from workflow.store import repo
from workflow.store.engine import reading, writing
from workflow.store.tables import (
    audit_log,
    dossiers,
    inspection_targets,
    inspections,
    notices,
    organisations,
    tasks,
    units,
)

ACTOR = "flow:inspection"  # who acts when a schedule, not a person, starts the draw
CHECKED_KINDS = ("plan", "fix")  # the tasks an inspection looks at (not dossiers, not itself)
LOOKBACK = dt.timedelta(days=365)  # how far back returns and late dossiers count as risk
# The PAR INDEX counts inspecting reform work under "leadership and direction" (PAR/SIPAS
# 2023, task A.I.3); a fix inherits the category of the task it remedies.
INSPECTION_CATEGORY = "par.leadership"
OPEN_NOT_DONE = (State.ASSIGNED.value, State.IN_PROGRESS.value, State.SUBMITTED.value)

# ----------------------------------------------------------------------------- the draw


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

    def as_json(self) -> dict[str, Any]:
        return {
            "inspection": self.inspection,
            "organisation": self.organisation,
            "period": self.period,
            "revision": self.revision,
            "ratio": self.ratio,
            "seed": self.seed,
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


def draw(
    ctx: Context,
    organisation: str,
    period: str,
    actor_id: str | None,
    *,
    ratio: float | None = None,
    seed: int | None = None,
    redraw_reason: str | None = None,
) -> Draw:
    """The draw for `period`: the stored one, or a new one (see the module's docstring).

    `actor_id` None means a schedule started it, on the authority of the organisation's
    file (recorded as `flow:inspection`); a redraw always needs a person of the office.
    """
    with writing(ctx.engine) as conn:
        # Serialise draws (the chain lock is held to commit): two inspectors starting the
        # same period at once get one draw, the second sees the first's.
        audit.lock_chain(conn)
        req = _checked(conn, organisation, period, actor_id, ratio, redraw_reason)
        spec, plan, current, actor, role, existing = req
        if redraw_reason is None and existing is not None:
            return _draw_from_row(conn, existing, existing=True)
        ratio = plan.ratio if ratio is None else ratio
        seed = secrets.randbelow(2**31) if seed is None else seed
        now = ctx.clock.now()
        population = signals(conn, spec, current, now)
        selection = sampling.select(population, period, ratio, seed)
        reason = redraw_reason.strip() if redraw_reason else None
        return _store(conn, ctx, spec, plan, selection, actor, role, now, existing, reason)


def preflight(
    ctx: Context,
    organisation: str,
    period: str,
    actor_id: str | None,
    *,
    ratio: float | None = None,
    redraw_reason: str | None = None,
) -> None:
    """Every refusal `draw` would make, checked read-only: the CLI asks before it starts a
    Prefect flow, so a user's mistake is one line, not a failed flow run."""
    with reading(ctx.engine) as conn:
        _checked(conn, organisation, period, actor_id, ratio, redraw_reason)


def _checked(
    conn: Connection,
    organisation: str,
    period: str,
    actor_id: str | None,
    ratio: float | None,
    redraw_reason: str | None,
) -> tuple[OrganisationSpec, InspectionSpec, sampling.Period, Actor | None, str, Any]:
    current = sampling.parse_period(period)
    if ratio is not None:
        sampling.required_count(1, ratio)  # a ratio below 30% is refused before anything else
    spec = organisation_spec(conn, organisation)
    plan = inspection_of(spec)
    if current.granularity != plan.every:
        example = {"year": "2024", "half": "2024H1", "quarter": "2024Q3"}[plan.every]
        raise InvalidInput(
            f"{organisation} inspects every {plan.every} (its file's inspection.every): "
            f"give a period like {example}, not {period}"
        )
    actor, role = _drawer(conn, spec, actor_id, redraw=redraw_reason is not None)
    existing = _current_row(conn, organisation, period)
    if redraw_reason is not None:
        if not redraw_reason.strip():
            raise InvalidInput("a redraw needs --reason saying why the draw is redone")
        if existing is None:
            raise InvalidInput(
                f"{organisation} has no draw for {period} to redraw; run it without --redraw"
            )
        _refuse_if_recorded(conn, existing.id)
    return spec, plan, current, actor, role, existing


def _store(
    conn: Connection,
    ctx: Context,
    spec: OrganisationSpec,
    plan: InspectionSpec,
    selection: sampling.Selection,
    actor: Actor | None,
    role: str,
    now: dt.datetime,
    previous: Any,
    reason: str | None,
) -> Draw:
    record = selection.as_record()
    record_hash = audit.content_hash(audit.canonical_json(record))
    revision = 1 if previous is None else previous.revision + 1
    actor_name = actor.id if actor is not None else ACTOR
    inspection_id = conn.execute(
        inspections.insert()
        .values(
            organisation=spec.code,
            period=selection.period,
            revision=revision,
            ratio=str(selection.ratio),
            seed=selection.seed,
            algorithm=selection.algorithm,
            selected=json.dumps(list(selection.selected)),
            record_hash=record_hash,
            drawn_by=actor_name,
            drawn_at=now,
            reason=reason,
        )
        .returning(inspections.c.id)
    ).scalar_one()
    kept: dict[str, int] = {}
    withdrawn: list[int] = []
    if previous is not None:
        conn.execute(
            inspections.update()
            .where(inspections.c.id == previous.id)
            .values(superseded_by=inspection_id, superseded_at=now)
        )
        assert actor is not None  # a redraw is always a person's
        for unit, task_id in _targets(conn, previous.id).items():
            if unit in selection.selected:
                kept[unit] = task_id
            else:
                task = repo.get_task(conn, task_id)
                assert task is not None
                done = task_service.apply_move(
                    conn, ctx, task_id, Move.WITHDRAW, actor.id, task.version,
                    note=f"Bốc thăm lại đợt kiểm tra {selection.period}: {reason}",
                )  # fmt: skip
                withdrawn.append(done.task.id)
    task_ids = _inspection_tasks(
        conn, ctx, spec, plan, selection, inspection_id, revision, kept, actor_name, role
    )
    audit.append(
        conn,
        audit.Record(
            actor=actor_name,
            role=role,
            unit=actor.unit if actor is not None else plan.unit,
            organisation=spec.code,
            action="inspection.draw",
            subject=f"inspection:{inspection_id}",
            data={
                "record": record,
                "record_hash": record_hash,
                "revision": revision,
                "supersedes": previous.id if previous is not None else None,
                "reason": reason,
                "tasks": task_ids,
                "withdrawn": withdrawn,
            },
        ),
        now,
    )
    ctx.log.info(
        "inspection.draw",
        inspection=inspection_id,
        organisation=spec.code,
        period=selection.period,
        revision=revision,
        actor=actor_name,
        selected=list(selection.selected),
        seed=selection.seed,
    )
    return Draw(
        inspection=inspection_id,
        organisation=spec.code,
        period=selection.period,
        revision=revision,
        ratio=selection.ratio,
        seed=selection.seed,
        algorithm=selection.algorithm,
        population=record["population"],
        selected=list(selection.selected),
        drawn_by=actor_name,
        drawn_at=now,
        existing=False,
        reason=reason,
        supersedes=previous.id if previous is not None else None,
        tasks=task_ids,
        withdrawn=withdrawn,
    )


def _inspection_tasks(
    conn: Connection,
    ctx: Context,
    spec: OrganisationSpec,
    plan: InspectionSpec,
    selection: sampling.Selection,
    inspection_id: int,
    revision: int,
    kept: dict[str, int],
    actor: str,
    role: str,
) -> dict[str, int]:
    """One task per selected unit (a kept one when a redraw keeps the unit), with the
    checklist of the unit's tasks the record must cover."""
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
        conn, ctx, new, actor=actor, role=role, reason=f"inspection draw {selection.period}"
    )
    by_unit = dict(kept)
    fresh = iter(created)
    for unit in selection.selected:
        if unit not in kept:
            by_unit[unit] = next(fresh)
    conn.execute(
        inspection_targets.insert(),
        [
            {
                "inspection_id": inspection_id,
                "unit": unit,
                "task_id": by_unit[unit],
                "checklist": json.dumps(checklist(conn, spec.code, unit, start, end)),
            }
            for unit in selection.selected
        ],
    )
    return {unit: by_unit[unit] for unit in selection.selected}


def checklist(
    conn: Connection, organisation: str, unit: str, start: dt.date, end: dt.date
) -> list[int]:
    """The unit's tasks an inspection of [start, end] looks at: those due in the period,
    and those still open that were due before it or have no due date (ongoing duties)."""
    c = tasks.c
    rows = conn.execute(
        select(c.id)
        .where(
            c.organisation == organisation,
            c.lead_unit == unit,
            c.kind.in_(CHECKED_KINDS),
            or_(
                and_(c.due_date >= start, c.due_date <= end),
                and_(
                    c.state != State.CLOSED.value,
                    or_(c.due_date.is_(None), c.due_date < start),
                ),
            ),
        )
        .order_by(c.id)
    )
    return [int(r) for r in rows.scalars()]


def organisation_spec(conn: Connection, code: str) -> OrganisationSpec:
    found = conn.execute(
        select(organisations.c.definition).where(organisations.c.code == code)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"organisation {code!r} does not exist (see `planflow orgs list`)")
    return OrganisationSpec.model_validate_json(found)


def inspection_of(spec: OrganisationSpec) -> InspectionSpec:
    if spec.inspection is None:
        raise InvalidInput(
            f"{spec.code} has no `inspection:` section in its organisation file: add one "
            "(unit: the inspection team, units, every, ratio) and load the file again"
        )
    return spec.inspection


def _drawer(
    conn: Connection, spec: OrganisationSpec, actor_id: str | None, *, redraw: bool
) -> tuple[Actor | None, str]:
    if actor_id is None:
        if redraw:
            raise PermissionDenied("a redraw needs a person of the office (--as PERSON)")
        return None, "system"
    actor = repo.get_actor(conn, actor_id)
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


def _current_row(conn: Connection, organisation: str, period: str) -> Any:
    return conn.execute(
        select(inspections).where(
            inspections.c.organisation == organisation,
            inspections.c.period == period,
            inspections.c.superseded_by.is_(None),
        )
    ).first()


def _targets(conn: Connection, inspection_id: int) -> dict[str, int]:
    rows = conn.execute(
        select(inspection_targets.c.unit, inspection_targets.c.task_id).where(
            inspection_targets.c.inspection_id == inspection_id
        )
    )
    return {unit: int(task_id) for unit, task_id in rows}


def _refuse_if_recorded(conn: Connection, inspection_id: int) -> None:
    rows = conn.execute(
        select(inspection_targets.c.unit, tasks.c.id, tasks.c.state)
        .join(tasks, tasks.c.id == inspection_targets.c.task_id)
        .where(
            inspection_targets.c.inspection_id == inspection_id,
            tasks.c.state.not_in([State.ASSIGNED.value, State.IN_PROGRESS.value]),
        )
        .order_by(tasks.c.id)
    ).all()
    if rows:
        unit, task_id, state = rows[0]
        raise MoveNotAllowed(
            f"cannot redraw: the inspection of {unit} already has a record (task {task_id} is "
            f"{state}); a draw can be redone only before any record is submitted"
        )


def _draw_from_row(conn: Connection, row: Any, *, existing: bool) -> Draw:
    record = _recorded(conn, row.id)["record"]
    previous = conn.execute(
        select(inspections.c.id).where(inspections.c.superseded_by == row.id)
    ).scalar_one_or_none()
    return Draw(
        inspection=row.id,
        organisation=row.organisation,
        period=row.period,
        revision=row.revision,
        ratio=float(row.ratio),
        seed=int(row.seed),
        algorithm=row.algorithm,
        population=record["population"],
        selected=json.loads(row.selected),
        drawn_by=row.drawn_by,
        drawn_at=repo.as_utc(row.drawn_at),
        existing=existing,
        reason=row.reason,
        supersedes=previous,
        superseded_by=row.superseded_by,
        tasks=_targets(conn, row.id),
    )


def _recorded(conn: Connection, inspection_id: int) -> dict[str, Any]:
    """The data of the draw's audit entry (where its record lives)."""
    row = _draw_entry(conn, inspection_id)
    data: dict[str, Any] = json.loads(row["data"])
    return data


def _draw_entry(conn: Connection, inspection_id: int) -> dict[str, Any]:
    found = (
        conn.execute(
            select(audit_log).where(
                audit_log.c.action == "inspection.draw",
                audit_log.c.subject == f"inspection:{inspection_id}",
            )
        )
        .mappings()
        .first()
    )
    if found is None:
        raise AuditVerificationFailed(
            f"inspection {inspection_id} has no draw entry in the audit log: its selection "
            "cannot be explained"
        )
    return dict(found)


# ----------------------------------------------------------------------------- signals


def _local_date(column: str, dialect: str) -> str:
    """SQL for the Vietnam-time date of a stored UTC timestamp (Vietnam keeps UTC+7, no DST)."""
    if dialect == "postgresql":
        return f"CAST(({column} AT TIME ZONE 'Asia/Ho_Chi_Minh') AS DATE)"
    return f"date({column}, '+7 hours')"


def signals(
    conn: Connection, spec: OrganisationSpec, period: sampling.Period, now: dt.datetime
) -> list[sampling.UnitSignals]:
    """Every inspectable unit with its risk signals as of `now`, each one SQL aggregate:

    - overdue tasks: plan and fix tasks past their due date and not yet submitted for good
      (assigned, in progress or submitted);
    - returned submissions: `return` moves on the unit's tasks in the last 365 days;
    - late dossiers: dossiers received in the last 365 days that were resolved after their
      original due date, or are still unresolved past it;
    - last inspected: the latest earlier period of the same kind whose current draw chose it.
    """
    codes = [
        u
        for u in spec.inspected_units()
        if conn.execute(
            select(units.c.code).where(units.c.organisation == spec.code, units.c.code == u)
        ).first()
    ]
    if not codes:
        raise InvalidInput(f"{spec.code} has no unit to inspect")
    today = now.astimezone(LOCAL_TZ).date()
    since = now - LOOKBACK
    c = tasks.c
    overdue: dict[str, int] = dict(
        conn.execute(
            select(c.lead_unit, func.count())
            .where(
                c.organisation == spec.code,
                c.kind.in_(CHECKED_KINDS),
                c.due_date < today,
                c.state.in_(OPEN_NOT_DONE),
            )
            .group_by(c.lead_unit)
        )
        .tuples()
        .all()
    )
    returned: dict[str, int] = dict(
        conn.execute(
            select(c.lead_unit, func.count())
            .select_from(audit_log.join(tasks, tasks.c.id == audit_log.c.task_id))
            .where(
                audit_log.c.action == Move.RETURN.value,
                audit_log.c.organisation == spec.code,
                audit_log.c.at >= audit.format_at(since),
            )
            .group_by(c.lead_unit)
        )
        .tuples()
        .all()
    )
    done_on = _local_date("tasks.completed_at", conn.dialect.name)
    late: dict[str, int] = dict(
        conn.execute(
            select(c.lead_unit, func.count())
            .select_from(dossiers.join(tasks, tasks.c.id == dossiers.c.task_id))
            .where(
                dossiers.c.organisation == spec.code,
                dossiers.c.received_at >= since,
                or_(
                    and_(c.completed_at.is_not(None), text(f"{done_on} > dossiers.original_due")),
                    and_(
                        c.completed_at.is_(None),
                        c.state != State.CLOSED.value,
                        dossiers.c.original_due < today,
                    ),
                ),
            )
            .group_by(c.lead_unit)
        )
        .tuples()
        .all()
    )
    last: dict[str, sampling.Period] = {}
    for unit, key in conn.execute(
        select(inspection_targets.c.unit, inspections.c.period)
        .join(inspections, inspections.c.id == inspection_targets.c.inspection_id)
        .where(inspections.c.organisation == spec.code, inspections.c.superseded_by.is_(None))
    ):
        seen = sampling.parse_period(key)
        if seen.granularity != period.granularity or seen.ordinal >= period.ordinal:
            continue  # another kind of period (the file changed), or not earlier
        if unit not in last or seen.ordinal > last[unit].ordinal:
            last[unit] = seen
    return [
        sampling.UnitSignals(
            unit=u,
            last_inspected=last[u].key if u in last else None,
            overdue_tasks=int(overdue.get(u, 0)),
            returned_submissions=int(returned.get(u, 0)),
            late_dossiers=int(late.get(u, 0)),
        )
        for u in codes
    ]


# ----------------------------------------------------------------------------- explain


def explain(ctx: Context, inspection_id: int) -> dict[str, Any]:
    """Re-derive a draw from its audit entry alone and say why each unit was (not) chosen.

    Fails (AuditVerificationFailed, exit 6) when the entry's own hash does not match its
    content or its link to the entry before it, when the recorded result does not follow
    from the recorded inputs, or when the inspections table disagrees with the log.
    """
    with reading(ctx.engine) as conn:
        row = conn.execute(select(inspections).where(inspections.c.id == inspection_id)).first()
        if row is None:
            raise NotFound(f"inspection {inspection_id} does not exist")
        entry = _draw_entry(conn, inspection_id)
        before = conn.execute(
            select(audit_log.c.hash).where(audit_log.c.seq == entry["seq"] - 1)
        ).scalar_one_or_none()
    if audit.entry_hash(entry) != entry["hash"]:
        raise AuditVerificationFailed(
            f"audit entry {entry['seq']} (the draw of inspection {inspection_id}) does not "
            "match its hash: it was changed after it was written"
        )
    if entry["seq"] > 1 and before != entry["prev_hash"]:
        raise AuditVerificationFailed(
            f"audit entry {entry['seq']} does not link to entry {entry['seq'] - 1}: the log "
            "around the draw was changed (run `planflow audit verify`)"
        )
    data = json.loads(entry["data"])
    selection = sampling.explain(data.get("record"))
    stored = json.loads(row.selected)
    if stored != list(selection.selected) or int(row.seed) != selection.seed:
        raise AuditVerificationFailed(
            f"the inspections table says inspection {inspection_id} selected "
            f"[{', '.join(stored)}] with seed {row.seed}, but its audit entry {entry['seq']} "
            f"records [{', '.join(selection.selected)}] with seed {selection.seed}"
        )
    return {
        "inspection": inspection_id,
        "organisation": row.organisation,
        "period": selection.period,
        "revision": row.revision,
        "algorithm": selection.algorithm,
        "ratio": selection.ratio,
        "seed": selection.seed,
        "count": selection.count,
        "selected": list(selection.selected),
        "audit_entry": entry["seq"],
        "reason": data.get("reason"),
        "supersedes": data.get("supersedes"),
        "superseded_by": row.superseded_by,
        "ranking": [r.as_dict() for r in selection.ranking],
        "verified": True,
    }


def list_draws(
    ctx: Context, organisation: str | None = None, period: str | None = None
) -> list[dict[str, Any]]:
    i = inspections.c
    stmt = select(inspections).order_by(i.organisation, i.period, i.revision)
    if organisation is not None:
        stmt = stmt.where(i.organisation == organisation)
    if period is not None:
        stmt = stmt.where(i.period == period)
    with reading(ctx.engine) as conn:
        return [
            {
                "inspection": r.id,
                "organisation": r.organisation,
                "period": r.period,
                "revision": r.revision,
                "ratio": float(r.ratio),
                "seed": int(r.seed),
                "selected": json.loads(r.selected),
                "drawn_by": r.drawn_by,
                "drawn_at": repo.as_utc(r.drawn_at).isoformat(),
                "reason": r.reason,
                "superseded_by": r.superseded_by,
            }
            for r in conn.execute(stmt)
        ]


def show(ctx: Context, inspection_id: int) -> dict[str, Any]:
    """A draw with each selected unit's task, its state, checklist and conclusion."""
    with reading(ctx.engine) as conn:
        row = conn.execute(select(inspections).where(inspections.c.id == inspection_id)).first()
        if row is None:
            raise NotFound(f"inspection {inspection_id} does not exist")
        out = _draw_from_row(conn, row, existing=True).as_json()
        del out["existing"]
        targets = []
        for t in conn.execute(
            select(
                inspection_targets.c.unit,
                inspection_targets.c.task_id,
                inspection_targets.c.checklist,
                tasks.c.state,
                tasks.c.code,
            )
            .join(tasks, tasks.c.id == inspection_targets.c.task_id)
            .where(inspection_targets.c.inspection_id == inspection_id)
            .order_by(inspection_targets.c.unit)
        ):
            notice = conn.execute(
                select(notices.c.path).where(
                    notices.c.task_id == t.task_id, notices.c.kind == "conclusion"
                )
            ).scalar_one_or_none()
            fixes = conn.execute(
                select(tasks.c.id).where(tasks.c.parent_task == t.task_id).order_by(tasks.c.id)
            ).scalars()
            targets.append(
                {
                    "unit": t.unit,
                    "task": t.task_id,
                    "code": t.code,
                    "state": t.state,
                    "checklist": json.loads(t.checklist),
                    "conclusion": notice,
                    "fix_tasks": [int(f) for f in fixes],
                }
            )
        out["targets"] = targets
        return out
