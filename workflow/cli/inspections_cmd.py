"""`planflow inspections list|show|explain|template|record` (the draw itself is
`planflow flows inspect`, in `flows_cmd`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workflow.cli.options import MAX_ID, FormatOpt, parse_format
from workflow.cli.output import Format, render_rows, to_json
from workflow.cli.runtime import acting_as, context
from workflow.cli.terminal import visible
from workflow.domain.access import Permission
from workflow.errors import InvalidInput
from workflow.lazy import lazy_module

# Loaded when a command first uses them: `planflow --help` and the other commands do not
# pay for their imports (see workflow.lazy).
if TYPE_CHECKING:
    from workflow.domain.inspection import Loc
    from workflow.services import inspection_records as records
    from workflow.services import inspections as service
else:
    records = lazy_module("workflow.services.inspection_records")
    service = lazy_module("workflow.services.inspections")

app = typer.Typer(
    help="Inspections: draws, why each unit was chosen, records.", no_args_is_help=True
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="inspections")


@app.command("list")
def list_(
    org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
    period: Annotated[str | None, typer.Option(help="Only this period.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Every draw, redraws included (superseded ones name their successor)."""
    render = parse_format(fmt, tuple(Format))
    rows = service.list_draws(context(Permission.INSPECTIONS_READ), org, period)
    render_rows(
        rows,
        render,
        ["inspection", "organisation", "period", "revision", "seed", "selected", "superseded_by"],
    )


@app.command("show")
def show(
    inspection: Annotated[int, typer.Argument(help="Inspection id", min=1, max=MAX_ID)],
    fmt: FormatOpt = "table",
) -> None:
    """A draw with its units' inspection tasks, checklists, conclusions and fix tasks."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    found = service.show(context(Permission.INSPECTIONS_READ), inspection)
    if render is Format.JSON:
        sys.stdout.write(to_json(found) + "\n")
        return
    typer.echo(
        f"inspection {found['inspection']} of {found['organisation']} for {found['period']} "
        f"(revision {found['revision']}, seed {found['seed']}, drawn by {found['drawn_by']})"
    )
    if found["superseded_by"]:
        typer.echo(f"  superseded by inspection {found['superseded_by']}")
    render_rows(
        found["targets"],
        Format.TABLE,
        ["unit", "task", "code", "state", "checklist", "fix_tasks", "conclusion"],
        widths={"conclusion": 70},
    )


@app.command("explain")
def explain(
    inspection: Annotated[int, typer.Argument(help="Inspection id", min=1, max=MAX_ID)],
    fmt: FormatOpt = "table",
) -> None:
    """Re-derive the draw from the audit log alone and say why each unit was (not) chosen;
    exit 6 if the recorded result does not follow from the recorded inputs."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    found = service.explain(context(Permission.INSPECTIONS_READ), inspection)
    if render is Format.JSON:
        sys.stdout.write(to_json(found) + "\n")
        return
    typer.echo(
        f"inspection {found['inspection']} of {found['organisation']} for {found['period']}: "
        f"re-derived from audit entry {found['audit_entry']} ({found['algorithm']}, "
        f"ratio {found['ratio']}, seed {found['seed']}): {found['count']} of "
        f"{len(found['ranking'])} units, the recorded selection follows from its inputs"
    )
    derived = found["seed_from"]
    typer.echo(
        f"  {derived['explanation']}"
        if derived
        else f"  seed {found['seed']} was given by whoever drew (a simulation database's --seed)"
    )
    for r in found["ranking"]:
        typer.echo(visible(f"  {r['rank']:>3}. {r['unit']:<10} {r['reason']}"))


@app.command("template")
def template(
    inspection_task: Annotated[int, typer.Argument(help="Inspection task id", min=1, max=MAX_ID)],
) -> None:
    """Print a record to fill in (YAML) with the unit's checklist."""
    sys.stdout.write(records.template(context(Permission.INSPECTIONS_READ), inspection_task))


@app.command("record")
def record(
    inspection_task: Annotated[int, typer.Argument(help="Inspection task id", min=1, max=MAX_ID)],
    file: Annotated[Path, typer.Option("--file", help="The record (YAML or JSON).")],
    actor: Annotated[
        str | None,
        typer.Option("--as", help="The inspector submitting it; with a token: its person."),
    ] = None,
    expect_version: Annotated[
        int | None, typer.Option("--expect-version", help="Refuse if the task changed since.")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Submit an inspection task with its record (Biên bản kiểm tra)."""
    from workflow.definitions.source import SourceError, read_source  # YAML: only here

    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    try:
        src = read_source(file)
    except SourceError as exc:
        raise InvalidInput(str(exc.problems[0])) from None
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot read it ({exc.strerror or exc})") from None

    def locate(loc: Loc) -> str:
        line, column = src.where(tuple(loc))
        return f"{src.path}:{line}:{column}"

    ctx = context(Permission.INSPECTIONS_WRITE)
    result: dict[str, Any] = records.submit_record(
        ctx,
        inspection_task,
        acting_as(ctx, actor, "inspections record"),
        src.data,
        locate=locate,
        expected_version=expect_version,
    )
    if render is Format.JSON:
        sys.stdout.write(to_json(result) + "\n")
        return
    task = result["task"]
    typer.echo(
        f"task {task['id']} {task['code']}: submitted (version {task['version']}), record "
        f"revision {result['record_revision']}: {result['summary']}"
    )
