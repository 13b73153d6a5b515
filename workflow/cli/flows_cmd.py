"""`planflow flows apology|inspect|aggregate`: run a Prefect flow now, in this process.

Each command refuses bad input first (read-only, before Prefect, slow to import, is even
loaded), so a mistake is one line and an exit code, never a failed flow run.

With a token, the run acts as the token's person (its entries name them, through the `flow`
channel, with the token's credential), for the person's own organisation; in a production
database a token is required, and `--as-of` may be neither after today nor before the
flow's last run for the organisation. Without a token, in a simulation, the entries name
the flow (`flow:apology`, ...) as they always did.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workflow.cli.options import FormatOpt, parse_date, parse_format, writable_folder
from workflow.cli.output import Format, report_summary, to_json
from workflow.cli.runtime import RUNTIME, access_of, acting_as, context, require_writer
from workflow.clock import Clock, FixedClock, today_local
from workflow.domain.access import Permission
from workflow.errors import InvalidInput
from workflow.lazy import lazy_module

# The services, the store and Prefect load when a flow runs, not with every command.
if TYPE_CHECKING:
    from workflow import logs
    from workflow.context import Context
    from workflow.services import flow_runs
    from workflow.services import inspections as inspection_service
    from workflow.services import reports as report_service
else:
    logs = lazy_module("workflow.logs")
    flow_runs = lazy_module("workflow.services.flow_runs")
    inspection_service = lazy_module("workflow.services.inspections")
    report_service = lazy_module("workflow.services.reports")

app = typer.Typer(help="Run the Prefect flows now.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="flows")


def _pinned(clock: Clock) -> dt.datetime | None:
    """The instant the flow run works as of: PLANFLOW_NOW's when set, else None (the flow
    reads the time itself, as a scheduled run does)."""
    return clock.now() if isinstance(clock, FixedClock) else None


def _own_organisation(ctx: Context, org: str | None, needed: Permission) -> str | None:
    """With a token, the person's own organisation (the default), and no other: a person
    runs a flow for their agency only. Without one (a simulation), `org` as given."""
    if ctx.principal is None:
        return org
    access = access_of(ctx)
    chosen = org or access.actor.organisation
    access.require(needed, chosen)
    return chosen


def _prefect_ready() -> None:
    # Prefect reads its settings when imported: planflow's defaults go first.
    from flows.settings import prefect_for_cli

    prefect_for_cli()


@app.command("apology")
def apology(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Run for this day (YYYY-MM-DD); default today.")
    ] = None,
    org: Annotated[str | None, typer.Option(help="Only this organisation.")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the letters (HTML and DOCX).")] = Path(
        "output"
    ),
    batch_size: Annotated[int, typer.Option(min=1, help="Dossiers per Prefect task run.")] = 500,
    fmt: FormatOpt = "table",
) -> None:
    """Apology letters for late dossiers, escalations past the one extension, task reminders."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    ctx = context(Permission.FLOWS_RUN, organisation=org)
    require_writer(ctx)
    org = _own_organisation(ctx, org, Permission.FLOWS_RUN)
    day = parse_date(as_of, "--as-of") if as_of else today_local(ctx.clock)
    flow_runs.check(ctx, "apology", org, day)
    folder = writable_folder(out)
    _prefect_ready()
    from flows.apology import apology_flow
    from flows.runtime import principal_fields
    from flows.temporary_server import for_this_run
    from workflow.store.engine import resolve_url

    # A temporary Prefect server that dies with this command; the run's events in the
    # folder's planflow.log (on the console with --verbose).
    with for_this_run(), logs.to_file(folder):
        result = apology_flow(
            resolve_url(RUNTIME.db),
            day,
            str(folder),
            org,
            batch_size,
            _pinned(ctx.clock),
            principal_fields(ctx.principal),
        )
    if render is Format.JSON:
        sys.stdout.write(to_json(result) + "\n")
        return
    typer.echo(
        f"apology flow for {result['as_of']} (rules {result['rules']}): "
        f"{len(result['letters'])} letter(s), {len(result['escalations'])} escalation(s), "
        f"{len(result['reminders'])} reminder(s)"
        + (
            f", {len(result['refused'])} late dossier(s) without a reason"
            if result["refused"]
            else ""
        )
    )
    for letter in result["letters"]:
        due = f"due {letter['missed_due']} → {letter['new_due']}"
        typer.echo(f"  letter      {letter['code']}  {due}  {letter['path']}")
    for item in result["escalations"]:
        typer.echo(f"  escalation  {item['code']}  missed its extended date {item['missed_due']}")
    for item in result["refused"]:
        typer.echo(f"  no letter   {item['code']}  {item['problem']}")
    for item in result["reminders"]:
        what = f"task {item['task']} {item['code']} {item['period']}".rstrip()
        typer.echo(f"  reminder    {what}  {item['unit']}  due {item['due']}")


