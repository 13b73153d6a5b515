"""The working-day calendar of an organisation: the national one plus its file's overrides."""

from __future__ import annotations

from workflow.context import Context
from workflow.definitions.models import OrganisationSpec
from workflow.domain.calendar import WorkingCalendar
from workflow.errors import InvalidInput, NotFound
from workflow.store.queries.organisations import OrganisationQueries


def calendar_for(ctx: Context, organisation: str | None) -> WorkingCalendar:
    """Vietnam's working days; with an organisation code, plus that organisation's
    `calendar:` overrides (extra days off, extra working days), which win."""
    if organisation is None:
        return WorkingCalendar()
    with ctx.uow.reading() as r:
        return calendar_in(r.organisations, organisation)


def calendar_in(organisations: OrganisationQueries, organisation: str) -> WorkingCalendar:
    """`calendar_for`, read inside the caller's transaction."""
    spec = organisations.spec(organisation)
    if spec is None:
        raise NotFound(f"organisation {organisation!r} does not exist")
    return calendar_of(spec)


def calendar_of(spec: OrganisationSpec) -> WorkingCalendar:
    """The calendar of an organisation whose definition the caller already holds."""
    try:
        return WorkingCalendar(
            extra_days_off={d.date: d.reason for d in spec.calendar.days_off},
            extra_working_days={d.date: d.reason for d in spec.calendar.working_days},
        )
    except ValueError as exc:  # the file checks refuse this; a stored file may predate them
        raise InvalidInput(f"organisation {spec.code!r}: {exc}") from None
