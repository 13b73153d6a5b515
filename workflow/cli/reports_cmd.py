"""`planflow reports list|show`: the stored report snapshots, for auditors (a report is made
by `planflow flows aggregate`, in `flows_cmd`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from workflow.cli.options import MAX_ID, FormatOpt, parse_format
from workflow.cli.output import Format, render_rows, report_summary, to_json
from workflow.cli.runtime import context
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
