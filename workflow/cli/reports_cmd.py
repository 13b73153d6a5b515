"""`planflow flows aggregate` (the periodic report, as a Prefect flow) and `planflow reports
list|show` (the stored snapshots, for auditors).

Importing this module registers `aggregate` on the `flows` group.
"""

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
from workflow.services import Context
from workflow.services import reports as service
from workflow.services.context import default_operator
from workflow.store.engine import open_engine, resolve_url

reports_app = typer.Typer(
    help="Stored reports: immutable snapshots, their revisions and hashes.", no_args_is_help=True
)

LIST_COLUMNS = [
    "id",
    "organisation",
    "period",
    "window",
    "revision",
    "from",
    "to",
    "generated_at",
    "generated_by",
    "hash",
]


@flows_app.command("aggregate")
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
    clock = clock_from_env()
    request = service.Request(org, period, window, revise, reason, default_operator())
    engine = open_engine(RUNTIME.db)
    try:  # bad input ends here, before Prefect (slow to start) is even imported
        service.check(Context(engine, clock=clock), request)
    finally:
        engine.dispose()
    folder = writable_folder(out)
    now = clock.now() if isinstance(clock, FixedClock) else None
    from flows.settings import prefect_for_cli

    prefect_for_cli()
    from flows.aggregate import aggregate_flow

    result = aggregate_flow(
        resolve_url(RUNTIME.db),
        org,
        period,
        window,
        str(folder),
        revise,
        reason,
        request.requested_by,
        now,
    )
    if render is Format.JSON:
        sys.stdout.write(to_json(result) + "\n")
        return
    stored = "stored now" if result["created"] else "the stored snapshot (--revise to make anew)"
    typer.echo(f"report {result['snapshot']}: {stored}")
    _summary(result)
    for kind, path in result["files"].items():
        typer.echo(f"  {kind:<13}{path}")


@reports_app.command("list")
def list_(
    org: Annotated[str | None, typer.Option(help="Only this organisation's reports.")] = None,
    period: Annotated[str | None, typer.Option(help="Only reports for this period.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Stored reports, every revision, oldest first."""
    render_rows(
        service.list_snapshots(context(), org, period),
        parse_format(fmt),
        LIST_COLUMNS,
        widths={"hash": 12, "generated_by": 24},
    )


@reports_app.command("show")
def show(
    snapshot: Annotated[int, typer.Argument(help="Report id (see `planflow reports list`).")],
    fmt: FormatOpt = "table",
) -> None:
    """One stored report, checked against its hash and its audit entry (exit 6 if either
    disagrees); JSON gives it whole."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    report = service.show(context(), snapshot)
    if render is Format.JSON:
        sys.stdout.write(to_json(report) + "\n")
        return
    typer.echo(f"report {report['snapshot']}: hash checked against the audit log")
    _summary(report)


def _summary(r: dict[str, Any]) -> None:
    t, w = r["totals"], r["window"]
    revision = str(r["revision"])
    if r["previous"]:
        revision += f" (revises report {r['previous']['snapshot']}: {r['reason']})"
    generated = f"{r['generated_at']} by {r['generated_by']}"
    if r["provisional"]:
        generated += " (provisional: the window had not closed)"
    tasks = (
        f"{t['tasks']} due: {t['tasks_completed']} completed "
        f"({t['tasks_completed_on_time']} on time, {t['tasks_completed_late']} late), "
        f"{t['tasks_overdue']} overdue, {t['tasks_returned']} returned, "
        f"{t['tasks_withdrawn']} withdrawn; completion {_pct(t['completion_pct'])}"
    )
    dossiers = (
        f"{t['dossiers_received']} received: {t['dossiers_resolved_on_time']} on time, "
        f"{t['dossiers_resolved_late']} late, {t['dossiers_pending']} pending "
        f"({t['dossiers_overdue']} overdue); {t['apology_letters']} apology letter(s), "
        f"{t['escalations']} escalation(s)"
    )
    inspections = (
        f"{t['inspections_done']} done; {t['units_inspected']} of {t['units_inspectable']} "
        f"inspectable units covered ({_pct(t['inspection_coverage_pct'])})"
    )
    lines = [
        ("organisation", f"{r['organisation']['code']} ({r['organisation']['name']})"),
        ("period", f"{r['period']}, {w['rule']} window {w['from']} to {w['to']}"),
        ("revision", revision),
        ("generated", generated),
        ("hash", r["hash"]),
        ("tasks", tasks),
        ("by state", ", ".join(f"{s} {n}" for s, n in t["tasks_by_state"].items())),
        ("dossiers", dossiers),
        ("inspections", inspections),
        ("plans", ", ".join(f"{p['id']} v{p['version']}" for p in r["plans"]) or "none"),
    ]
    for label, text in lines:
        typer.echo(f"  {label:<13}{text}")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value}%"


def register(app: typer.Typer) -> None:
    app.add_typer(reports_app, name="reports")
