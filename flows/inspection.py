"""Prefect flow `inspection`: draw the period's units, then conclude verified inspections.

Orchestration only: one Prefect task for the draw (one transaction in the service) and one
per batch of conclusions. Safe to run again: the same period returns the stored draw, and a
conclusion is recorded once under its key.

Without `period` (a scheduled run, see `planflow serve`) it draws for the period today falls
in, and does nothing on a day the organisation does not work (no draw, no conclusion notice
dated on a holiday): the period's first working-day run makes its draw.

Each run publishes a Prefect table artifact (`flows.artifacts`): the draw, its inspection
tasks, the conclusion notices it numbered and wrote; a task that fails on a transient
database error is retried (`flows.retries`).

Who the run acts as (the inspector who started it, its schedule, or `flow:inspection`) is
`flows.runtime.acting`'s answer; each run is recorded for its day (`services.flow_runs`).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NONE

from flows import artifacts
from flows.retries import ON_TRANSIENT_ERRORS
from flows.runtime import (
    PrincipalFields,
    acting,
    batches,
    context,
    person_acting,
    scheduled_day,
)
from workflow.clock import LOCAL_TZ, today_local
from workflow.domain.inspection import current_period
from workflow.services import flow_runs
from workflow.services import inspection_records as records
from workflow.services import inspections as service
from workflow.services.organisations import known_organisations

BATCH_SIZE = 50  # conclusions render two documents each: small batches keep a transaction short


@task(name="inspection-draw", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def draw_task(
    db_url: str,
    organisation: str,
    period: str,
    actor: str | None,
    ratio: float | None,
    seed: int | None,
    redraw_reason: str | None,
    now: dt.datetime | None,
    principal: PrincipalFields | None,
) -> dict[str, Any]:
    ctx = context(db_url, now, actor or service.ACTOR, principal)
    drawn = service.draw(
        ctx, organisation, period, actor, ratio=ratio, seed=seed, redraw_reason=redraw_reason
    )
    return drawn.as_json()


@task(name="inspection-run", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def record_run(
    db_url: str, organisation: str, now: dt.datetime | None, principal: PrincipalFields | None
) -> None:
    """The run, for today (in Vietnam, by the run's clock): the day its draw and
    conclusions are dated."""
    ctx = context(db_url, now, service.ACTOR, principal)
    flow_runs.record(ctx, "inspection", organisation, today_local(ctx.clock))


@task(name="inspection-find-conclusions", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def find_conclusions(
    db_url: str, organisation: str, now: dt.datetime | None, principal: PrincipalFields | None
) -> list[int]:
    ctx = context(db_url, now, service.ACTOR, principal)
    return records.pending_conclusions(ctx, organisation)


@task(name="inspection-conclude-batch", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def conclude_batch(
    db_url: str,
    ids: list[int],
    out_dir: str,
    now: dt.datetime | None,
    principal: PrincipalFields | None,
) -> list[dict[str, Any]]:
    ctx = context(db_url, now, service.ACTOR, principal)
    return [c.as_json() for c in records.conclude(ctx, ids, Path(out_dir))]


@task(name="inspection-period", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def period_now(
    db_url: str, organisation: str, now: dt.datetime | None, principal: PrincipalFields | None
) -> str:
    """The period a scheduled run draws for: the one today falls in, of the file's kind."""
    ctx = context(db_url, now, service.ACTOR, principal)
    spec = known_organisations(ctx).get(organisation)
    every = spec.inspection.every if spec is not None and spec.inspection else "year"
    return current_period(ctx.clock.now().astimezone(LOCAL_TZ).date(), every)


@task(name="inspection-day", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def day_task(
    db_url: str, organisation: str, now: dt.datetime | None, principal: PrincipalFields | None
) -> tuple[dt.date, str | None]:
    return scheduled_day(db_url, organisation, now, service.ACTOR, principal)


@flow(name="inspection", log_prints=False)
def inspection_flow(
    db_url: str,
    organisation: str,
    period: str | None = None,
    actor: str | None = None,
    ratio: float | None = None,
    seed: int | None = None,
    redraw_reason: str | None = None,
    out_dir: str = "output/inspections",
    now: dt.datetime | None = None,
    principal: PrincipalFields | None = None,
) -> dict[str, Any]:
    """The draw's JSON plus `conclusions`, `seconds`, and `skipped`: why a scheduled run
    (no `period`) did nothing, else None. `principal`: the person who started the run (see
    `flows.runtime`); `actor` is then that person (the draw's inspector)."""
    started = time.perf_counter()
    principal = acting(principal)
    actor = person_acting(principal, actor)
    if period is None:
        day, day_off = day_task(db_url, organisation, now, principal)
        if day_off is not None:
            skipped: dict[str, Any] = {
                "organisation": organisation,
                "skipped": f"{day.isoformat()} is not a working day ({day_off})",
                "conclusions": [],
                "seconds": round(time.perf_counter() - started, 3),
            }
            _publish(skipped, organisation)
            return skipped
        period = period_now(db_url, organisation, now, principal)
    record_run(db_url, organisation, now, principal)
    result = draw_task(
        db_url, organisation, period, actor, ratio, seed, redraw_reason, now, principal
    )
    conclusions: list[dict[str, Any]] = []
    for chunk in batches(find_conclusions(db_url, organisation, now, principal), BATCH_SIZE):
        conclusions += conclude_batch(db_url, chunk, out_dir, now, principal)
    result["conclusions"] = conclusions
    result["skipped"] = None
    result["seconds"] = round(time.perf_counter() - started, 3)
    _publish(result, organisation)
    return result


def _publish(result: dict[str, Any], organisation: str) -> None:
    """What the run issued, as a table in the Prefect UI (`flows.artifacts`)."""
    artifacts.publish(
        artifacts.inspection_rows(result),
        artifacts.key("inspection", organisation),
        artifacts.inspection_description(result),
    )
