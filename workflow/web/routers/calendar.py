"""The working-day calendar: `GET /calendar/due`, the due date N working days after a
receipt and the days off skipped on the way (the CLI's `calendar due`), on Vietnam's
calendar or, with `org`, on that organisation's (its file's extra days off and working
days), for those who read that organisation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from workflow.domain.access import Permission
from workflow.domain.calendar import WEEKDAY_NAMES, WorkingCalendar
from workflow.errors import InvalidInput
from workflow.services.calendar import calendar_for
from workflow.web.auth import Caller
from workflow.web.routers import fence

router = APIRouter(prefix="/calendar", tags=["calendar"])

MAX_DAYS = 3650


@router.get("/due", summary="The due date N working days after a receipt, and the days skipped")
def due(
    who: Caller,
    received: Annotated[
        str,
        Query(
            alias="from",
            min_length=10,
            max_length=40,
            description="When it was received: YYYY-MM-DD, or YYYY-MM-DDTHH:MM (Vietnam time "
            "unless an offset is given)",
        ),
    ],
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="Working days allowed")],
    org: Annotated[
        str | None, Query(max_length=40, description="Use this organisation's calendar")
    ] = None,
    cutoff_hour: Annotated[
        int | None,
        Query(
            ge=0,
            le=23,
            description="Receipts at or after this local hour count from the next working day "
            "(needs a time in `from`)",
        ),
    ] = None,
) -> dict[str, Any]:
    fence.organisations_read(who, Permission.TASKS_READ, org)
    when = _receipt(received)
    if cutoff_hour is not None and not isinstance(when, dt.datetime):
        raise InvalidInput(
            f"cutoff_hour needs the time of receipt: from={received}THH:MM, not a date"
        )
    calendar = calendar_for(who.ctx, org) if org is not None else WorkingCalendar()
    try:
        result = calendar.add_working_days(when, days, cutoff_hour)
    except OverflowError:
        raise InvalidInput(f"from {received}: the due date is past the year 9999") from None
    return {
        "due": result.due.isoformat(),
        "due_weekday": WEEKDAY_NAMES[result.due.weekday()],
        "skipped": [{"date": s.date.isoformat(), "reason": s.reason} for s in result.skipped],
        "received": when.isoformat(),
        "counted_from": result.counted_from.isoformat(),
        "working_days": result.working_days,
        "organisation": org,
    }


def _receipt(raw: str) -> dt.date | dt.datetime:
    """A day (YYYY-MM-DD) or a time, as the CLI's `--from` takes them."""
    text = raw.strip()
    try:
        if len(text) == 10:
            return fence.day(dt.date.fromisoformat(text), "from")
        return fence.instant(dt.datetime.fromisoformat(text), "from")
    except ValueError:
        raise InvalidInput(
            f"from {text[:40]!r} is not a date or time; expected YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
