"""Plan use cases: load definition files (organisations and plans), list and show plans.

A load is one transaction for every file given: all of it lands, or none. Loading the same
plan again changes nothing. A changed plan becomes a new version: rows it adds become tasks,
rows it removes are reported and their tasks left as they are, rows it changes amend their
tasks (each amendment audited); a changed lead unit is reported, never applied behind the
office's back (that is what `tasks reassign` is for). No task's history is ever lost.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from workflow import audit
from workflow.definitions import models
from workflow.definitions.checks import Definitions
from workflow.definitions.models import OrganisationSpec, PlanSpec, TaskSpec
from workflow.definitions.source import SourceFile
from workflow.definitions.vocabulary import BY_CODE
from workflow.domain import schedules
from workflow.domain.lifecycle import State
from workflow.errors import InvalidInput, NotFound
from workflow.services.context import Context
from workflow.services.organisations import upsert_organisation_in
from workflow.services.tasks import NewTask, insert_new_tasks
from workflow.store import repo
from workflow.store.engine import reading, writing
from workflow.store.tables import (
    organisations,
    plan_versions,
    plans,
    procedures,
    rule_sets,
    tasks,
)

AMENDABLE = (
    "title",
    "category",
    "cooperating_units",
    "schedule_text",
    "deliverable",
    "target",
    "due_date",
)


@dataclass
class LoadOutcome:
    file: str
    kind: str
    id: str
    status: str  # created, new_version, updated, unchanged
    version: int | None = None
    tasks_created: int = 0
    tasks_amended: int = 0
    rows_added: list[str] = field(default_factory=list)
    rows_removed: list[str] = field(default_factory=list)
    lead_changes: list[str] = field(default_factory=list)
    content_hash: str = ""

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


def known_organisations(ctx: Context) -> dict[str, OrganisationSpec]:
    """Organisations already in the database, as their files declared them."""
    with reading(ctx.engine) as conn:
        rows = conn.execute(select(organisations.c.code, organisations.c.definition)).all()
    return {code: OrganisationSpec.model_validate_json(text) for code, text in rows}


def load(ctx: Context, found: Definitions) -> list[LoadOutcome]:
    outcomes: list[LoadOutcome] = []
    with writing(ctx.engine) as conn:
        for spec, src in found.organisations.values():
            change = upsert_organisation_in(conn, ctx, spec, src.sha256, src.path)
            status = "created" if change.created else "updated" if change.changed else "unchanged"
            outcomes.append(
                LoadOutcome(src.path, "organisation", spec.code, status, content_hash=src.sha256)
            )
        stored = {
            code: OrganisationSpec.model_validate_json(text)
            for code, text in conn.execute(select(organisations.c.code, organisations.c.definition))
        }
        for proc_spec, src in found.procedures:
            outcomes.append(_load_procedures(conn, ctx, proc_spec, src))
        for rule_spec, src in found.rules:
            outcomes.append(_load_rules(conn, ctx, rule_spec, src))
        for plan, src in found.plans:
            org = stored.get(plan.organisation)
            if org is None:
                raise NotFound(f"{src.path}: organisation {plan.organisation} is not loaded")
            outcomes.append(_load_plan(conn, ctx, plan, src, org))
    for outcome in outcomes:
        if outcome.status != "unchanged":
            ctx.log.info(
                "definitions.loaded",
                kind=outcome.kind,
                id=outcome.id,
                status=outcome.status,
                version=outcome.version,
                tasks_created=outcome.tasks_created,
            )
    return outcomes


def _load_procedures(
    conn: Connection, ctx: Context, spec: models.ProceduresSpec, src: SourceFile
) -> LoadOutcome:
    """Add or update an organisation's procedures (never deleted: dossiers refer to them)."""
    outcome = LoadOutcome(
        src.path, "procedures", spec.organisation, "unchanged", content_hash=src.sha256
    )
    c = procedures.c
    current = {
        row.code: row
        for row in conn.execute(select(procedures).where(c.organisation == spec.organisation))
    }
    changed: list[str] = []
    for proc in spec.procedures:
        values = {
            "name": proc.name,
            "working_days": proc.working_days,
            "unit": proc.unit,
            "cutoff_hour": proc.cutoff_hour,
            "illustrative": proc.illustrative,
            "legal_basis": proc.legal_basis,
        }
        row = current.get(proc.code)
        if row is None:
            conn.execute(
                insert(procedures).values(organisation=spec.organisation, code=proc.code, **values)
            )
            changed.append(proc.code)
        elif any(getattr(row, k) != v for k, v in values.items()):
            conn.execute(
                update(procedures)
                .where(c.organisation == spec.organisation, c.code == proc.code)
                .values(**values)
            )
            changed.append(proc.code)
    if changed:
        outcome.status = "updated" if current else "created"
        outcome.rows_added = changed
        audit.append(
            conn,
            audit.Record(
                actor=ctx.operator,
                role="admin",
                organisation=spec.organisation,
                action="procedures.load",
                subject=f"procedures:{spec.organisation}",
                data={"file_sha256": src.sha256, "source": src.path, "changed": changed},
            ),
            ctx.clock.now(),
        )
    return outcome


