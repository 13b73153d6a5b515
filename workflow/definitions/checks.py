"""Validating definition files: schema and cross-references, every problem in one run.

Each problem names its file, line and column, says what is wrong, and where one is obvious,
what would be right ("did you mean 'HCTH'?").
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from workflow.definitions import models
from workflow.definitions.models import (
    ApologyRulesSpec,
    OrganisationSpec,
    PlanSpec,
    ProceduresSpec,
)
from workflow.definitions.source import Loc, Problem, SourceError, SourceFile, read_source
from workflow.definitions.vocabulary import BY_CODE
from workflow.domain.roles import Role

SUFFIXES = (".yaml", ".yml")
KINDS: dict[str, type[BaseModel]] = {
    "organisation": OrganisationSpec,
    "plan": PlanSpec,
    "procedures": ProceduresSpec,
    "apology_rules": ApologyRulesSpec,
}
KIND_NAMES = "'organisation', 'plan', 'procedures' or 'apology_rules'"
ALL_FIELDS = sorted(
    {
        name
        for model in vars(models).values()
        if isinstance(model, type) and issubclass(model, BaseModel)
        for name in model.model_fields
    }
)
PATTERN_HELP = {
    models.CODE_PATTERN: "a code is upper-case ASCII letters, digits, '-' or '_', starting with a "
    "letter (e.g. HCTH)",
    models.SLUG_PATTERN: "an id is lower-case ASCII letters, digits, '.', '-' or '_' "
    "(e.g. qna.hcth.tran-thi-lan)",
    models.TASK_CODE_PATTERN: "a task code is letters or digits separated by dots (e.g. A.IV.2.1)",
}


@dataclass
class Definitions:
    """What a set of files declares, once every file parsed and matched its schema."""

    organisations: dict[str, tuple[OrganisationSpec, SourceFile]] = field(default_factory=dict)
    plans: list[tuple[PlanSpec, SourceFile]] = field(default_factory=list)
    procedures: list[tuple[ProceduresSpec, SourceFile]] = field(default_factory=list)
    rules: list[tuple[ApologyRulesSpec, SourceFile]] = field(default_factory=list)

    @property
    def task_rows(self) -> int:
        return sum(len(plan.tasks) for plan, _ in self.plans)


def suggest(word: str, choices: Iterable[str]) -> str:
    options = [c for c in choices if c != word]  # never "did you mean" the word itself
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not match:
        upper = {c.upper(): c for c in options}
        found = upper.get(word.upper().replace("&", "").replace(" ", ""))
        match = [found] if found else []
    return f"; did you mean '{match[0]}'?" if match else ""


def expand_paths(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
            if not found:
                problems.append(Problem(str(path), 1, 1, "no .yaml files in this folder"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(path), 1, 1, "no such file or folder"))
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, problems


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parse_file(path: Path) -> tuple[BaseModel | None, SourceFile | None, list[Problem]]:
    """Read one file and match it against the schema of its `kind`."""
    try:
        source = read_source(path, _display(path))
    except SourceError as exc:
        return None, None, exc.problems
    data = source.data
    if not isinstance(data, dict):
        return (
            None,
            source,
            [
                source.problem(
                    (),
                    f"expected a mapping with `kind:` ({KIND_NAMES}) at the top of the file",
                )
            ],
        )
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:  # a list or a mapping is not hashable
        where: Loc = ("kind",) if "kind" in data else ()
        got = f"'{kind}'" if "kind" in data else "nothing"
        return (
            None,
            source,
            [
                source.problem(
                    where,
                    f"`kind` must be {KIND_NAMES}, got {got}"
                    + (suggest(str(kind), KINDS) if isinstance(kind, str) else ""),
                )
            ],
        )
    try:
        return KINDS[kind].model_validate(data), source, []
    except ValidationError as exc:
        return None, source, [_schema_problem(source, err) for err in exc.errors()]


def _label(source: SourceFile, loc: Loc) -> str:
    parts: list[str] = []
    data: Any = source.data
    for item in loc:
        if isinstance(item, int):
            code = (
                data[item].get("code")
                if isinstance(data, list) and item < len(data) and isinstance(data[item], dict)
                else None
            )
            parts[-1] += f"[{item}]" + (f" ({code})" if isinstance(code, str) else "")
            data = data[item] if isinstance(data, list) and item < len(data) else None
        elif isinstance(data, dict) and item in data:
            parts.append(item)
            data = data[item]
        else:
            break  # a union tag, or a field that is not there
    return ".".join(parts)


def _schema_problem(source: SourceFile, err: ErrorDetails) -> Problem:
    loc: Loc = tuple(err["loc"])
    kind = err["type"]
    value = err.get("input")
    label = _label(source, loc)
    prefix = f"{label}: " if label else ""
    if kind == "missing":
        name = str(loc[-1])
        parent = _label(source, loc[:-1])
        return source.problem(
            loc[:-1], f"{parent + ': ' if parent else ''}missing required field '{name}'"
        )
    if kind == "extra_forbidden":
        name = str(loc[-1])
        return source.problem(loc, f"unknown field '{name}'{suggest(name, ALL_FIELDS)}", key=True)
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return source.problem(
            loc, f'{prefix}expected text but got the number {value}; put it in quotes: "{value}"'
        )
    if kind == "string_pattern_mismatch":
        pattern = (err.get("ctx") or {}).get("pattern", "")
        return source.problem(
            loc, f"{prefix}{value!r} is not valid: {PATTERN_HELP.get(pattern, err['msg'])}"
        )
    if kind == "literal_error" and "schedule" in loc and loc[-1] == "word":
        return source.problem(
            loc, f"{prefix}a schedule is one of: {models.SCHEDULE_FORMS}; got {value!r}"
        )
    if kind.startswith("date_") or kind == "date_type":
        return source.problem(loc, f"{prefix}expected a date written YYYY-MM-DD, got {value!r}")
    return source.problem(loc, f"{prefix}{err['msg']}")


# --------------------------------------------------------------------- cross-references


def _organisation_checks(spec: OrganisationSpec, src: SourceFile) -> list[Problem]:
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


def _plan_checks(plan: PlanSpec, src: SourceFile, org: OrganisationSpec | None) -> list[Problem]:
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


def _partial_plan_checks(src: SourceFile, org: OrganisationSpec | None) -> list[Problem]:
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


def _procedure_and_rule_checks(
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


def discover_organisation(plan_file: Path, code: str, levels: int = 3) -> Path | None:
    """The organisation file a plan belongs to: in its folder or a parent folder."""
    folder = plan_file.resolve().parent
    for _ in range(levels + 1):
        for candidate in sorted(folder.glob("*.y*ml")):
            if candidate.suffix not in SUFFIXES:
                continue
            try:
                head = candidate.read_text(encoding="utf-8")[:4000]
            except (OSError, UnicodeDecodeError):
                continue
            if "kind: organisation" in head and f"code: {code}" in head:
                return candidate
        folder = folder.parent
    return None


def validate(
    paths: Sequence[Path], known: dict[str, OrganisationSpec] | None = None
) -> tuple[Definitions, list[Problem]]:
    """Parse and check every file; return what is valid and every problem, sorted."""
    files, problems = expand_paths(paths)
    found = Definitions()
    broken_plans: list[SourceFile] = []
    seen_files = set(files)
    queue = list(files)
    while queue:
        path = queue.pop(0)
        spec, source, file_problems = parse_file(path)
        problems += file_problems
        if (
            spec is None
            and source is not None
            and isinstance(source.data, dict)
            and (source.data.get("kind") == "plan")
        ):
            broken_plans.append(source)
        declared = (
            source.data.get("organisation") if source and isinstance(source.data, dict) else None
        )
        if (
            isinstance(declared, str)
            and source is not None
            and source.data.get("kind") in ("plan", "procedures")
            and declared not in found.organisations
            and not (known and declared in known)
        ):
            extra = discover_organisation(path, declared)
            if extra is not None and extra.resolve() not in seen_files:
                seen_files.add(extra.resolve())
                queue.insert(0, extra)
        if isinstance(spec, OrganisationSpec) and source is not None:
            if spec.code in found.organisations:
                problems.append(
                    source.problem(
                        ("code",),
                        f"organisation {spec.code} is also defined in "
                        f"{found.organisations[spec.code][1].path}",
                    )
                )
                continue
            found.organisations[spec.code] = (spec, source)
        elif isinstance(spec, PlanSpec) and source is not None:
            found.plans.append((spec, source))
        elif isinstance(spec, ProceduresSpec) and source is not None:
            found.procedures.append((spec, source))
        elif isinstance(spec, ApologyRulesSpec) and source is not None:
            found.rules.append((spec, source))
    problems += _procedure_and_rule_checks(found, known or {})
    plan_ids: dict[str, str] = {}
    for org_spec, src in found.organisations.values():
        problems += _organisation_checks(org_spec, src)
    for plan, src in found.plans:
        if plan.id in plan_ids:
            problems.append(
                src.problem(("id",), f"plan id '{plan.id}' is also used by {plan_ids[plan.id]}")
            )
        plan_ids.setdefault(plan.id, src.path)
        org_entry = found.organisations.get(plan.organisation)
        org: OrganisationSpec | None = (
            org_entry[0] if org_entry else (known or {}).get(plan.organisation)
        )
        if org is None:
            names = set(found.organisations) | set(known or {})
            problems.append(
                src.problem(
                    ("organisation",),
                    f"unknown organisation '{plan.organisation}'"
                    f"{suggest(plan.organisation, names)}; give its organisation file "
                    "too, or load it first",
                )
            )
        problems += _plan_checks(plan, src, org)
    for src in broken_plans:
        code = src.data.get("organisation")
        entry = found.organisations.get(code) if isinstance(code, str) else None
        problems += _partial_plan_checks(src, entry[0] if entry else (known or {}).get(str(code)))
    return found, sorted(set(problems))
