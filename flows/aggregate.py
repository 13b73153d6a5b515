"""Prefect flow `aggregate`: an organisation's report for a period, as an immutable snapshot,
written as JSON, CSV and HTML.

Orchestration only: one Prefect task run makes (or fetches) the snapshot, whose figures the
database computes in a handful of grouped queries; one more renders its files. Never a task
run per row. Safe to run twice: the second run returns the stored snapshot and writes the
same bytes again; only `revise` makes a new revision.

Each run publishes a Prefect table artifact (`flows.artifacts`): the snapshot and the files
written; a task that fails on a transient database error is retried (`flows.retries`).

Who the run acts as (the person who started it, its schedule, or `flow:aggregate`) is
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
from flows.runtime import PrincipalFields, acting, context
from workflow.clock import today_local
from workflow.services import flow_runs
from workflow.services import reports as service

ACTOR = service.ACTOR


@task(name="aggregate-run", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def record_run(
    db_url: str, organisation: str, now: dt.datetime | None, principal: PrincipalFields | None
) -> None:
    """The run, for today (in Vietnam, by the run's clock): the day its report is as of."""
    ctx = context(db_url, now, ACTOR, principal)
    flow_runs.record(ctx, "aggregate", organisation, today_local(ctx.clock))


@task(name="aggregate-snapshot", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def snapshot(
    db_url: str,
    request: service.Request,
    out_dir: str,
    now: dt.datetime | None,
    principal: PrincipalFields | None,
) -> service.Outcome:
    ctx = context(db_url, now, ACTOR, principal)
    return service.generate(ctx, request, Path(out_dir))


@task(name="aggregate-files", cache_policy=NONE, **ON_TRANSIENT_ERRORS)
def files(outcome: service.Outcome, out_dir: str) -> tuple[dict[str, str], float]:
    """The files recorded with the snapshot, written once its transaction has committed."""
    started = time.perf_counter()
    paths = service.write_files(outcome.report, Path(out_dir), outcome.documents)
    return paths, time.perf_counter() - started


@flow(name="aggregate", log_prints=False)
def aggregate_flow(
    db_url: str,
    organisation: str,
    period: str | None = None,
    rule: str = "reporting",
    out_dir: str = "output/reports",
    revise: bool = False,
    reason: str | None = None,
    requested_by: str | None = None,
    now: dt.datetime | None = None,
    principal: PrincipalFields | None = None,
) -> dict[str, Any]:
    """The report's JSON, plus `files` (paths written), `created` (False: the stored snapshot
    was returned) and `seconds` (services against Prefect's own overhead). Without a period
    (a scheduled run): the latest quarter whose window has closed. `principal`: the person
    who started the run (see `flows.runtime`), who then also requested it."""
    started = time.perf_counter()
    principal = acting(principal)
    if period is None:
        period = service.latest_closed_quarter(context(db_url, now, ACTOR, principal), rule)
    if principal is not None:
        requested_by = str(principal["id"])  # an authenticated run: who asked is who acts
    record_run(db_url, organisation, now, principal)
    request = service.Request(organisation, period, rule, revise, reason, requested_by)
    outcome = snapshot(db_url, request, out_dir, now, principal)
    paths, render_seconds = files(outcome, out_dir)
    report = {**outcome.report, "created": outcome.created}
    artifacts.publish(
        artifacts.report_rows(report, paths),
        artifacts.key("report", organisation, period, rule),
        artifacts.report_description(report),
    )
    total = time.perf_counter() - started
    work = outcome.seconds + render_seconds
    return {
        **outcome.report,
        "created": outcome.created,
        "files": paths,
        "seconds": {
            "total": round(total, 3),
            "database": round(outcome.seconds, 3),  # aggregates, snapshot and audit entry
            "files": round(render_seconds, 3),
            "prefect": round(total - work, 3),
        },
    }