def _load_rules(
    conn: Connection, ctx: Context, spec: models.ApologyRulesSpec, src: SourceFile
) -> LoadOutcome:
    outcome = LoadOutcome(src.path, "apology_rules", spec.id, "unchanged", content_hash=src.sha256)
    definition = spec.model_dump_json()
    digest = audit.content_hash(definition)
    row = conn.execute(select(rule_sets).where(rule_sets.c.id == spec.id)).first()
    if row is not None and row.content_hash == digest:
        return outcome
    values = {
        "kind": spec.kind,
        "effective_from": spec.effective_from,
        "definition": definition,
        "content_hash": digest,
    }
    if row is None:
        conn.execute(insert(rule_sets).values(id=spec.id, **values))
        outcome.status = "created"
    else:
        conn.execute(update(rule_sets).where(rule_sets.c.id == spec.id).values(**values))
        outcome.status = "updated"
    audit.append(
        conn,
        audit.Record(
            actor=ctx.operator,
            role="admin",
            action="rules.load",
            subject=f"rules:{spec.id}",
            data={
                "file_sha256": src.sha256,
                "spec_sha256": digest,
                "source": src.path,
                "effective_from": spec.effective_from.isoformat(),
                "verified": spec.verified,
            },
        ),
        ctx.clock.now(),
    )
    return outcome


def expand_units(codes: list[str], org: OrganisationSpec, lead: str) -> list[str]:
    """Unit codes with groups expanded, the lead unit left out, first mention kept."""
    groups = {g.code: g for g in org.groups}
    out: list[str] = []
    for code in codes:
        group = groups.get(code)
        members = (
            [u.code for u in org.units]
            if group and group.units == "all"
            else list(group.units)
            if group
            else [code]
        )
        out.extend(m for m in members if m != lead and m not in out)
    return out


def occurrences(task: TaskSpec, plan: PlanSpec) -> list[schedules.Occurrence]:
    start, end = plan.period.start, plan.period.end
    s = task.schedule
    if s == "continuous":
        return schedules.continuous(end)
    if s == "within_year":
        return schedules.within_year(start.year, start, end)
    if isinstance(s, models.WithinYear):
        return schedules.within_year(s.within_year, start, end)
    if isinstance(s, models.Periodic):
        return schedules.periodic(s.periodic, start, end)
    if isinstance(s, models.ByDate):
        return schedules.by_date(s.by)
    if isinstance(s, models.PerSchedule):
        named = {n.id: n for n in plan.schedules}
        return schedules.named(list(named[s.per].dates), end)
    raise InvalidInput(f"task {task.code}: unknown schedule {s!r}")  # the validator prevents this


