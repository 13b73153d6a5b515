"""`planflow plans ...`, `planflow orgs ...` and `planflow lifecycle diagram`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workflow.cli.new_files import write_new
from workflow.cli.options import FormatOpt, parse_format
from workflow.cli.output import Format, render_object, render_rows, to_json
from workflow.cli.runtime import access_of, context, host_context, production
from workflow.cli.terminal import visible
from workflow.definitions.vocabulary import CATEGORIES
from workflow.domain.access import Permission
from workflow.domain.diagram import mermaid
from workflow.domain.roles import Role
from workflow.errors import DefinitionProblems, InvalidInput, PermissionDenied
from workflow.lazy import lazy_module

# The services and the store load when a command first uses them, not with every command.
if TYPE_CHECKING:
    from workflow.context import Context
    from workflow.definitions import scaffold
    from workflow.definitions.checks import Definitions
    from workflow.definitions.models import OrganisationSpec
    from workflow.services import accounts as account_service
    from workflow.services import organisations as org_service
    from workflow.services import plans as plan_service
else:
    scaffold = lazy_module("workflow.definitions.scaffold")
    account_service = lazy_module("workflow.services.accounts")
    org_service = lazy_module("workflow.services.organisations")
    plan_service = lazy_module("workflow.services.plans")

plans_app = typer.Typer(
    help="Validate, load and inspect plan definition files.", no_args_is_help=True
)
orgs_app = typer.Typer(help="Organisations: units and people.", no_args_is_help=True)
lifecycle_app = typer.Typer(help="The task lifecycle.", no_args_is_help=True)
CODE_HELP = "upper-case ASCII letters, digits, '-' or '_', starting with a letter (e.g. KHA-SCT)"


def register(root: typer.Typer) -> None:
    root.add_typer(plans_app, name="plans")
    root.add_typer(orgs_app, name="orgs")
    root.add_typer(lifecycle_app, name="lifecycle")


PathsArg = Annotated[
    list[Path], typer.Argument(help="Definition files or folders (searched for *.yaml).")
]


def _checked(
    paths: list[Path],
    fmt: Format,
    known: dict[str, OrganisationSpec] | None = None,
    *,
    loading: bool = True,
) -> Definitions:
    """The definitions, or DefinitionProblems: `main` writes each problem to stderr; JSON
    also gets them on stdout, as a list."""
    from workflow.definitions.checks import validate  # pydantic: when definitions are read

    found, problems = validate(paths, known)
    if problems:
        if fmt is Format.JSON:
            sys.stdout.write(to_json([p.as_json() for p in problems]) + "\n")
        raise DefinitionProblems(problems, loading=loading)
    return found


@plans_app.command("validate")
def validate_cmd(paths: PathsArg, fmt: FormatOpt = "table") -> None:
    """Check syntax, schema, cross-references and dates of every file given, in one run;
    every problem as file:line:column, in file order (exit 2)."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    found = _checked(paths, out, loading=False)
    if out is Format.JSON:
        sys.stdout.write(to_json([]) + "\n")
        return
    typer.echo(
        f"valid: {len(found.organisations)} organisation(s), {len(found.plans)} plan(s), "
        f"{len(found.procedures)} procedures file(s), {len(found.rules)} rules file(s), "
        f"{found.task_rows} task rows"
    )


@plans_app.command("load")
def load_cmd(paths: PathsArg, fmt: FormatOpt = "table") -> None:
    """Validate, then load organisations and plans in one transaction (all or nothing).

    In a production database: with an administrator's token (role admin, permission
    definitions:load), their own organisation's files and those of organisations not loaded
    yet; without a token, only until the first administrator exists (the host loads the
    file that names them), recorded with the operating-system user."""
    out = parse_format(fmt)
    ctx = context(Permission.DEFINITIONS_LOAD)
    if ctx.principal is None and production(ctx):
        if account_service.administrator_exists(ctx):
            raise PermissionDenied(
                "this is a production database with an administrator: definition files are "
                "loaded with an administrator's API token (--token or PLANFLOW_TOKEN)"
            )
        ctx = host_context()  # before the first administrator: the host's own act
    known = org_service.known_organisations(ctx)
    found = _checked(paths, out, known)
    if ctx.principal is not None and ctx.principal.person:
        _may_load(ctx, found, known)
    outcomes = plan_service.load(ctx, found)
    render_rows(
        [o.as_json() for o in outcomes],
        out,
        [
            "file",
            "kind",
            "id",
            "status",
            "version",
            "tasks_created",
            "tasks_amended",
            "rows_added",
            "rows_removed",
            "lead_changes",
        ],
    )


def _may_load(ctx: Context, found: Definitions, known: dict[str, OrganisationSpec]) -> None:
    """An administrator loads their own organisation's files, and those of an organisation
    joining (not loaded yet: someone must load its file before it has an administrator);
    another organisation's, already loaded, are its own administrators' to change."""
    access = access_of(ctx)
    actor = access.actor
    if not actor.has(Role.ADMIN):
        raise PermissionDenied(
            f"definition files are loaded by an administrator (role admin); {actor.id} has "
            f"{', '.join(sorted(actor.roles)) or 'no role'}"
        )
    named = {code for code in found.organisations}
    named |= {plan.organisation for plan, _ in found.plans}
    named |= {spec.organisation for spec, _ in found.procedures}
    for code in sorted(named):
        if code in known and code != actor.organisation:
            raise PermissionDenied(
                f"{actor.id} administers {actor.organisation}, not {code}: {code}'s files are "
                f"loaded by an administrator of {code}; nothing was loaded"
            )


