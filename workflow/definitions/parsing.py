"""Reading definition files: which files, each parsed and matched against the schema of its
`kind`; every problem with its file, line and column and, where one is obvious, what would be
right ("did you mean 'HCTH'?").
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
from workflow.definitions.vocabulary import CATEGORIES
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
# What a missing field would accept, where it is a fixed vocabulary.
ALLOWED: dict[str, str] = {
    "kind": KIND_NAMES,
    "category": ", ".join(c.code for c in CATEGORIES),
    "roles": ", ".join(r.value for r in Role),
}
# Pydantic's type errors, said as what the value should have been.
LIBRARY_WORDS: dict[str, str] = {
    "int_parsing": "a whole number (write digits only, e.g. 30)",
    "int_type": "a whole number (write digits only, e.g. 30)",
    "int_from_float": "a whole number (write digits only, e.g. 30)",
    "float_parsing": "a number (e.g. 0.3)",
    "float_type": "a number (e.g. 0.3)",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
    "list_type": "a list (write it as [A, B] or one '- item' a line)",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
}
PATTERN_HELP = {
    models.CODE_PATTERN: "a code is upper-case ASCII letters, digits, '-' or '_', starting with a "
    "letter (e.g. HCTH)",
    models.SLUG_PATTERN: "an id is lower-case ASCII letters, digits, '.', '-' or '_' "
    "(e.g. qna.hcth.tran-thi-lan)",
    models.TASK_CODE_PATTERN: "a task code is letters or digits separated by dots (e.g. A.IV.2.1)",
    models.ABBREVIATION_PATTERN: "an abbreviation (ký hiệu) is capital letters (Đ too), digits, "
    "'&' or '-', starting with a letter (e.g. SCT, SKHĐT)",
    models.AUTHORITY_PATTERN: "a signing authority is KT., TL., TUQ. or Q. followed by a space "
    "and the head's title (e.g. 'KT. GIÁM ĐỐC')",
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


def display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parse_file(path: Path) -> tuple[BaseModel | None, SourceFile | None, list[Problem]]:
    """Read one file and match it against the schema of its `kind`."""
    try:
        source = read_source(path, display(path))
    except SourceError as exc:
        if exc.source is None:
            return None, None, exc.problems
        # Read in part (a duplicate key, a value that is not valid): its schema is checked in
        # the same run, but it is not taken.
        _, partial, more = _match(exc.source)
        return None, partial, exc.problems + more
    return _match(source)


def _match(source: SourceFile) -> tuple[BaseModel | None, SourceFile | None, list[Problem]]:
    """Match parsed data against the schema of its `kind`."""
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
        return (
            None,
            source,
            [
                _schema_problem(source, err)
                for err in exc.errors()
                if not _within(tuple(err["loc"]), source.unreadable)
            ],
        )


def _within(loc: Loc, unreadable: set[Loc]) -> bool:
    """Whether a schema error is about a value already reported as unreadable."""
    return any(loc[: len(bad)] == bad for bad in unreadable)


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
        allowed = ALLOWED.get(name)
        return source.problem(
            loc[:-1],
            f"{parent + ': ' if parent else ''}missing required field '{name}'"
            + (f"; one of: {allowed}" if allowed else ""),
        )
    if kind == "extra_forbidden":
        name = str(loc[-1])
        if loc[:1] == ("documents",) and loc[1:2] in (("signers",), ("recipients",)):
            kinds = ", ".join(models.DOCUMENT_KINDS)
            return source.problem(
                loc, f"unknown kind of document '{name}'; one of: {kinds}", key=True
            )
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
        return source.problem(loc, f"{prefix}{value!r} is not a date; expected YYYY-MM-DD")
    if kind in ("literal_error", "enum"):
        expected = (err.get("ctx") or {}).get("expected", "")
        return source.problem(loc, f"{prefix}{value!r} is not allowed; expected {expected}")
    if kind in LIBRARY_WORDS:
        return source.problem(loc, f"{prefix}{value!r} is not {LIBRARY_WORDS[kind]}")
    # Any other check: the library's words, with the value given so it can be found.
    shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
    return source.problem(loc, f"{prefix}{err['msg']}{shown}")