def _new_tasks(
    plan: PlanSpec, org: OrganisationSpec, rows: list[TaskSpec], version: int
) -> list[NewTask]:
    out = []
    for row in rows:
        cooperating = expand_units(row.cooperating_units, org, row.lead_unit)
        for occ in occurrences(row, plan):
            out.append(
                NewTask(
                    organisation=org.code,
                    plan=plan.id,
                    code=row.code,
                    period=occ.period,
                    title=row.title,
                    lead_unit=row.lead_unit,
                    category=row.category,
                    due_date=occ.due,
                    cooperating_units=cooperating,
                    schedule_text=row.schedule_text,
                    deliverable=row.deliverable,
                    target=row.target,
                    since_plan_version=version,
                )
            )
    return out


def _load_plan(
    conn: Connection, ctx: Context, plan: PlanSpec, src: SourceFile, org: OrganisationSpec
) -> LoadOutcome:
    spec_json = plan.model_dump_json()
    spec_hash = audit.content_hash(spec_json)
    outcome = LoadOutcome(src.path, "plan", plan.id, "unchanged", content_hash=src.sha256)
    row = conn.execute(select(plans).where(plans.c.id == plan.id)).first()
    previous: PlanSpec | None = None
    if row is not None:
        if row.organisation != plan.organisation:
            raise InvalidInput(
                f"{src.path}: plan id '{plan.id}' already belongs to {row.organisation}; "
                "give this plan its own id"
            )
        latest = conn.execute(
            select(plan_versions).where(
                plan_versions.c.plan_id == plan.id, plan_versions.c.version == row.current_version
            )
        ).one()
        outcome.version = row.current_version
        if latest.content_hash == spec_hash:
            return outcome
        previous = PlanSpec.model_validate_json(latest.definition)
    version = 1 if row is None else row.current_version + 1
    now = ctx.clock.now()
    if row is None:
        conn.execute(
            insert(plans).values(
                id=plan.id, organisation=plan.organisation, title=plan.title, current_version=1
            )
        )
    else:
        conn.execute(
            update(plans)
            .where(plans.c.id == plan.id)
            .values(title=plan.title, current_version=version)
        )
    conn.execute(
        insert(plan_versions).values(
            plan_id=plan.id,
            version=version,
            content_hash=spec_hash,
            source=src.path,
            definition=spec_json,
            loaded_at=now,
        )
    )
    outcome.status, outcome.version = ("created" if row is None else "new_version"), version
    existing = {
        (r.code, r.period): r for r in conn.execute(select(tasks).where(tasks.c.plan_id == plan.id))
    }
    wanted = _new_tasks(plan, org, list(plan.tasks), version)
    to_create = [t for t in wanted if (t.code, t.period) not in existing]
    if previous is not None:
        old_codes = {t.code for t in previous.tasks}
        new_codes = {t.code for t in plan.tasks}
        outcome.rows_added = sorted(new_codes - old_codes)
        outcome.rows_removed = sorted(old_codes - new_codes)
        outcome.tasks_amended, outcome.lead_changes = _amend(
            conn, ctx, plan, version, wanted, existing
        )
    audit.append(
        conn,
        audit.Record(
            actor=ctx.operator,
            role="admin",
            organisation=plan.organisation,
            action="plan.load",
            subject=f"plan:{plan.id}@v{version}",
            plan_id=plan.id,
            data={
                "version": version,
                "file_sha256": src.sha256,
                "spec_sha256": spec_hash,
                "source": src.path,
                "task_rows": len(plan.tasks),
                "tasks_created": len(to_create),
                "rows_added": outcome.rows_added,
                "rows_removed": outcome.rows_removed,
                "lead_changes": outcome.lead_changes,
            },
        ),
        now,
    )
    insert_new_tasks(
        conn, ctx, to_create, actor=ctx.operator, role="admin", reason=f"plan {plan.id} v{version}"
    )
    outcome.tasks_created = len(to_create)
    return outcome


