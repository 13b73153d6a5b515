"""Validating definition files: schema and cross-references, every problem in one run.

Each problem names its file, line and column, says what is wrong, and where one is obvious,
what would be right ("did you mean 'HCTH'?"). Reading and the schema: `parsing`; the checks
across fields and files: `references`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workflow.definitions.models import (
    ApologyRulesSpec,
    OrganisationSpec,
    PlanSpec,
    ProceduresSpec,
)
from workflow.definitions.parsing import (
    SUFFIXES,
    Definitions,
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
from workflow.definitions.source import Problem, SourceFile

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
    problems += procedure_and_rule_checks(found, known or {})
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
        problems += plan_checks(plan, src, org)
    for src in broken_plans:
        code = src.data.get("organisation")
        entry = found.organisations.get(code) if isinstance(code, str) else None
        problems += partial_plan_checks(src, entry[0] if entry else (known or {}).get(str(code)))
    return found, sorted(set(problems))
