"""Plan use cases: load definition files (organisations, procedures, rules and plans), list
and show plans.

A load is one transaction for every file given: all of it lands, or none. Loading the same
plan again changes nothing. A changed plan becomes a new version: rows it adds become tasks,
rows it removes are reported and their tasks left as they are, rows it changes amend their
tasks (each amendment audited); a changed lead unit is reported, never applied behind the
office's back (that is what `tasks reassign` is for). No task's history is ever lost.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from workflow.context import Context
from workflow.definitions import models
from workflow.definitions.checks import Definitions
from workflow.definitions.models import OrganisationSpec, PlanSpec, TaskSpec
from workflow.definitions.source import SourceFile
from workflow.definitions.vocabulary import BY_CODE
from workflow.domain import schedules
from workflow.domain.audit_chain import content_hash
from workflow.domain.events import PlanLoaded, TaskAmended
from workflow.domain.filters import TaskFilter
from workflow.domain.lifecycle import State
from workflow.domain.tasks import TaskView
from workflow.errors import InvalidInput, NotFound
from workflow.services.definitions import ROLE, LoadOutcome, load_procedures, load_rules
from workflow.services.organisations import save_organisation
from workflow.services.tasks import NewTask, insert_new_tasks
from workflow.store.queries.plans import PlanVersion, StoredPlan
from workflow.store.uow import Tx

# The fields of a task a plan's new version may change (the lead unit is only reported).
AMENDABLE = (
    "title",
    "category",
    "cooperating_units",
    "schedule_text",
    "deliverable",
    "target",
    "due_date",
)


def load(ctx: Context, found: Definitions) -> list[LoadOutcome]:
    """Everything `found` holds, in one transaction: organisations, procedures, rule sets,
    then plans (their audit entries in that order)."""
    outcomes: list[LoadOutcome] = []
    actor = ctx.acting
    with ctx.uow.writing() as tx:
        for spec, src in found.organisations.values():
            change = save_organisation(tx, actor, spec, src.sha256, src.path)
            status = "created" if change.created else "updated" if change.changed else "unchanged"
            outcomes.append(
                LoadOutcome(src.path, "organisation", spec.code, status, content_hash=src.sha256)
            )
        stored = tx.organisations.specs()
        for proc_spec, src in found.procedures:
            outcomes.append(load_procedures(tx, actor, proc_spec, src))
        for rule_spec, src in found.rules:
            outcomes.append(load_rules(tx, actor, rule_spec, src))
        for plan, src in found.plans:
            org = stored.get(plan.organisation)
            if org is None:
                raise NotFound(f"{src.path}: organisation {plan.organisation} is not loaded")
            outcomes.append(_load_plan(tx, actor, plan, src, org))
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
    tx: Tx, actor: str, plan: PlanSpec, src: SourceFile, org: OrganisationSpec
) -> LoadOutcome:
    spec_json = plan.model_dump_json()
    spec_hash = content_hash(spec_json)
    outcome = LoadOutcome(src.path, "plan", plan.id, "unchanged", content_hash=src.sha256)
    found = tx.plans.current(plan.id)
    previous: PlanSpec | None = None
    version = 1
    if found is not None:
        stored, latest = found
        if stored.organisation != plan.organisation:
            raise InvalidInput(
                f"{src.path}: plan id '{plan.id}' already belongs to {stored.organisation}; "
                "give this plan its own id"
            )
        outcome.version = stored.current_version
        if latest.content_hash == spec_hash:
            return outcome
        previous = latest.spec()
        version = stored.current_version + 1
    tx.plans.save(StoredPlan(plan.id, plan.organisation, plan.title, version), new=found is None)
    tx.plans.add_version(PlanVersion(plan.id, version, spec_hash, src.path, spec_json, tx.now))
    outcome.status, outcome.version = ("created" if found is None else "new_version"), version
    existing = tx.tasks.of_plan(plan.id)
    wanted = _new_tasks(plan, org, list(plan.tasks), version)
    to_create = [t for t in wanted if (t.code, t.period) not in existing]
    if previous is not None:
        old_codes = {t.code for t in previous.tasks}
        new_codes = {t.code for t in plan.tasks}
        outcome.rows_added = sorted(new_codes - old_codes)
        outcome.rows_removed = sorted(old_codes - new_codes)
        # The amendments' entries come before the plan's own, as they always have.
        outcome.tasks_amended, outcome.lead_changes = _amend(
            tx, actor, plan, version, wanted, existing
        )
    tx.record(
        PlanLoaded(
            actor=actor,
            role=ROLE,
            organisation=plan.organisation,
            plan_id=plan.id,
            version=version,
            file_sha256=src.sha256,
            spec_sha256=spec_hash,
            source=src.path,
            task_rows=len(plan.tasks),
            tasks_created=len(to_create),
            rows_added=outcome.rows_added,
            rows_removed=outcome.rows_removed,
            lead_changes=outcome.lead_changes,
        )
    )
    insert_new_tasks(tx, to_create, actor=actor, role=ROLE, reason=f"plan {plan.id} v{version}")
    outcome.tasks_created = len(to_create)
    return outcome


def _amend(
    tx: Tx,
    actor: str,
    plan: PlanSpec,
    version: int,
    wanted: list[NewTask],
    existing: dict[tuple[str, str], TaskView],
) -> tuple[int, list[str]]:
    """Apply a new version's changes to the tasks its rows made before, each by
    compare-and-set with its `task.amend` entry; the lead units it would change, reported."""
    amended, lead_changes = 0, []
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
            before, after = getattr(current, name), getattr(new, name)
            if before != after:
                changes[name] = [_plain(before), _plain(after)]
                values[name] = (
                    json.dumps(after, ensure_ascii=False) if name == "cooperating_units" else after
                )
        if not changes:
            continue
        values["updated_at"] = tx.now
        event = TaskAmended(
            actor=actor,
            role=ROLE,
            organisation=current.organisation,
            task_id=current.id,
            plan_id=plan.id,
            from_state=current.state.value,
            to_state=current.state.value,
            plan_version=version,
            version=current.version + 1,
            changes=changes,
        )
        if tx.apply_to_task(current.id, current.version, values, event) is None:
            raise InvalidInput(f"task {current.id} changed while the plan was loading; load again")
        amended += 1
    return amended, lead_changes


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# ------------------------------------------------------------------ queries


def list_plans(ctx: Context) -> list[dict[str, Any]]:
    with ctx.uow.reading() as r:
        return r.plans.summaries()


def show_plan(ctx: Context, plan_id: str) -> dict[str, Any]:
    """The plan's header and its tasks grouped by index category, with their states."""
    with ctx.uow.reading() as r:
        found = r.plans.current(plan_id)
        if found is None:
            raise NotFound(f"plan {plan_id!r} does not exist")
        views = r.tasks.find(TaskFilter(plan=plan_id))
    row, current = found
    spec = current.spec()
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
