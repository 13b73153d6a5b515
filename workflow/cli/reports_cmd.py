"""`planflow reports list|show`: the stored report snapshots, for auditors (a report is made
by `planflow flows aggregate`, in `flows_cmd`); `planflow reports province`: the province
roll-up, computed now."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from workflow.cli.options import MAX_ID, FormatOpt, parse_format
from workflow.cli.output import Format, render_rows, report_summary, to_json
from workflow.cli.runtime import access_of, context
from workflow.domain.access import Permission
from workflow.lazy import lazy_module

# Loaded when a command first uses them: `planflow --help` and the other commands do not
# pay for their imports (see workflow.lazy).
if TYPE_CHECKING:
    from workflow.services import reports as service
else:
    service = lazy_module("workflow.services.reports")

app = typer.Typer(
    help="Stored reports: immutable snapshots, their revisions and hashes.", no_args_is_help=True
)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="reports")


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


@app.command("list")
def list_(
    org: Annotated[str | None, typer.Option(help="Only this organisation's reports.")] = None,
    period: Annotated[str | None, typer.Option(help="Only reports for this period.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Stored reports, every revision, oldest first."""
    render_rows(
        service.list_snapshots(context(Permission.REPORTS_READ), org, period),
        parse_format(fmt),
        LIST_COLUMNS,
        widths={"hash": 12, "generated_by": 24},
    )


@app.command("show")
def show(
    snapshot: Annotated[
        int, typer.Argument(help="Report id (see `planflow reports list`).", min=1, max=MAX_ID)
    ],
    fmt: FormatOpt = "table",
) -> None:
    """One stored report, checked against its hash and its audit entry (exit 6 if either
    disagrees); JSON gives it whole."""
    render = parse_format(fmt, (Format.TABLE, Format.JSON))
    report = service.show(context(Permission.REPORTS_READ), snapshot)
    if render is Format.JSON:
        sys.stdout.write(to_json(report) + "\n")
        return
    typer.echo(f"report {report['snapshot']}: hash checked against the audit log")
    report_summary(report)


PROVINCE_COLUMNS = [
    "rank",
    "organisation",
    "name",
    "tasks",
    "tasks_completed_on_time",
    "tasks_completed_late",
    "tasks_overdue",
    "tasks_open_at_end",
    "on_time_pct",
]


@app.command("province")
def province(
    period: Annotated[str, typer.Option(help="A quarter 2024Q2, a half 2024H1 or a year 2024.")],
    window: Annotated[
        str,
        typer.Option(help="reporting: 15th to 14th (Decree 09/2019/NĐ-CP); calendar: quarters."),
    ] = "reporting",
    fmt: FormatOpt = "table",
) -> None:
    """The province roll-up, for the provincial coordinating body: every organisation
    loaded, its tasks open in the period, done on time, late, overdue and its on-time rate
    (on time / (completed + overdue)), ranked by that rate. Computed now, stored nowhere.
    With a token, its person must read every organisation (their file `oversees: all`)."""
    render = parse_format(fmt)
    ctx = context(Permission.REPORTS_READ)
    access = None if ctx.principal is None else access_of(ctx)
    rolled = service.province(ctx, period.strip(), window, access)
    if render is Format.JSON:
        sys.stdout.write(to_json(rolled) + "\n")
        return
    if render is Format.TABLE:
        w = rolled["window"]
        state = "provisional: the window has not closed" if rolled["provisional"] else "final"
        typer.echo(
            f"{rolled['period']}, {w['rule']} window {w['from']} to {w['to']}, "
            f"as of {rolled['as_of']} ({state})"
        )
        render_rows(rolled["organisations"], render, PROVINCE_COLUMNS, widths={"name": 40})
        return
    # CSV, XLSX: every figure, each row saying which period it is of.
    w = rolled["window"]
    head = {
        "period": rolled["period"],
        "window": w["rule"],
        "from": w["from"],
        "to": w["to"],
        "as_of": rolled["as_of"],
        "provisional": rolled["provisional"],
    }
    found = rolled["organisations"]
    columns = [*head, *(found[0] if found else PROVINCE_COLUMNS)]
    render_rows([head | row for row in found], render, columns)
