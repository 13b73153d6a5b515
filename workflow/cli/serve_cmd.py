"""`planflow serve`: Prefect deployments of the apology, inspection and aggregate flows, on
the schedules the organisations' definitions give (`workflow.domain.flow_schedules`), served
from this host until Ctrl-C."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workflow.cli.options import FormatOpt, parse_format, writable_folder
from workflow.cli.output import Format, render_rows, to_json
from workflow.cli.runtime import RUNTIME, clock_from_env, context
from workflow.clock import LOCAL_TZ
from workflow.errors import InvalidInput
from workflow.lazy import lazy_module

# The schedules, the store and Prefect load when `serve` runs, not with every command.
if TYPE_CHECKING:
    from workflow import logs
    from workflow.domain import flow_schedules
    from workflow.services import calendar, organisations
    from workflow.store import engine
else:
    logs = lazy_module("workflow.logs")
    flow_schedules = lazy_module("workflow.domain.flow_schedules")
    calendar = lazy_module("workflow.services.calendar")
    organisations = lazy_module("workflow.services.organisations")
    engine = lazy_module("workflow.store.engine")

NEXT_RUNS = 3


def register(root: typer.Typer) -> None:
    root.command("serve")(serve)


def serve(
    org: Annotated[
        list[str] | None,
        typer.Option(
            "--org", help="Only this organisation (repeat it); default: every loaded one."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, help="At most N flow runs at once on this host.")
    ] = 4,
    out: Annotated[
        Path,
        typer.Option(help="Folder for letters, notices (inspections/) and reports (reports/)."),
    ] = Path("output"),
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the deployments and their next runs (from now, or PLANFLOW_NOW) "
            "and exit; no Prefect server is contacted.",
        ),
    ] = False,
    fmt: FormatOpt = "table",
) -> None:
    """Serve the flows on their schedules until Ctrl-C: apology letters every working
    morning, inspection draws and conclusions, the quarter's report after each reporting
    cut-off. Against PREFECT_API_URL, else a local Prefect server (started if none runs)."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    ctx = context()
    try:
        known = organisations.known_organisations(ctx)
    finally:
        ctx.engine.dispose()
    db_url = engine.resolve_url(RUNTIME.db)
    if not known:
        raise InvalidInput(
            f"no organisations are loaded in {db_url}: nothing to schedule; load them first "
            "with `planflow plans load definitions/`"
        )
    unknown = sorted(set(org or []) - set(known))
    if unknown:
        raise InvalidInput(
            f"unknown organisation(s) {', '.join(unknown)}; loaded: {', '.join(sorted(known))}"
        )
    chosen = [known[code] for code in sorted(set(org or known))]
    planned = flow_schedules.plan(chosen)
    out_dir = out.resolve() if dry_run else writable_folder(out)

    from flows.settings import quiet_prefect

    quiet_prefect()
    logs.verbose()  # a server's operator watches its console: its events are shown there
    from flows import serve as prefect_side  # Prefect is slow to import: only when needed

    now = clock_from_env().now()
    rows = []
    for item in planned:
        row: dict[str, Any] = {
            "deployment": item.full_name,
            "flow": item.flow,
            "cron": item.cron,
            "timezone": item.timezone,
            "next_runs": [
                t.astimezone(LOCAL_TZ).isoformat()
                for t in prefect_side.next_runs(item, now, NEXT_RUNS)
            ],
            "parameters": prefect_side.parameters(item, db_url, out_dir),
            "description": item.description,
        }
        spec = known[item.name]
        if item.flow == "inspection":
            today = now.astimezone(LOCAL_TZ).date()
            period, day = flow_schedules.next_draw(spec, calendar.calendar_of(spec), today)
            row["next_draw"] = {"period": period, "on": day.isoformat()}
        rows.append(row)
    where = f"database: {prefect_side.public_url(db_url)}   files under: {out_dir}"
    if dry_run:
        _show(rows, render, where)
        return

    prefect_side.keep_password(db_url)
    try:
        with prefect_side.prefect_api(prefect_side.home()) as api:
            served = prefect_side.deployments(planned, db_url, out_dir)

            def ready() -> None:
                _show(rows, render, where)
                typer.echo(
                    f"serving {len(served)} deployments against {api}, at most {limit} runs "
                    "at once on this host; Ctrl-C to stop",
                    err=True,  # stdout stays the listing alone (JSON with --format json)
                )

            prefect_side.run(served, limit, ready)
    except KeyboardInterrupt:
        pass  # Ctrl-C while registering: as much a normal stop as Ctrl-C while serving
    typer.echo("planflow serve stopped", err=True)


def _show(rows: list[dict[str, Any]], render: Format, where: str) -> None:
    if render is Format.JSON:
        sys.stdout.write(to_json(rows) + "\n")
        sys.stdout.flush()
        return
    table = [
        {
            **row,
            "next_runs": [t[:16].replace("T", " ") for t in row["next_runs"]],
            "parameters": {
                k: v for k, v in row["parameters"].items() if k not in ("db_url", "out_dir")
            },
        }
        for row in rows
    ]
    render_rows(
        table,
        Format.TABLE,
        ["deployment", "cron", "timezone", "next_runs", "parameters"],
        widths={"next_runs": 60, "parameters": 70},
    )
    typer.echo(where)
    sys.stdout.flush()
