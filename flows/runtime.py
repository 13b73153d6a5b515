"""What every flow needs from the engine: a service context per database, built once, acting
as whoever the run acts for.

Who a run acts as:
- a run of a `planflow serve` deployment: its schedule (`schedule:apology/LSN-SKHDT`),
  whatever its parameters say (whoever can start a deployment's run through the Prefect API
  may not make it act for a person);
- a run started from the command line with an API token: the token's person, through the
  `flow` channel, with the token's credential (the flow's `principal` parameter, the
  fields `principal_fields` makes);
- otherwise (a simulation, the demo, the tests): nobody authenticated, and the entries name
  the flow (`flow:apology`, `flow:inspection`, `flow:aggregate`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine

from workflow.clock import Clock, FixedClock, SystemClock, today_local
from workflow.context import Context
from workflow.domain.principals import Channel, Principal, schedule
from workflow.errors import PermissionDenied
from workflow.services.calendar import calendar_for
from workflow.store.engine import open_engine

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()

# A principal as a flow's parameter: JSON (Prefect stores a run's parameters), never a secret.
PrincipalFields = dict[str, Any]


def principal_fields(principal: Principal | None) -> PrincipalFields | None:
    """The principal as a flow run's parameter (its id, channel, hashed credential, scope)."""
    if principal is None:
        return None
    return {
        "id": principal.id,
        "channel": principal.channel.value,
        "credential": principal.credential,
        "person": principal.person,
        "permissions": None if principal.permissions is None else sorted(principal.permissions),
    }


def principal_from(fields: Mapping[str, Any] | None) -> Principal | None:
    """The principal a flow's parameter names, acting through the `flow` channel."""
    if fields is None:
        return None
    permissions = fields.get("permissions")
    return Principal(
        str(fields["id"]),
        Channel.FLOW,
        fields.get("credential"),
        bool(fields.get("person", True)),
        None if permissions is None else frozenset(str(p) for p in permissions),
    )


def acting(fields: Mapping[str, Any] | None) -> PrincipalFields | None:
    """Who this run acts as (see the module's docstring): called in the flow's body, whose
    tasks get the answer as their parameter."""
    deployment = _deployment()
    if deployment is None:
        given = principal_from(fields)
        return principal_fields(given)
    ran_by = schedule(deployment)
    if fields is not None and principal_from(fields) != ran_by:
        raise PermissionDenied(
            f"a run of the deployment {deployment} acts as its schedule ({ran_by.id}), not as "
            f"{fields.get('id')!r}: start a person's run with `planflow flows ... --token`"
        )
    return principal_fields(ran_by)


def person_acting(principal: Mapping[str, Any] | None, actor: str | None) -> str | None:
    """The person a run names as acting (an inspection's drawer): the authenticated person
    when there is one (`actor` may repeat their id, never name another); else `actor`."""
    if principal is None or not principal.get("person", True):
        return actor
    who = str(principal["id"])
    if actor is not None and actor != who:
        raise PermissionDenied(f"a run started by {who} acts as {who}, not as {actor}")
    return who


def _deployment() -> str | None:
    """`<flow>/<deployment>` when this flow run is a deployment's (a schedule's), else None."""
    from prefect.context import FlowRunContext
    from prefect.runtime import deployment, flow_run

    run = FlowRunContext.get()
    if run is None or run.flow_run is None or run.flow_run.deployment_id is None:
        return None
    return f"{flow_run.flow_name}/{deployment.name}"


def context(
    db_url: str, now: dt.datetime | None, actor: str, principal: Mapping[str, Any] | None = None
) -> Context:
    """A context on a shared engine; `now` pins the clock (simulations, "as of" runs);
    `actor`: who the entries name when nobody was authenticated; `principal`: who acts
    (`acting`'s answer)."""
    with _LOCK:
        engine = _ENGINES.get(db_url)
        if engine is None:
            engine = _ENGINES[db_url] = open_engine(db_url)
    clock: Clock = FixedClock(now) if now is not None else SystemClock()
    return Context(engine, clock=clock, operator=actor, principal=principal_from(principal))


def scheduled_day(
    db_url: str,
    organisation: str | None,
    now: dt.datetime | None,
    actor: str,
    principal: Mapping[str, Any] | None = None,
) -> tuple[dt.date, str | None]:
    """A scheduled run's day (today in Vietnam, by the clock) and, when the organisation
    does not work that day, why (its calendar: weekends, holidays, its file's overrides).
    Schedules fire every day; this is where a day off is told apart, not in the cron."""
    ctx = context(db_url, now, actor, principal)
    day = today_local(ctx.clock)
    return day, calendar_for(ctx, organisation).why_off(day)


def dispose() -> None:
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def batches(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
