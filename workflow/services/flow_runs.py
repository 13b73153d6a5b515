"""When the flows ran, and the day each run worked as of, for each organisation it covered.

A production database holds a flow to the calendar: a run may not work as of a day after
today (in Vietnam), nor as of a day before that flow's last run for the organisation. An
apology run "as of 2030" would issue letters dated 2030 and move due dates by years; one as
of a day already passed would issue letters late and out of order. A simulation records
the runs and refuses nothing (its clock is whatever the simulation says).

Each run is recorded when it starts, in a transaction of its own that checks the rule
against the runs before it: a run that fails half way still counts as run for its day,
which a second run of the same day may repeat (every side effect of a flow is keyed, so it
finds done what was done).
"""

from __future__ import annotations

import datetime as dt

from workflow.clock import LOCAL_TZ, today_local
from workflow.context import Context
from workflow.errors import InvalidInput
from workflow.store.queries.flow_runs import FlowRun, FlowRunQueries
from workflow.store.repositories.flow_runs import FlowRunRepository
from workflow.store.uow import Reader, Tx

FLOWS = ("apology", "inspection", "aggregate")

__all__ = ["FLOWS", "FlowRun", "check", "last", "record"]


def check(ctx: Context, flow: str, organisation: str | None, as_of: dt.date) -> None:
    """What `record` would refuse, read-only (an unknown organisation; in a production
    database a run out of order): the CLI asks before it starts the flow, so a refusal is
    one line and exit 2, not a failed flow run."""
    _known(flow)
    production = ctx.uow.production()
    with ctx.uow.reading() as r:
        codes = _organisations(r, organisation)
        if not production:
            return
        runs = FlowRunQueries(r.conn, r.backend)
        today = today_local(ctx.clock)
        for code in codes:
            _refuse_if_out_of_order(runs, flow, code, as_of, today)


def record(ctx: Context, flow: str, organisation: str | None, as_of: dt.date) -> list[str]:
    """Record a run of `flow` as of `as_of` for `organisation` (None: every organisation
    loaded), by who acts; in a production database refused (InvalidInput) when out of
    order. Returns the organisations the run is recorded for: none for an organisation not
    loaded, for which the flow finds no work either (the CLI refuses one before it starts
    the flow, `check`)."""
    _known(flow)
    production = ctx.uow.production()
    by = ctx.acting
    with ctx.uow.writing() as tx:
        runs = _repository(tx)
        codes = sorted(tx.organisations.specs())
        if organisation is not None:
            codes = [organisation] if organisation in codes else []
        today = today_local(ctx.clock)
        for code in codes:
            if production:
                _refuse_if_out_of_order(runs, flow, code, as_of, today)
        runs.add([FlowRun(flow, code, as_of, tx.now, by) for code in codes])
    return codes


def last(ctx: Context, flow: str, organisation: str) -> FlowRun | None:
    """The flow's last run for the organisation (the latest day it worked as of)."""
    _known(flow)
    with ctx.uow.reading() as r:
        return FlowRunQueries(r.conn, r.backend).last(flow, organisation)


def _repository(tx: Tx) -> FlowRunRepository:
    return FlowRunRepository(tx.conn, tx.backend)


def _organisations(r: Reader, organisation: str | None) -> list[str]:
    if organisation is not None:
        r.organisations.require(organisation)  # NotFound names the command that lists them
        return [organisation]
    return sorted(r.organisations.specs())


def _refuse_if_out_of_order(
    runs: FlowRunQueries, flow: str, organisation: str, as_of: dt.date, today: dt.date
) -> None:
    if as_of > today:
        raise InvalidInput(
            f"the {flow} flow cannot run as of {as_of}: that is after today ({today}, "
            "Vietnam time), and a production database's flows never run ahead of time"
        )
    previous = runs.last(flow, organisation)
    if previous is not None and as_of < previous.as_of:
        ran = previous.at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
        raise InvalidInput(
            f"the {flow} flow cannot run as of {as_of} for {organisation}: its last run for "
            f"{organisation} was as of {previous.as_of} (run at {ran} by {previous.run_by}), "
            "and a production database's flows go forward in time"
        )


def _known(flow: str) -> None:
    if flow not in FLOWS:
        raise InvalidInput(f"{flow!r} is not a flow; the flows are: {', '.join(FLOWS)}")
