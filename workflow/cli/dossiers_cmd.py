"""`planflow dossiers ...` and `planflow procedures list` (the apology letters for late dossiers
are `planflow flows apology`, in `flows_cmd`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workflow.cli.options import (
    MAX_ID,
    FormatOpt,
    parse_date,
    parse_format,
    parse_instant,
    parse_state,
)
from workflow.cli.output import Format, render_object, render_rows
from workflow.cli.runtime import acting_as, context
from workflow.clock import today_local
from workflow.domain.access import Permission
from workflow.lazy import lazy_module

# Loaded when a command first uses them: `planflow --help` and the other commands do not
# pay for their imports (see workflow.lazy).
if TYPE_CHECKING:
    from workflow.services import dossiers as service
else:
    service = lazy_module("workflow.services.dossiers")

dossiers_app = typer.Typer(
    help="Citizens' and companies' dossiers (hồ sơ TTHC).", no_args_is_help=True
)
procedures_app = typer.Typer(help="Administrative procedures (TTHC).", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(dossiers_app, name="dossiers")
    root.add_typer(procedures_app, name="procedures")


COLUMNS = [
    "id",
    "code",
    "procedure",
    "applicant",
    "received_at",
    "due_date",
    "extension_count",
    "state",
    "lead_unit",
]


@dossiers_app.command("receive")
def receive(
    procedure: Annotated[
        str, typer.Option(help="Procedure code (see `planflow procedures list`).")
    ],
    applicant: Annotated[str, typer.Option(help="The applicant's name (person or organisation).")],
    received_at: Annotated[
        str, typer.Option("--received-at", help="YYYY-MM-DDTHH:MM, Vietnam time.")
    ],
    actor: Annotated[
        str | None,
        typer.Option(
            "--as", help="The person receiving it (one-stop desk); with a token: its person."
        ),
    ] = None,
    address: Annotated[str | None, typer.Option(help="The applicant's address.")] = None,
    phone: Annotated[str | None, typer.Option(help="The applicant's phone.")] = None,
    email: Annotated[str | None, typer.Option(help="The applicant's e-mail.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Receive a dossier: numbered, assigned to the handling unit, due date on the calendar."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    new = service.NewDossier(
        procedure,
        service.Applicant(applicant, address, phone, email),
        parse_instant(received_at, "--received-at"),
    )
    ctx = context(Permission.DOSSIERS_WRITE)
    render_object(service.receive(ctx, new, acting_as(ctx, actor, "dossiers receive")), out)


@dossiers_app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="CSV: procedure,applicant,received_at[,address,phone,email]")
    ],
    actor: Annotated[
        str | None,
        typer.Option("--as", help="The person receiving them; with a token: its person."),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Receive many dossiers from a CSV file: all rows or none; bad rows named by line."""
    out = parse_format(fmt)
    ctx = context(Permission.DOSSIERS_WRITE)
    rows = service.import_csv(
        ctx, file, acting_as(ctx, actor, "dossiers import")
    )  # bad rows: ImportProblems
    render_rows(rows, out, COLUMNS, widths={"applicant": 30})


@dossiers_app.command("delay")
def delay(
    dossier: Annotated[int, typer.Argument(help="Dossier id", min=1, max=MAX_ID)],
    reason: Annotated[str, typer.Option(help="Why it will be late (printed on the letter).")],
    days: Annotated[int, typer.Option(help="Working days needed beyond the due date.")],
    actor: Annotated[
        str | None,
        typer.Option("--as", help="A member of the handling unit; with a token: its person."),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """The handling unit declares, before the due date, that the dossier will be late."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    ctx = context(Permission.DOSSIERS_WRITE)
    render_object(
        service.delay(ctx, dossier, reason, days, acting_as(ctx, actor, "dossiers delay")), out
    )


@dossiers_app.command("list")
def list_(
    org: Annotated[str | None, typer.Option(help="Only this organisation's dossiers.")] = None,
    state: Annotated[str | None, typer.Option(help="Only dossiers in this state.")] = None,
    late: Annotated[
        bool, typer.Option("--late", help="Only dossiers past their due date.")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge --late as of this date.")
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Dossiers with their current due date and extension count."""
    out = parse_format(fmt)
    ctx = context(Permission.DOSSIERS_READ)
    late_on = (parse_date(as_of, "--as-of") if as_of else today_local(ctx.clock)) if late else None
    rows = service.list_dossiers(ctx, org, parse_state(state), late_on)
    render_rows(rows, out, COLUMNS, widths={"applicant": 30})


@dossiers_app.command("show")
def show(
    dossier: Annotated[int, typer.Argument(help="Dossier id", min=1, max=MAX_ID)],
    fmt: FormatOpt = "table",
) -> None:
    """One dossier with its applicant, due dates and extension."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    render_object(service.show_dossier(context(Permission.DOSSIERS_READ), dossier), out)


@procedures_app.command("list")
def procedures_list(
    org: Annotated[str | None, typer.Option(help="Only this organisation's procedures.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Procedures with their legal processing time in working days."""
    out = parse_format(fmt)
    render_rows(
        service.list_procedures(context(Permission.DOSSIERS_READ), org),
        out,
        ["organisation", "code", "working_days", "unit", "cutoff_hour", "name"],
        widths={"name": 70},
    )