@plans_app.command("list")
def list_cmd(fmt: FormatOpt = "table") -> None:
    """Plans with their current version and number of tasks."""
    out = parse_format(fmt)
    render_rows(
        plan_service.list_plans(context(Permission.TASKS_READ)),
        out,
        ["id", "version", "organisation", "task_count", "title"],
        widths={"title": 70},
    )


@plans_app.command("show")
def show_cmd(
    plan_id: Annotated[str, typer.Argument(help="Plan id")], fmt: FormatOpt = "table"
) -> None:
    """A plan's header and its tasks grouped by index category, with their states."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    plan = plan_service.show_plan(context(Permission.TASKS_READ), plan_id)
    if out is Format.JSON:
        render_object(plan, out)
        return
    typer.echo(
        f"{visible(plan['title'])}\n{plan['id']} v{plan['version']} · {plan['organisation']} · "
        f"{plan['period']['start']} → {plan['period']['end']} · {plan['task_count']} tasks"
    )
    typer.echo("states: " + ", ".join(f"{k} {v}" for k, v in plan["tasks_by_state"].items()))
    for group in plan["categories"]:
        typer.echo(f"\n{group['index']} · {visible(group['name'])} ({len(group['tasks'])})")
        render_rows(
            group["tasks"],
            Format.TABLE,
            ["id", "code", "period", "state", "lead_unit", "due_date", "title"],
            widths={"title": 60},
        )


@plans_app.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of all four kinds of definition file (organisation, plan,
    procedures, apology rules), for editors to validate and complete."""
    from pydantic import Field, TypeAdapter

    from workflow.definitions.models import (
        ApologyRulesSpec,
        OrganisationSpec,
        PlanSpec,
        ProceduresSpec,
    )

    adapter: TypeAdapter[Any] = TypeAdapter(
        Annotated[
            OrganisationSpec | PlanSpec | ProceduresSpec | ApologyRulesSpec,
            Field(discriminator="kind"),
        ]
    )
    document = adapter.json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "planflow definition file (organisation, plan, procedures or rules)"
    task = document["$defs"]["TaskSpec"]["properties"]["category"]
    task["enum"] = [c.code for c in CATEGORIES]
    task["description"] = "; ".join(f"{c.code}: {c.index} · {c.name}" for c in CATEGORIES)
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Write to this file (never over an existing one); default stdout."),
]


def _write_new(text: str, out: Path | None) -> None:
    """To stdout, or to a new file: a file being filled in is never overwritten."""
    write_new(text, out)
    if out is not None:
        typer.echo(
            f"wrote {out}; fill in the values marked THAY, then: planflow plans validate",
            err=True,
        )


@plans_app.command("new")
def plans_new(
    org: Annotated[str, typer.Option("--org", help="Code of the organisation issuing the plan")],
    out: OutOpt = None,
) -> None:
    """Write a commented plan skeleton to fill in (valid as written); never overwrites."""
    from workflow.definitions.checks import discover_organisation, validate

    if not scaffold.valid_code(org):
        raise InvalidInput(f"organisation code {org!r} is not valid: {CODE_HELP}")
    # The lead unit of the sample task: the office of the organisation's file when one is
    # found beside the plan (so the skeleton validates with it), else the scaffold's `VP`.
    found = discover_organisation((out or Path("plan.yaml")).absolute(), org)
    lead = "VP"
    if found is not None:
        orgs, _ = validate([found])
        if org in orgs.organisations:
            lead = orgs.organisations[org][0].office_unit
    schema = scaffold.schema_line(out)
    _write_new(scaffold.plan_file(org, lead, scaffold.this_year(), schema), out)


@orgs_app.command("new")
def orgs_new(
    code: Annotated[str, typer.Argument(help="Organisation code, e.g. KHA-SCT")],
    name: Annotated[str, typer.Option("--name", help="Full name, as on its documents")],
    out: OutOpt = None,
) -> None:
    """Write a commented organisation file to fill in (valid as written); never overwrites."""
    if not scaffold.valid_code(code):
        raise InvalidInput(f"organisation code {code!r} is not valid: {CODE_HELP}")
    if not name.strip():
        raise InvalidInput("--name is empty; give the organisation's full name")
    _write_new(scaffold.organisation_file(code, name.strip(), scaffold.schema_line(out)), out)


@orgs_app.command("list")
def orgs_list(fmt: FormatOpt = "table") -> None:
    """Organisations with their number of units and people."""
    render_rows(
        org_service.list_organisations(context()),
        parse_format(fmt),
        ["code", "name", "province", "office_unit", "unit_count", "people_count"],
        widths={"name": 60},
    )


@orgs_app.command("show")
def orgs_show(
    code: Annotated[str, typer.Argument(help="Organisation code")], fmt: FormatOpt = "table"
) -> None:
    """An organisation's units and people with their roles."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    org = org_service.show_organisation(context(), code)
    if out is Format.JSON:
        render_object(org, out)
        return
    typer.echo(
        f"{org['code']} · {org['name']} · {org['province']} · office: {org['office_unit']}\n"
    )
    render_rows(org["units"], Format.TABLE, ["code", "name", "illustrative"], widths={"name": 60})
    typer.echo("")
    render_rows(org["people"], Format.TABLE, ["id", "name", "unit", "roles", "illustrative"])


@lifecycle_app.command("diagram")
def diagram() -> None:
    """Print the task state machine as a Mermaid diagram."""
    sys.stdout.write(mermaid())