def _amend(
    conn: Connection,
    ctx: Context,
    plan: PlanSpec,
    version: int,
    wanted: list[NewTask],
    existing: dict[tuple[str, str], Any],
) -> tuple[int, list[str]]:
    amended, lead_changes = 0, []
    now = ctx.clock.now()
    records = []
    for new in wanted:
        current = existing.get((new.code, new.period))
        if current is None:
            continue
        if current.lead_unit != new.lead_unit:
            where = f"{new.code}/{new.period}" if new.period else new.code
            lead_changes.append(f"{where}: {current.lead_unit} -> {new.lead_unit}")
        changes: dict[str, list[Any]] = {}
        values: dict[str, Any] = {}
        for name in AMENDABLE:
            before = (
                json.loads(current.cooperating_units)
                if name == "cooperating_units"
                else getattr(current, name)
            )
            after = getattr(new, name)
            if before != after:
                changes[name] = [_plain(before), _plain(after)]
                values[name] = (
                    json.dumps(after, ensure_ascii=False) if name == "cooperating_units" else after
                )
        if not changes:
            continue
        values["updated_at"] = now
        if not repo.compare_and_set(conn, current.id, current.version, values):
            raise InvalidInput(f"task {current.id} changed while the plan was loading; load again")
        records.append(
            audit.Record(
                actor=ctx.operator,
                role="admin",
                organisation=current.organisation,
                action="task.amend",
                subject=f"task:{current.id}",
                task_id=current.id,
                plan_id=plan.id,
                from_state=current.state,
                to_state=current.state,
                data={"plan_version": version, "version": current.version + 1, "changes": changes},
            )
        )
        amended += 1
    audit.append_many(conn, records, now)
    return amended, lead_changes


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# ------------------------------------------------------------------ queries


def list_plans(ctx: Context) -> list[dict[str, Any]]:
    with reading(ctx.engine) as conn:
        counts: dict[str, int] = {
            plan_id: int(n)
            for plan_id, n in conn.execute(
                select(tasks.c.plan_id, func.count()).group_by(tasks.c.plan_id)
            )
        }
        rows = conn.execute(select(plans).order_by(plans.c.organisation, plans.c.id)).all()
    return [
        {
            "id": r.id,
            "version": r.current_version,
            "title": r.title,
            "organisation": r.organisation,
            "task_count": int(counts.get(r.id, 0)),
        }
        for r in rows
    ]


def show_plan(ctx: Context, plan_id: str) -> dict[str, Any]:
    """The plan's header and its tasks grouped by index category, with their states."""
    with reading(ctx.engine) as conn:
        row = conn.execute(select(plans).where(plans.c.id == plan_id)).first()
        if row is None:
            raise NotFound(f"plan {plan_id!r} does not exist")
        spec = PlanSpec.model_validate_json(
            conn.execute(
                select(plan_versions.c.definition).where(
                    plan_versions.c.plan_id == plan_id,
                    plan_versions.c.version == row.current_version,
                )
            ).scalar_one()
        )
        views = repo.list_tasks(conn, repo.TaskFilter(plan=plan_id))
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for view in views:
        grouped[view.category or ""].append(
            {
                "id": view.id,
                "code": view.code,
                "period": view.period,
                "state": str(view.state),
                "lead_unit": view.lead_unit,
                "due_date": view.due_date.isoformat() if view.due_date else None,
                "title": view.title,
            }
        )
    states = {s.value: 0 for s in State}
    for view in views:
        states[view.state.value] += 1
    return {
        "id": row.id,
        "version": row.current_version,
        "title": row.title,
        "organisation": row.organisation,
        "issuer": spec.issuer,
        "number": spec.number,
        "period": {"start": spec.period.start.isoformat(), "end": spec.period.end.isoformat()},
        "legal_basis": spec.legal_basis,
        "report_deadlines": [
            {"title": d.title, "due": d.due.isoformat(), "recipient": d.recipient}
            for d in spec.report_deadlines
        ],
        "task_count": len(views),
        "tasks_by_state": states,
        "categories": [
            {
                "category": code,
                "index": BY_CODE[code].index if code in BY_CODE else "",
                "name": BY_CODE[code].name if code in BY_CODE else code,
                "tasks": grouped[code],
            }
            for code in [c.code for c in BY_CODE.values() if c.code in grouped]
            + [c for c in grouped if c not in BY_CODE]
        ],
    }