@app.command("inspect")
def inspect(
    org: Annotated[str, typer.Option(help="The organisation whose units are inspected.")],
    period: Annotated[str, typer.Option(help="2024 (a year), 2024H1 or 2024Q3, as its file says.")],
    actor: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="An inspector (a redraw: a member of the office); with a token: its person.",
        ),
    ] = None,
    ratio: Annotated[
        float | None,
        typer.Option(help="Share of units to inspect, at least 0.3; default: the file's."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help="Seed of the tie-breaking draw, in a simulation database only; default: "
            "derived from the organisation, the period and the audit log's head."
        ),
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
    ctx = context(Permission.INSPECTIONS_WRITE, organisation=org)
    person = acting_as(ctx, actor, "flows inspect")
    inspection_service.preflight(
        ctx, org, period, person, ratio=ratio, seed=seed, redraw_reason=reason if redraw else None
    )
    folder = writable_folder(out)
    _prefect_ready()
    from flows.inspection import inspection_flow
    from flows.runtime import principal_fields
    from flows.temporary_server import for_this_run
    from workflow.store.engine import resolve_url

    # A temporary Prefect server that dies with this command; the run's events in the
    # folder's planflow.log (on the console with --verbose).
    with for_this_run(), logs.to_file(folder):
        result = inspection_flow(
            resolve_url(RUNTIME.db),
            org,
            period,
            person,
            ratio,
            seed,
            reason if redraw else None,
            str(folder),
            _pinned(ctx.clock),
            principal_fields(ctx.principal),
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


@app.command("aggregate")
def aggregate(
    org: Annotated[str, typer.Option(help="The organisation's code (see `planflow orgs list`).")],
    period: Annotated[str, typer.Option(help="A quarter 2024Q2, a half 2024H1 or a year 2024.")],
    window: Annotated[
        str,
        typer.Option(help="reporting: 15th to 14th (Decree 09/2019/NĐ-CP); calendar: quarters."),
    ] = "reporting",
    revise: Annotated[
        bool,
        typer.Option("--revise", help="Make a new revision (keeps the old one); needs --reason."),
    ] = False,
    reason: Annotated[
        str | None, typer.Option(help="Why the report is made again (with --revise).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the JSON, CSV and HTML files.")] = Path(
        "output/reports"
    ),
    fmt: FormatOpt = "table",
) -> None:
    """An organisation's report for a period: figures by plan, index category and unit, kept
    as an immutable snapshot (asking again returns it), written as JSON, CSV and HTML."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    ctx = context(Permission.REPORTS_WRITE, organisation=org)
    require_writer(ctx)
    _own_organisation(ctx, org, Permission.REPORTS_WRITE)
    request = report_service.Request(org, period, window, revise, reason, ctx.acting)
    try:
        report_service.check(ctx, request)
    finally:
        ctx.engine.dispose()
    folder = writable_folder(out)
    _prefect_ready()
    from flows.aggregate import aggregate_flow
    from flows.runtime import principal_fields
    from flows.temporary_server import for_this_run
    from workflow.store.engine import resolve_url

    # A temporary Prefect server that dies with this command; the run's events in the
    # folder's planflow.log (on the console with --verbose).
    with for_this_run(), logs.to_file(folder):
        result = aggregate_flow(
            resolve_url(RUNTIME.db),
            org,
            period,
            window,
            str(folder),
            revise,
            reason,
            request.requested_by,
            _pinned(ctx.clock),
            principal_fields(ctx.principal),
        )
    if render is Format.JSON:
        sys.stdout.write(to_json(result) + "\n")
        return
    stored = "stored now" if result["created"] else "the stored snapshot (--revise to make anew)"
    typer.echo(f"report {result['snapshot']}: {stored}")
    report_summary(result)
    for kind, path in result["files"].items():
        typer.echo(f"  {kind:<13}{path}")
