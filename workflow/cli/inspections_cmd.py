"""`planflow flows inspect` and `planflow inspections list|show|explain|template|record`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from workflow.cli.dossiers_cmd import flows_app
from workflow.cli.output import Format, render_rows, to_json
from workflow.cli.runtime import RUNTIME, FormatOpt, clock_from_env, context, writable_folder
from workflow.cli.tasks_cmd import parse_format
from workflow.clock import FixedClock
from workflow.definitions.source import SourceError, read_source
from workflow.domain.inspection import Loc
from workflow.errors import InvalidInput
from workflow.services import inspection_records as records
from workflow.services import inspections as service
from workflow.store.engine import resolve_url

app = typer.Typer(
    help="Inspections: draws, why each unit was chosen, records.", no_args_is_help=True
)


@flows_app.command("inspect")
def inspect(
    org: Annotated[str, typer.Option(help="The organisation whose units are inspected.")],
    period: Annotated[str, typer.Option(help="2024 (a year), 2024H1 or 2024Q3, as its file says.")],
    actor: Annotated[
        str, typer.Option("--as", help="An inspector (a redraw: a member of the office).")
    ],
    ratio: Annotated[
        float | None,
        typer.Option(help="Share of units to inspect, at least 0.3; default: the file's."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the tie-breaking draw; default: a random one.")
    ] = None,
    redraw: Annotated[
        bool, typer.Option("--redraw", help="Draw again, keeping the old draw (office).")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why the draw is redone.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the conclusion notices.")] = Path(
        "output/inspections"
    ),
    fmt: FormatOpt = "table",
) -> None:
    """Select at least 30% of units for the period (or return the stored draw), create
    their inspection tasks, and conclude every verified inspection record."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    if redraw and not (reason or "").strip():
        raise InvalidInput("--redraw needs --reason saying why the draw is redone")
    if reason and not redraw:
        raise InvalidInput("--reason goes with --redraw; without it the stored draw is returned")
    # Every refusal first, read-only: a mistake is one line, never a failed flow run.
    service.preflight(
        context(), org, period, actor, ratio=ratio, redraw_reason=reason if redraw else None
    )
    folder = writable_folder(out)
    clock = clock_from_env()
    now = clock.now() if isinstance(clock, FixedClock) else None
    from flows.settings import prefect_for_cli

    prefect_for_cli()
    from flows.inspection import inspection_flow  # Prefect is slow to import: only when needed

    result = inspection_flow(
        resolve_url(RUNTIME.db),
        org,
        period,
        actor,
        ratio,
        seed,
        reason if redraw else None,
        str(folder),
        now,
    )
    if render is Format.JSON:
        sys.stdout.write(to_json(result) + "\n")
        return
    state = "stored draw" if result["existing"] else f"new draw (revision {result['revision']})"
    typer.echo(
        f"inspection {result['inspection']} of {result['organisation']} for {result['period']}: "
        f"{state}, {result['count']} of {len(result['population'])} units, ratio "
        f"{result['ratio']}, seed {result['seed']}"
    )
    for item in result["tasks"]:
        typer.echo(f"  {item['unit']:<10} inspection task {item['task']}")
    for task_id in result["withdrawn"]:
        typer.echo(f"  withdrawn  task {task_id} (unit no longer drawn)")
    for c in result["conclusions"]:
        fixes = ", ".join(map(str, c["fix_tasks"])) or "none"
        typer.echo(f"  conclusion {c['number']}  {c['unit']}  fix tasks: {fixes}  {c['html']}")
    typer.echo(f"why: planflow inspections explain {result['inspection']}")


@app.command("list")
def list_(
    org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
    period: Annotated[str | None, typer.Option(help="Only this period.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Every draw, redraws included (superseded ones name their successor)."""
    render = parse_format(fmt, tuple(Format))
    rows = service.list_draws(context(), org, period)
    render_rows(
        rows,
        render,
        ["inspection", "organisation", "period", "revision", "seed", "selected", "superseded_by"],
    )


@app.command("show")
def show(
    inspection: Annotated[int, typer.Argument(help="Inspection id")],
    fmt: FormatOpt = "table",
) -> None:
    """A draw with its units' inspection tasks, checklists, conclusions and fix tasks."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    found = service.show(context(), inspection)
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
    inspection: Annotated[int, typer.Argument(help="Inspection id")],
    fmt: FormatOpt = "table",
) -> None:
    """Re-derive the draw from the audit log alone and say why each unit was (not) chosen;
    exit 6 if the recorded result does not follow from the recorded inputs."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    found = service.explain(context(), inspection)
    if render is Format.JSON:
        sys.stdout.write(to_json(found) + "\n")
        return
    typer.echo(
        f"inspection {found['inspection']} of {found['organisation']} for {found['period']}: "
        f"re-derived from audit entry {found['audit_entry']} ({found['algorithm']}, "
        f"ratio {found['ratio']}, seed {found['seed']}): {found['count']} of "
        f"{len(found['ranking'])} units, the recorded selection follows from its inputs"
    )
    for r in found["ranking"]:
        typer.echo(f"  {r['rank']:>3}. {r['unit']:<10} {r['reason']}")


@app.command("template")
def template(inspection_task: Annotated[int, typer.Argument(help="Inspection task id")]) -> None:
    """Print a record to fill in (YAML) with the unit's checklist."""
    sys.stdout.write(records.template(context(), inspection_task))


@app.command("record")
def record(
    inspection_task: Annotated[int, typer.Argument(help="Inspection task id")],
    file: Annotated[Path, typer.Option("--file", help="The record (YAML or JSON).")],
    actor: Annotated[str, typer.Option("--as", help="The inspector submitting it.")],
    expect_version: Annotated[
        int | None, typer.Option("--expect-version", help="Refuse if the task changed since.")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Submit an inspection task with its record (Biên bản kiểm tra)."""
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

    result: dict[str, Any] = records.submit_record(
        context(), inspection_task, actor, src.data, locate=locate, expected_version=expect_version
    )
    if render is Format.JSON:
        sys.stdout.write(to_json(result) + "\n")
        return
    task = result["task"]
    typer.echo(
        f"task {task['id']} {task['code']}: submitted (version {task['version']}), record "
        f"revision {result['record_revision']}: {result['summary']}"
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="inspections")
