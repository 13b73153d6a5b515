"""Validating definition files: schema and cross-references, every problem in one run.

Each problem names its file, line and column, says what is wrong, and where one is obvious,
what would be right ("did you mean 'HCTH'?"). Reading and the schema: `parsing`; the checks
across fields and files: `references`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from workflow.definitions.models import (
    ApologyRulesSpec,
    OrganisationSpec,
    PlanSpec,
    ProceduresSpec,
)
from workflow.definitions.parsing import (
    KINDS,
    SUFFIXES,
    Definitions,
    display,
    expand_paths,
    parse_file,
    suggest,
)
from workflow.definitions.references import (
    organisation_checks,
    partial_plan_checks,
    plan_checks,
    procedure_and_rule_checks,
)
from workflow.definitions.source import Loc, Problem, SourceFile

__all__ = ["Definitions", "discover_organisation", "suggest", "validate"]


def discover_organisation(plan_file: Path, code: str, levels: int = 3) -> Path | None:
    """The organisation file a plan belongs to: in its folder or a parent folder."""
    folder = plan_file.resolve().parent
    for _ in range(levels + 1):
        for candidate in sorted(folder.glob("*.y*ml")):
            if candidate.suffix not in SUFFIXES:
                continue
            try:
                # Its head only: a neighbouring file of any size is never read whole.
                with candidate.open("rb") as handle:
                    head = handle.read(16_000).decode("utf-8", errors="ignore")[:4000]
            except OSError:
                continue
            if "kind: organisation" in head and f"code: {code}" in head:
                return candidate
        folder = folder.parent
    return None


_HEAD_CODE = re.compile(r"^code:\s*['\"]?([A-Z][A-Z0-9_-]*)", re.MULTILINE)


def _organisation_named_in(path: Path) -> str | None:
    """The code an organisation file declares, read from its text: for a file that does not
    parse, so that the files naming it are not told to give it too."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16_000).decode("utf-8", errors="ignore")
    except OSError:
        return None
    match = _HEAD_CODE.search(head) if "kind: organisation" in head else None
    return match.group(1) if match else None


def _pick(data: Any, loc: Loc) -> Loc | None:
    """What to set aside for a schema error at `loc`: the innermost list item holding it
    (a task, a unit, a person, a date), or None when it is in no list."""
    walked: list[str | int] = []
    item: Loc | None = None
    value = data
    for part in loc:
        if isinstance(value, list) and isinstance(part, int) and part < len(value):
            walked.append(part)
            item = tuple(walked)
            value = value[part]
        elif isinstance(value, dict) and isinstance(part, str) and part in value:
            walked.append(part)
            value = value[part]
        else:
            break  # a union's tag, or a field that is not there
    return item


# Required headings that no check across fields or files reads: a missing or bad one is
# stood in for, so that the rest of its file is still checked in the same run.
FILLABLE = frozenset({"name", "province", "title", "issuer"})


def _without(value: Any, loc: Loc, dropped: set[Loc]) -> Any:
    if isinstance(value, dict):
        return {
            k: _without(v, (*loc, k), dropped) for k, v in value.items() if (*loc, k) not in dropped
        }
    if isinstance(value, list):
        return [
            _without(v, (*loc, i), dropped) for i, v in enumerate(value) if (*loc, i) not in dropped
        ]
    return value


def _moved(loc: Loc, dropped: set[Loc]) -> Loc | None:
    """Where `loc` is once the `dropped` items are gone (None: it went with them)."""
    out: list[str | int] = []
    for k, part in enumerate(loc):
        if loc[: k + 1] in dropped:
            return None
        if isinstance(part, int):
            parent = loc[:k]
            part -= sum(
                1 for d in dropped if d[:-1] == parent and isinstance(d[-1], int) and d[-1] < part
            )
        out.append(part)
    return tuple(out)


def _salvage(
    model: type[BaseModel], source: SourceFile
) -> tuple[BaseModel, SourceFile, list[Any]] | None:
    """A file that failed its schema, without the list items (and optional fields) that
    failed: so that the checks across fields and files run on the rest in the same run,
    instead of after the schema problems are fixed. Positions follow the items they moved
    with. Also returns the values set aside, which other files may still name."""
    data, current = source.data, source
    aside: list[Any] = []
    for _ in range(5):  # each round sets aside at least one item; few are needed
        try:
            return model.model_validate(data), current, aside
        except ValidationError as exc:
            errors = exc.errors()
        dropped: set[Loc] = set()
        fills: dict[str, str] = {}
        for err in errors:
            loc: Loc = tuple(err["loc"])
            item = _pick(data, loc)
            if item is None:
                top = loc[0] if loc else None
                if top in FILLABLE and top in model.model_fields:
                    fills[str(top)] = "?"  # a heading no other item refers to
                    continue
                if not isinstance(top, str) or top not in data:
                    return None
                field = model.model_fields.get(top)
                if field is not None and field.is_required():
                    return None
                item = (top,)  # an optional field, or one the schema does not know
            dropped.add(item)
        for loc in dropped:
            value: Any = data
            for part in loc:
                value = value[part]
            aside.append(value)
        moved = SourceFile(current.path, {**_without(data, (), dropped), **fills}, current.sha256)
        for table, into in ((current.values, moved.values), (current.keys, moved.keys)):
            for loc, position in table.items():
                new = _moved(loc, dropped)
                if new is not None:
                    into[new] = position
        data, current = moved.data, moved
    return None


