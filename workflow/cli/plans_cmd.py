"""`planflow plans ...`, `planflow orgs ...` and `planflow lifecycle diagram`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import Field, TypeAdapter

from workflow.cli.options import FormatOpt, parse_format
from workflow.cli.output import Format, render_object, render_rows, to_json
from workflow.cli.runtime import access_of, context, host_context, production
from workflow.cli.terminal import visible
from workflow.context import Context
from workflow.definitions.checks import Definitions, validate
from workflow.definitions.models import OrganisationSpec, PlanSpec
from workflow.definitions.vocabulary import CATEGORIES
from workflow.domain.access import Permission
from workflow.domain.diagram import mermaid
from workflow.domain.roles import Role
from workflow.errors import DefinitionProblems, PermissionDenied
from workflow.services import accounts as account_service
from workflow.services import organisations as org_service
from workflow.services import plans as plan_service

plans_app = typer.Typer(
    help="Validate, load and inspect plan definition files.", no_args_is_help=True
)
orgs_app = typer.Typer(help="Organisations: units and people.", no_args_is_help=True)
lifecycle_app = typer.Typer(help="The task lifecycle.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(plans_app, name="plans")
    root.add_typer(orgs_app, name="orgs")
    root.add_typer(lifecycle_app, name="lifecycle")


PathsArg = Annotated[
    list[Path], typer.Argument(help="Definition files or folders (searched for *.yaml).")
]


def _checked(
    paths: list[Path], fmt: Format, known: dict[str, OrganisationSpec] | None = None
) -> Definitions:
    """The definitions, or DefinitionProblems: `main` writes each problem to stderr; JSON
    also gets them on stdout, as a list."""
    found, problems = validate(paths, known)
    if problems:
        if fmt is Format.JSON:
            sys.stdout.write(to_json([p.as_json() for p in problems]) + "\n")
        raise DefinitionProblems(problems)
    return found


@plans_app.command("validate")
def validate_cmd(paths: PathsArg, fmt: FormatOpt = "table") -> None:
    """Check syntax, schema and cross-references; every problem as file:line:column (exit 2)."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    found = _checked(paths, out)
    if out is Format.JSON:
        sys.stdout.write(to_json([]) + "\n")
        return
    typer.echo(
        f"ok: {len(found.organisations)} organisation(s), {len(found.plans)} plan(s), "
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
    """Print the JSON Schema of definition files, for editors to validate and complete."""
    adapter: TypeAdapter[Any] = TypeAdapter(
        Annotated[OrganisationSpec | PlanSpec, Field(discriminator="kind")]
    )
    document = adapter.json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "planflow definition file (organisation or plan)"
    task = document["$defs"]["TaskSpec"]["properties"]["category"]
    task["enum"] = [c.code for c in CATEGORIES]
    task["description"] = "; ".join(f"{c.code}: {c.index} · {c.name}" for c in CATEGORIES)
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


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
