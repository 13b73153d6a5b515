"""Prefect flow `apology`: apology letters for late dossiers, escalations, task reminders.

Orchestration only: it finds the work, then hands it to the services one batch at a time
(one Prefect task run per batch, never one per dossier). Safe to run twice for a day: every
side effect is keyed and recorded with its audit entry in one transaction.

Without `as_of` (a scheduled run, see `planflow serve`) it works as of today in Vietnam, and
does nothing on a day the organisation does not work: no letter is dated on a holiday, and
the notice window, counted from the next working day, would otherwise reach a working day
further than on the working day before, apologising for dossiers not yet late.

Each run publishes a Prefect table artifact (`flows.artifacts`) listing the letters it
numbered and wrote, its escalations and reminders; a task that fails on a transient database
error is retried (`flows.retries`).

Who the run acts as (the person who started it, its schedule, or `flow:apology`) is
`flows.runtime.acting`'s answer; the run is recorded for the day it works as of
(`services.flow_runs`), which a production database keeps going forward.
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
from flows.runtime import PrincipalFields, acting, batches, context, scheduled_day
from workflow.services import apology as service
from workflow.services import flow_runs

BATCH_SIZE = 500
ACTOR = service.ACTOR


@task(name="apology-run", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def record_run(
    db_url: str,
    as_of: dt.date,
    organisation: str | None,
    now: dt.datetime | None,
    principal: PrincipalFields | None,
) -> list[str]:
    ctx = context(db_url, now, ACTOR, principal)
    return flow_runs.record(ctx, "apology", organisation, as_of)


@task(name="apology-find-work", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def find_work(
    db_url: str,
    as_of: dt.date,
    organisation: str | None,
    now: dt.datetime | None,
    principal: PrincipalFields | None,
) -> service.Work:
    return service.find_work(context(db_url, now, ACTOR, principal), as_of, organisation)


@task(name="apology-letters-batch", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def letters_batch(
    db_url: str,
    as_of: dt.date,
    ids: list[int],
    out_dir: str,
    now: dt.datetime | None,
    principal: PrincipalFields | None,
) -> service.BatchResult:
    ctx = context(db_url, now, ACTOR, principal)
    return service.process_dossiers(ctx, as_of, ids, Path(out_dir))


@task(name="apology-reminders-batch", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def reminders_batch(
    db_url: str,
    as_of: dt.date,
    ids: list[int],
    now: dt.datetime | None,
    principal: PrincipalFields | None,
) -> service.BatchResult:
    return service.process_reminders(context(db_url, now, ACTOR, principal), as_of, ids)


@task(name="apology-day", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def day_task(
    db_url: str,
    organisation: str | None,
    now: dt.datetime | None,
    principal: PrincipalFields | None,
) -> tuple[dt.date, str | None]:
    return scheduled_day(db_url, organisation, now, ACTOR, principal)


@flow(name="apology", log_prints=False)
def apology_flow(
    db_url: str,
    as_of: dt.date | None = None,
    out_dir: str = "output",
    organisation: str | None = None,
    batch_size: int = BATCH_SIZE,
    now: dt.datetime | None = None,
    principal: PrincipalFields | None = None,
) -> dict[str, Any]:
    """Letters, escalations and reminders as of `as_of`; `skipped` says why nothing was
    done (a scheduled run on a day off), else None. `principal`: the person who started
    the run (see `flows.runtime`), recorded as issuing what it issues."""
    started = time.perf_counter()
    principal = acting(principal)
    if as_of is None:
        as_of, day_off = day_task(db_url, organisation, now, principal)
        if day_off is not None:
            nothing = _nothing(as_of, day_off, time.perf_counter() - started)
            _publish(nothing, organisation)
            return nothing
    record_run(db_url, as_of, organisation, now, principal)
    work = find_work(db_url, as_of, organisation, now, principal)
    letters: list[dict[str, Any]] = []
    escalations: list[dict[str, Any]] = []
    # Late dossiers whose unit declared no reason: no letter can be written for them (it must
    # say why); the office sees them in the run's summary and artifact, and in the log.
    refused: list[dict[str, Any]] = []
    reminders: list[dict[str, Any]] = []
    work_seconds = work.seconds
    for chunk in batches(work.dossiers, batch_size):
        result = letters_batch(db_url, as_of, chunk, out_dir, now, principal)
        work_seconds += result.seconds
        letters += result.letters
        escalations += result.escalations
        refused += result.refused
    for chunk in batches(work.reminders, batch_size):
        result = reminders_batch(db_url, as_of, chunk, now, principal)
        work_seconds += result.seconds
        reminders += result.reminders
    total = time.perf_counter() - started
    summary: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "skipped": None,
        "rules": work.rules,
        "candidates": len(work.dossiers),
        "letters": letters,
        "reminders": reminders,
        "escalations": escalations,
        "refused": refused,
        "batches": len(batches(work.dossiers, batch_size))
        + len(batches(work.reminders, batch_size)),
        "seconds": {
            "total": round(total, 3),
            "database": round(work_seconds, 3),  # queries, writes and rendering, in the services
            "prefect": round(total - work_seconds, 3),  # orchestration overhead
        },
    }
    _publish(summary, organisation)
    return summary


def _publish(result: dict[str, Any], organisation: str | None) -> None:
    """What the run issued, as a table in the Prefect UI (`flows.artifacts`)."""
    artifacts.publish(
        artifacts.apology_rows(result),
        artifacts.key("apology", organisation or "all"),
        artifacts.apology_description(result, organisation),
    )


def _nothing(as_of: dt.date, day_off: str, seconds: float) -> dict[str, Any]:
    return {
        "as_of": as_of.isoformat(),
        "skipped": f"{as_of.isoformat()} is not a working day ({day_off})",
        "rules": None,
        "candidates": 0,
        "letters": [],
        "reminders": [],
        "escalations": [],
        "refused": [],
        "batches": 0,
        "seconds": {"total": round(seconds, 3), "database": 0.0, "prefect": round(seconds, 3)},
    }