def _names(items: list[Any]) -> set[str]:
    """The codes and ids of items set aside: what other items may name them by."""
    return {
        item[key]
        for item in items
        if isinstance(item, dict)
        for key in ("code", "id")
        if isinstance(item.get(key), str)
    }


def validate(
    paths: Sequence[Path], known: dict[str, OrganisationSpec] | None = None
) -> tuple[Definitions, list[Problem]]:
    """Parse and check every file; return what is valid and every problem, sorted.

    Every stage runs on every file in one run: a file that fails its schema is still checked
    across fields and files without the items that failed (`_salvage`), and an organisation
    file that does not parse still counts as given for the files that name it."""
    files, problems = expand_paths(paths)
    found = Definitions()
    # What the other files are checked against, valid files and salvaged ones alike.
    checked = Definitions()
    broken_orgs: set[str] = set()  # given, but unreadable: the files naming them are spared
    set_aside: set[str] = set()  # codes and ids of the items that failed their schema
    broken_plans: list[SourceFile] = []
    seen_files = set(files)
    queue = list(files)
    order: dict[str, int] = {}
    while queue:
        path = queue.pop(0)
        order.setdefault(display(path), len(order))
        spec, source, file_problems = parse_file(path)
        problems += file_problems
        if spec is None:
            code = _organisation_named_in(path)
            if code is not None:
                broken_orgs.add(code)
            kind = source.data.get("kind") if source and isinstance(source.data, dict) else None
            model = KINDS.get(kind) if isinstance(kind, str) else None
            saved = _salvage(model, source) if model is not None and source else None
            if saved is not None:
                salvaged, salvaged_source, aside = saved
                set_aside |= _names(aside)
                _file(checked, salvaged, salvaged_source)
            elif kind == "plan" and source is not None:
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
        if spec is not None and source is not None:
            problems += _file(found, spec, source)
            _file(checked, spec, source)
    across = _cross_checks(checked, known or {}, broken_orgs)
    for src in broken_plans:
        code = src.data.get("organisation")
        entry = checked.organisations.get(code) if isinstance(code, str) else None
        across += partial_plan_checks(src, entry[0] if entry else (known or {}).get(str(code)))
    # An item that failed its schema is reported once, for itself: not again by each item
    # that names it ("unknown unit 'X'" when unit X only lacks its name).
    problems += [
        p
        for p in across
        if not (p.message.startswith("unknown ") and any(f"'{w}'" in p.message for w in set_aside))
    ]
    # In the order the files were given (then read), each file's from top to bottom.
    return found, sorted(
        set(problems),
        key=lambda p: (order.get(p.file, len(order)), p.file, p.line, p.column, p.message),
    )


def _file(into: Definitions, spec: BaseModel, source: SourceFile) -> list[Problem]:
    """File one parsed spec under its kind; a second organisation of the same code is a
    problem."""
    if isinstance(spec, OrganisationSpec):
        if spec.code in into.organisations:
            first = into.organisations[spec.code][1].path
            return [
                source.problem(("code",), f"organisation {spec.code} is also defined in {first}")
            ]
        into.organisations[spec.code] = (spec, source)
    elif isinstance(spec, PlanSpec):
        into.plans.append((spec, source))
    elif isinstance(spec, ProceduresSpec):
        into.procedures.append((spec, source))
    elif isinstance(spec, ApologyRulesSpec):
        into.rules.append((spec, source))
    return []


def _cross_checks(
    found: Definitions, known: dict[str, OrganisationSpec], broken_orgs: set[str]
) -> list[Problem]:
    """The checks across fields and files, on every file that got past its schema."""
    problems = [
        p
        for p in procedure_and_rule_checks(found, known)
        if not any(f"unknown organisation '{code}'" in p.message for code in broken_orgs)
    ]
    plan_ids: dict[str, str] = {}
    for org_spec, src in found.organisations.values():
        problems += organisation_checks(org_spec, src)
    for plan, src in found.plans:
        if plan.id in plan_ids:
            problems.append(
                src.problem(("id",), f"plan id '{plan.id}' is also used by {plan_ids[plan.id]}")
            )
        plan_ids.setdefault(plan.id, src.path)
        org_entry = found.organisations.get(plan.organisation)
        org: OrganisationSpec | None = org_entry[0] if org_entry else known.get(plan.organisation)
        if org is None and plan.organisation not in broken_orgs:
            names = set(found.organisations) | set(known)
            problems.append(
                src.problem(
                    ("organisation",),
                    f"unknown organisation '{plan.organisation}'"
                    f"{suggest(plan.organisation, names)}; give its organisation file "
                    "too, or load it first",
                )
            )
        problems += plan_checks(plan, src, org)
    return problems
