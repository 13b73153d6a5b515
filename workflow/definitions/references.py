"""The checks across fields and across files: the units, people and groups an organisation
declares, what a plan names, schedules inside the plan's period, procedures and rule sets.
Each returns its problems; none raises.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from workflow.definitions import models
from workflow.definitions.models import (
    OrganisationSpec,
    PlanSpec,
)
from workflow.definitions.parsing import Definitions, suggest
from workflow.definitions.source import Loc, Problem, SourceFile
from workflow.definitions.vocabulary import BY_CODE
from workflow.domain.issuing import recipient_key
from workflow.domain.roles import Role


def organisation_checks(spec: OrganisationSpec, src: SourceFile) -> list[Problem]:
    problems: list[Problem] = []
    unit_codes = [u.code for u in spec.units]
    problems += _duplicates(
        src, [("units", i, "code") for i in range(len(unit_codes))], unit_codes, "unit code"
    )
    group_codes = [g.code for g in spec.groups]
    problems += _duplicates(
        src, [("groups", i, "code") for i in range(len(group_codes))], group_codes, "group code"
    )
    person_ids = [p.id for p in spec.people]
    problems += _duplicates(
        src, [("people", i, "id") for i in range(len(person_ids))], person_ids, "person id"
    )
    units = set(unit_codes)
    if spec.office_unit not in units:
        problems.append(
            src.problem(
                ("office_unit",),
                f"office_unit '{spec.office_unit}' is not one of the "
                f"units{suggest(spec.office_unit, units)}",
            )
        )
    for i, group in enumerate(spec.groups):
        if group.code in units:
            problems.append(
                src.problem(
                    ("groups", i, "code"),
                    f"group '{group.code}' has the code of a unit; give the group its own code",
                )
            )
        if group.units != "all":
            for j, code in enumerate(group.units):
                if code not in units:
                    problems.append(
                        src.problem(
                            ("groups", i, "units", j),
                            f"unknown unit '{code}' in group '{group.code}'{suggest(code, units)}",
                        )
                    )
    for i, person in enumerate(spec.people):
        if person.unit not in units:
            problems.append(
                src.problem(
                    ("people", i, "unit"),
                    f"unknown unit '{person.unit}' for {person.id}{suggest(person.unit, units)}",
                )
            )
    problems += _inspection_checks(spec, src, units)
    problems += _documents_checks(spec, src)
    off = {d.date for d in spec.calendar.days_off}
    for i, day in enumerate(spec.calendar.working_days):
        if day.date in off:
            problems.append(
                src.problem(
                    ("calendar", "working_days", i, "date"),
                    f"{day.date} is both a day off and a working day; keep one",
                )
            )
    return problems


def _inspection_checks(spec: OrganisationSpec, src: SourceFile, units: set[str]) -> list[Problem]:
    inspection = spec.inspection
    if inspection is None:
        return []
    problems = []
    if inspection.unit not in units:
        problems.append(
            src.problem(
                ("inspection", "unit"),
                f"inspection unit '{inspection.unit}' is not one of the "
                f"units{suggest(inspection.unit, units)}",
            )
        )
    groups = {g.code for g in spec.groups}
    if isinstance(inspection.units, str):
        if inspection.units != "all" and inspection.units not in groups:
            problems.append(
                src.problem(
                    ("inspection", "units"),
                    f"'{inspection.units}' is neither `all` nor a group"
                    f"{suggest(inspection.units, groups)}; name a group or list unit codes",
                )
            )
    else:
        for i, code in enumerate(inspection.units):
            if code not in units:
                problems.append(
                    src.problem(
                        ("inspection", "units", i),
                        f"unknown unit '{code}' in inspection units{suggest(code, units)}",
                    )
                )
    people = {p.id for p in spec.people}
    if inspection.signer is not None and inspection.signer not in people:
        problems.append(
            src.problem(
                ("inspection", "signer"),
                f"unknown person '{inspection.signer}'{suggest(inspection.signer, people)}",
            )
        )
    if not problems and not spec.inspected_units():
        problems.append(
            src.problem(
                ("inspection", "units"),
                "no unit is left to inspect once the inspection team is set aside; "
                "name the units it inspects",
            )
        )
    if (
        not any(p.unit == inspection.unit and Role.INSPECTOR in p.roles for p in spec.people)
        and not problems
    ):
        problems.append(
            src.problem(
                ("inspection", "unit"),
                f"nobody in '{inspection.unit}' holds the inspector role: give at least one "
                "person of the team `roles: [inspector]`",
            )
        )
    return problems


def _documents_checks(spec: OrganisationSpec, src: SourceFile) -> list[Problem]:
    """The `documents:` block: each signer a person of the organisation; each kind's
    recipients listed once, the file copy ('Lưu: ...') last."""
    documents = spec.documents
    if documents is None:
        return []
    problems: list[Problem] = []
    people = {p.id for p in spec.people}
    for kind in models.DOCUMENT_KINDS:
        signer = getattr(documents.signers, kind)
        if signer is not None and signer.person not in people:
            problems.append(
                src.problem(
                    ("documents", "signers", kind, "person"),
                    f"unknown person '{signer.person}' in {spec.code}: a signer is one of "
                    f"its people{suggest(signer.person, people)}",
                )
            )
        lines: list[str] = getattr(documents.recipients, kind)
        at: list[Loc] = [("documents", "recipients", kind, i) for i in range(len(lines))]
        folded = [recipient_key(line) for line in lines]
        first: dict[str, int] = {}
        for i, line in enumerate(folded):
            if line in first:
                seen = src.where(at[first[line]])[0]
                problems.append(
                    src.problem(
                        at[i], f"recipient '{lines[i]}' is listed twice (first on line {seen})"
                    )
                )
            first.setdefault(line, i)
        for i, line in enumerate(folded[:-1]):
            if line.startswith("lưu"):
                problems.append(
                    src.problem(
                        at[i],
                        f"'{lines[i]}' is the file copy; it comes last among the recipients",
                    )
                )
    return problems


def _duplicates(src: SourceFile, locs: list[Loc], values: list[str], what: str) -> list[Problem]:
    first: dict[str, Loc] = {}
    problems = []
    for loc, value in zip(locs, values, strict=True):
        if value in first:
            line = src.where(first[value])[0]
            problems.append(src.problem(loc, f"duplicate {what} '{value}' (first on line {line})"))
        else:
            first.setdefault(value, loc)
    return problems


def plan_checks(plan: PlanSpec, src: SourceFile, org: OrganisationSpec | None) -> list[Problem]:
    problems: list[Problem] = []
    problems += _duplicates(
        src,
        [("schedules", i, "id") for i in range(len(plan.schedules))],
        [s.id for s in plan.schedules],
        "schedule id",
    )
    start, end = plan.period.start, plan.period.end
    for i, schedule in enumerate(plan.schedules):
        for j, day in enumerate(schedule.dates):
            if not start <= day <= end:
                problems.append(
                    src.problem(("schedules", i, "dates", j), _outside(day, plan.period))
                )
    for i, deadline in enumerate(plan.report_deadlines):
        if deadline.due < start:
            problems.append(
                src.problem(
                    ("report_deadlines", i, "due"),
                    f"report due {deadline.due} before the plan's period starts ({start})",
                )
            )
    if org is not None and plan.signer is not None:
        people = {p.id for p in org.people}
        if plan.signer not in people:
            problems.append(
                src.problem(
                    ("signer",),
                    f"unknown person '{plan.signer}' in {org.code}{suggest(plan.signer, people)}",
                )
            )
    named = {s.id for s in plan.schedules}
    return problems + _task_checks(src, list(enumerate(plan.tasks)), org, plan.period, named)


def partial_plan_checks(src: SourceFile, org: OrganisationSpec | None) -> list[Problem]:
    """A plan that failed its schema: still check the rows that are valid on their own."""
    rows = src.data.get("tasks") if isinstance(src.data, dict) else None
    if not isinstance(rows, list):
        return []
    valid = []
    for i, row in enumerate(rows):
        try:
            valid.append((i, models.TaskSpec.model_validate(row)))
        except ValidationError:
            continue
    return _task_checks(src, valid, org, None, None)


def _task_checks(
    src: SourceFile,
    tasks: list[tuple[int, models.TaskSpec]],
    org: OrganisationSpec | None,
    period: models.Period | None,
    named: set[str] | None,
) -> list[Problem]:
    problems = _duplicates(
        src, [("tasks", i, "code") for i, _ in tasks], [t.code for _, t in tasks], "task code"
    )
    units: set[str] = {u.code for u in org.units} if org else set()
    groups: set[str] = {g.code for g in org.groups} if org else set()
    for i, task in tasks:
        at: Loc = ("tasks", i)
        if task.category not in BY_CODE:
            hint = (
                suggest(task.category, BY_CODE) or "; `planflow plans schema` lists the categories"
            )
            problems.append(
                src.problem((*at, "category"), f"unknown category '{task.category}'{hint}")
            )
        if period is not None:
            problems += _schedule_checks(src, at, task.schedule, period, named or set())
        if org is None:
            continue
        if task.lead_unit not in units:
            hint = (
                (
                    f"; '{task.lead_unit}' is a group: a task has one lead unit, name the others "
                    "in cooperating_units"
                )
                if task.lead_unit in groups
                else suggest(task.lead_unit, units)
            )
            problems.append(
                src.problem((*at, "lead_unit"), f"unknown unit '{task.lead_unit}'{hint}")
            )
        for j, code in enumerate(task.cooperating_units):
            if code == task.lead_unit:
                problems.append(
                    src.problem(
                        (*at, "cooperating_units", j),
                        f"cooperating unit '{code}' is the lead unit itself; remove it",
                    )
                )
            elif code not in units and code not in groups:
                problems.append(
                    src.problem(
                        (*at, "cooperating_units", j),
                        f"unknown unit or group '{code}'{suggest(code, units | groups)}",
                    )
                )
    return problems


def _schedule_checks(
    src: SourceFile, at: Loc, schedule: Any, period: models.Period, named: set[str]
) -> list[Problem]:
    start, end = period.start, period.end
    if isinstance(schedule, models.ByDate) and not start <= schedule.by <= end:
        return [src.problem((*at, "schedule", "by"), _outside(schedule.by, period))]
    if (
        isinstance(schedule, models.WithinYear)
        and not start.year <= schedule.within_year <= end.year
    ):
        return [
            src.problem(
                (*at, "schedule", "within_year"),
                f"year {schedule.within_year} is outside the plan's period ({start} to {end})",
            )
        ]
    if schedule == "within_year" and start.year != end.year:
        return [
            src.problem(
                (*at, "schedule"),
                f"the plan spans {start.year}-{end.year}; say which year: "
                f"{{within_year: {start.year}}}",
            )
        ]
    if isinstance(schedule, models.PerSchedule) and schedule.per not in named:
        return [
            src.problem(
                (*at, "schedule", "per"),
                f"unknown schedule '{schedule.per}'"
                f"{suggest(schedule.per, named)}; declare it under `schedules:`",
            )
        ]
    return []


def _outside(day: Any, period: models.Period) -> str:
    return f"date {day} is outside the plan's period ({period.start} to {period.end})"


def procedure_and_rule_checks(
    found: Definitions, known: dict[str, OrganisationSpec]
) -> list[Problem]:
    problems: list[Problem] = []
    for spec, src in found.procedures:
        entry = found.organisations.get(spec.organisation)
        org = entry[0] if entry else known.get(spec.organisation)
        if org is None:
            names = set(found.organisations) | set(known)
            problems.append(
                src.problem(
                    ("organisation",),
                    f"unknown organisation '{spec.organisation}'"
                    f"{suggest(spec.organisation, names)}; give its organisation file too",
                )
            )
            continue
        codes = [p.code for p in spec.procedures]
        locs: list[Loc] = [("procedures", i, "code") for i in range(len(codes))]
        problems += _duplicates(src, locs, codes, "procedure code")
        units = {u.code for u in org.units}
        for i, procedure in enumerate(spec.procedures):
            if procedure.unit not in units:
                problems.append(
                    src.problem(
                        ("procedures", i, "unit"),
                        f"unknown unit '{procedure.unit}'{suggest(procedure.unit, units)}",
                    )
                )
    seen: dict[str, str] = {}
    starts: dict[Any, str] = {}
    for rule, src in found.rules:
        if rule.id in seen:
            problems.append(
                src.problem(("id",), f"rule set '{rule.id}' is also in {seen[rule.id]}")
            )
        if rule.effective_from in starts:
            problems.append(
                src.problem(
                    ("effective_from",),
                    f"rule set '{starts[rule.effective_from]}' takes effect on the same day; "
                    "give each legal regime its own date",
                )
            )
        seen.setdefault(rule.id, src.path)
        starts.setdefault(rule.effective_from, rule.id)
    return problems
