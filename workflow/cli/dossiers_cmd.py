"""`planflow dossiers ...`, `planflow procedures list` and `planflow flows apology`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from workflow.cli.output import Format, render_object, render_rows, to_json
from workflow.cli.runtime import (
    RUNTIME,
    FormatOpt,
    clock_from_env,
    context,
    parse_date,
    parse_instant,
    writable_folder,
)
from workflow.cli.tasks_cmd import _state, parse_format
from workflow.clock import FixedClock, today_local
from workflow.services import dossiers as service
from workflow.store.engine import resolve_url

dossiers_app = typer.Typer(
    help="Citizens' and companies' dossiers (hồ sơ TTHC).", no_args_is_help=True
)
procedures_app = typer.Typer(help="Administrative procedures (TTHC).", no_args_is_help=True)
flows_app = typer.Typer(help="Run the Prefect flows now.", no_args_is_help=True)

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
    actor: Annotated[str, typer.Option("--as", help="The person receiving it (one-stop desk).")],
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
    render_object(service.receive(context(), new, actor), out)


@dossiers_app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="CSV: procedure,applicant,received_at[,address,phone,email]")
    ],
    actor: Annotated[str, typer.Option("--as", help="The person receiving them.")],
    fmt: FormatOpt = "table",
) -> None:
    """Receive many dossiers from a CSV file: all rows or none; bad rows named by line."""
    out = parse_format(fmt)
    try:
        rows = service.import_csv(context(), file, actor)
    except service.ImportProblems as exc:
        for problem in exc.problems:
            sys.stderr.write(problem + "\n")
        raise
    render_rows(rows, out, COLUMNS, widths={"applicant": 30})


@dossiers_app.command("delay")
def delay(
    dossier: Annotated[int, typer.Argument(help="Dossier id")],
    reason: Annotated[str, typer.Option(help="Why it will be late (printed on the letter).")],
    days: Annotated[int, typer.Option(help="Working days needed beyond the due date.")],
    actor: Annotated[str, typer.Option("--as", help="A member of the handling unit.")],
    fmt: FormatOpt = "table",
) -> None:
    """The handling unit declares, before the due date, that the dossier will be late."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    render_object(service.delay(context(), dossier, reason, days, actor), out)


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
    ctx = context()
    late_on = (parse_date(as_of, "--as-of") if as_of else today_local(ctx.clock)) if late else None
    rows = service.list_dossiers(ctx, org, _state(state), late_on)
    render_rows(rows, out, COLUMNS, widths={"applicant": 30})


@dossiers_app.command("show")
def show(
    dossier: Annotated[int, typer.Argument(help="Dossier id")], fmt: FormatOpt = "table"
) -> None:
    """One dossier with its applicant, due dates and extension."""
    render_object(
        service.show_dossier(context(), dossier), parse_format(fmt, (Format.TABLE, Format.JSON))
    )


@procedures_app.command("list")
def procedures_list(
    org: Annotated[str | None, typer.Option(help="Only this organisation's procedures.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Procedures with their legal processing time in working days."""
    render_rows(
        service.list_procedures(context(), org),
        parse_format(fmt),
        ["organisation", "code", "working_days", "unit", "cutoff_hour", "name"],
        widths={"name": 70},
    )


@flows_app.command("apology")
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
    clock = clock_from_env()
    day = parse_date(as_of, "--as-of") if as_of else today_local(clock)
    now = clock.now() if isinstance(clock, FixedClock) else None
    folder = writable_folder(out)
    from flows.settings import prefect_for_cli

    prefect_for_cli()
    from flows.apology import apology_flow  # Prefect is slow to import: only when needed

    result = apology_flow(resolve_url(RUNTIME.db), day, str(folder), org, batch_size, now)
    if render is Format.JSON:
        sys.stdout.write(to_json(result) + "\n")
        return
    typer.echo(
        f"apology flow for {result['as_of']} (rules {result['rules']}): "
        f"{len(result['letters'])} letter(s), {len(result['escalations'])} escalation(s), "
        f"{len(result['reminders'])} reminder(s)"
    )
    for letter in result["letters"]:
        due = f"due {letter['missed_due']} → {letter['new_due']}"
        typer.echo(f"  letter      {letter['code']}  {due}  {letter['path']}")
    for item in result["escalations"]:
        typer.echo(f"  escalation  {item['code']}  missed its extended date {item['missed_due']}")
    for item in result["reminders"]:
        what = f"task {item['task']} {item['code']} {item['period']}".rstrip()
        typer.echo(f"  reminder    {what}  {item['unit']}  due {item['due']}")
