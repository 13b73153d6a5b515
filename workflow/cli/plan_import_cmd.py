"""`planflow plans import`: a plan written for people (a Word or Excel task table, or text
pasted or OCR'd with --from-text) into a commented plan file, then validated.

Exit codes: 0 written and valid; 2 the input cannot be read (one line), the organisation is
not found, or the written file has problems (each on its own line, naming the table's row
and column): the file is still written, so that the person fixes those lines in it.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workflow.cli.new_files import refuse_existing, write_new
from workflow.cli.runtime import RUNTIME
from workflow.errors import DefinitionProblems, InvalidInput, ManyProblems, PlanflowError
from workflow.lazy import lazy_module

# python-docx, openpyxl and pydantic load when the command runs, not with `planflow --help`.
if TYPE_CHECKING:
    from workflow.definitions import scaffold
    from workflow.definitions.models import OrganisationSpec
    from workflow.definitions.plan_import import build as plan_build
    from workflow.definitions.plan_import import tables
    from workflow.definitions.plan_import.rows import RawPlan
else:
    scaffold = lazy_module("workflow.definitions.scaffold")
    plan_build = lazy_module("workflow.definitions.plan_import.build")
    tables = lazy_module("workflow.definitions.plan_import.tables")


def register(root: typer.Typer) -> None:
    """`import` goes under `planflow plans`: the group plans_cmd registered before."""
    plans = next(g.typer_instance for g in root.registered_groups if g.name == "plans")
    assert plans is not None
    plans.command("import")(import_cmd)


def import_cmd(
    org: Annotated[str, typer.Option("--org", help="Code of the organisation whose plan it is")],
    file: Annotated[
        Path | None,
        typer.Argument(help="The plan: a Word .docx or Excel .xlsx file with its task table."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write the plan file here (never over an existing one); default stdout."
        ),
    ] = None,
    from_text: Annotated[
        Path | None,
        typer.Option("--from-text", help="Read a plan pasted or OCR'd as text instead."),
    ] = None,
    plan_id: Annotated[
        str | None, typer.Option("--id", help="The plan's id (default: from the file's name)")
    ] = None,
    year: Annotated[
        int | None,
        typer.Option("--year", help="The plan's year, when the document does not say it"),
    ] = None,
) -> None:
    """Read a plan's task table (Word, Excel; or text) into a plan file, then validate it.

    Every value guessed gets a Vietnamese comment (ĐOÁN, GẦN ĐÚNG, KHÔNG HIỂU); a problem is
    one line naming the table's row and column, marked VẤN ĐỀ in the file (exit 2, the file
    is still written)."""
    if not scaffold.valid_code(org):
        raise InvalidInput(
            f"organisation code {org!r} is not valid: upper-case ASCII letters, digits, '-' or "
            "'_', starting with a letter (e.g. KHA-SCT)"
        )
    if (file is None) == (from_text is None):
        raise InvalidInput(
            "give the plan's file (FILE.docx or FILE.xlsx) or --from-text FILE.txt, one of the two"
        )
    if year is not None and not 1990 <= year <= 2100:
        raise InvalidInput(f"--year {year} is not a year between 1990 and 2100")
    refuse_existing(out)
    raw = _read(file, from_text)
    spec, org_file = _organisation(org, out)
    options = plan_build.Options(plan_id=plan_id, year=year, schema=scaffold.schema_line(out))
    built = plan_build.build(raw, spec, options)
    write_new(built.text, out)
    problems = list(built.problems) + _validated(built.text, out, spec, org_file)
    for line in built.skipped:
        typer.echo(f"skipped {line}", err=True)
    target = str(out) if out is not None else "stdout"
    summary = (
        f"imported {built.tasks} task{'s' if built.tasks != 1 else ''} from {raw.source} to "
        f"{target}: {built.guesses} guesses commented, {len(problems)} "
        f"problem{'s' if len(problems) != 1 else ''}"
    )
    if problems:
        raise ManyProblems(
            problems,
            f"{summary}; the file is written: fix the lines marked VẤN ĐỀ, then run "
            "planflow plans validate",
        )
    typer.echo(
        f"{summary}; review the comments marked ĐOÁN, then: planflow plans validate", err=True
    )


def _read(file: Path | None, from_text: Path | None) -> RawPlan:
    if from_text is not None:
        try:
            text = importlib.import_module("workflow.definitions.plan_import.text")
        except ModuleNotFoundError:
            raise InvalidInput("--from-text is not available in this version") from None
        if not from_text.is_file():
            raise InvalidInput(f"{from_text}: no such file")
        try:
            raw: RawPlan = text.read_text(from_text)
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{from_text}: cannot read it as text ({exc})") from None
        if not raw.items:
            raise InvalidInput(f"{from_text}: no numbered item found (1., I., a), -)")
        return raw
    assert file is not None
    try:
        return tables.read_tables(file)
    except tables.Unreadable as exc:
        raise InvalidInput(str(exc)) from None


def _organisation(code: str, out: Path | None) -> tuple[OrganisationSpec, Path | None]:
    """Like `plans validate`: an organisation file beside the output or in a folder above
    it, or in the current folder's definitions/; else the database's."""
    from workflow.definitions.checks import discover_organisation, validate

    found = discover_organisation((out or Path("plan.yaml")).absolute(), code)
    if found is None and Path("definitions").is_dir():
        folders = sorted({p.parent for p in Path("definitions").rglob("*.y*ml")})
        found = next(
            (f for d in folders if (f := discover_organisation(d / "plan.yaml", code, 0))), None
        )
    if found is not None:
        orgs, problems = validate([found])
        if problems:
            raise DefinitionProblems(problems, loading=False)
        return orgs.organisations[code][0], found
    loaded = _loaded(code)
    if loaded is not None:
        return loaded, None
    raise InvalidInput(
        f"organisation {code} not found: put its organisation file (kind: organisation, code: "
        f"{code}) in the --out folder or a folder above it, or load it first with planflow "
        "plans load"
    )


def _loaded(code: str) -> OrganisationSpec | None:
    """The organisation in the database, when there is one to read (never made here)."""
    if (
        RUNTIME.db is None
        and not os.environ.get("PLANFLOW_DB")
        and not Path("planflow.db").exists()
    ):
        return None
    from workflow.cli.runtime import context
    from workflow.services import organisations as org_service

    try:
        return org_service.known_organisations(context()).get(code)
    except PlanflowError:
        return None


def _validated(
    text: str, out: Path | None, spec: OrganisationSpec, org_file: Path | None
) -> list[str]:
    """`plans validate` on the written file, with its organisation: the problems, one line
    each (the file's line and column)."""
    from workflow.definitions.checks import validate

    known = None if org_file is not None else {spec.code: spec}
    if out is not None:
        _, problems = validate([*([org_file] if org_file else []), out], known)
        return [str(p) for p in problems]
    with tempfile.TemporaryDirectory() as folder:
        written = Path(folder) / "plan.yaml"
        written.write_text(text, encoding="utf-8")
        _, problems = validate([*([org_file] if org_file else []), written], known)
        return [str(p).replace(str(written), "<stdout>") for p in problems]
