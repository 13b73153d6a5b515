"""`planflow calendar ...`: working days and deadlines counted in working days."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workflow.cli.options import FormatOpt, parse_date, parse_format, parse_instant
from workflow.cli.output import Format, to_json
from workflow.cli.runtime import context
from workflow.errors import InvalidInput

# The calendar (and its holidays library) loads when a date is computed, not for --help.
if TYPE_CHECKING:
    from workflow.domain.calendar import DueDate

app = typer.Typer(help="Working days and deadlines in working days.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="calendar")


MAX_DAYS = 3650


def parse_receipt(raw: str) -> dt.date | dt.datetime:
    """YYYY-MM-DD (a day) or YYYY-MM-DDTHH:MM (a time, Vietnam time unless an offset is given)."""
    if len(raw) == 10:
        return parse_date(raw, "--from")
    return parse_instant(raw, "--from")


def due_json(result: DueDate, received: dt.date | dt.datetime, org: str | None) -> dict[str, Any]:
    return {
        "due": result.due.isoformat(),
        "skipped": [{"date": s.date.isoformat(), "reason": s.reason} for s in result.skipped],
        "received": received.isoformat(),
        "counted_from": result.counted_from.isoformat(),
        "working_days": result.working_days,
        "organisation": org,
    }


def _day(day: dt.date) -> str:
    from workflow.domain.calendar import WEEKDAY_NAMES

    return f"{day.isoformat()} ({WEEKDAY_NAMES[day.weekday()]})"


def due_table(result: DueDate, received: dt.date | dt.datetime) -> str:
    shown = (
        received.isoformat(sep=" ", timespec="minutes")
        if isinstance(received, dt.datetime)
        else _day(received)
    )
    lines = [
        f"due           {_day(result.due)}: {result.working_days} working day(s) after "
        f"{result.counted_from.isoformat()}",
        f"received      {shown}",
        f"counted from  {_day(result.counted_from)} (this day is not counted)",
    ]
    if not result.skipped:
        lines.append("skipped       (none)")
    for i, skipped in enumerate(result.skipped):
        label = "skipped" if i == 0 else ""
        lines.append(f"{label:<12}  {skipped.date.isoformat()}  {skipped.reason}")
    return "\n".join(lines) + "\n"


@app.command("due")
def due(
    from_: Annotated[
        str,
        typer.Option(
            "--from",
            help="When the dossier was received: YYYY-MM-DD or YYYY-MM-DDTHH:MM (Vietnam time).",
        ),
    ],
    days: Annotated[int, typer.Option("--days", help="Working days allowed (1 or more).")],
    org: Annotated[
        str | None, typer.Option("--org", help="Use this organisation's calendar overrides.")
    ] = None,
    cutoff_hour: Annotated[
        int | None,
        typer.Option(
            "--cutoff-hour",
            help="Receipts at or after this local hour count from the next working day "
            "(needs a time in --from).",
        ),
    ] = None,
    fmt: FormatOpt = "table",
) -> None:
    """The due date N working days after a receipt, and the days off skipped on the way."""
    out = parse_format(fmt, (Format.TABLE, Format.JSON))
    received = parse_receipt(from_)
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"--days must be between 1 and {MAX_DAYS} working days, not {days}")
    if cutoff_hour is not None:
        if not 0 <= cutoff_hour <= 23:
            raise InvalidInput(f"--cutoff-hour must be an hour from 0 to 23, not {cutoff_hour}")
        if not isinstance(received, dt.datetime):
            raise InvalidInput(
                f"--cutoff-hour needs the time of receipt: --from {from_}THH:MM, not a date"
            )
    from workflow.domain.calendar import WorkingCalendar
    from workflow.services.calendar import calendar_for  # the store: only with --org

    calendar = calendar_for(context(), org) if org is not None else WorkingCalendar()
    try:
        result = calendar.add_working_days(received, days, cutoff_hour)
    except OverflowError:
        raise InvalidInput(f"--from {from_}: the due date is past the year 9999") from None
    if out is Format.JSON:
        sys.stdout.write(to_json(due_json(result, received, org)) + "\n")
    else:
        sys.stdout.write(due_table(result, received))
