"""Prefect flow `apology`: apology letters for late dossiers, escalations, task reminders.

Orchestration only: it finds the work, then hands it to the services one batch at a time
(one Prefect task run per batch, never one per dossier). Safe to run twice for a day: every
side effect is keyed and recorded with its audit entry in one transaction.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NONE

from flows.runtime import batches, context
from workflow.services import apology as service

BATCH_SIZE = 500
ACTOR = service.ACTOR


@task(name="apology-find-work", cache_policy=NONE)
def find_work(
    db_url: str, as_of: dt.date, organisation: str | None, now: dt.datetime | None
) -> service.Work:
    return service.find_work(context(db_url, now, ACTOR), as_of, organisation)


@task(name="apology-letters-batch", cache_policy=NONE)
def letters_batch(
    db_url: str, as_of: dt.date, ids: list[int], out_dir: str, now: dt.datetime | None
) -> service.BatchResult:
    return service.process_dossiers(context(db_url, now, ACTOR), as_of, ids, Path(out_dir))


@task(name="apology-reminders-batch", cache_policy=NONE)
def reminders_batch(
    db_url: str, as_of: dt.date, ids: list[int], now: dt.datetime | None
) -> service.BatchResult:
    return service.process_reminders(context(db_url, now, ACTOR), as_of, ids)


@flow(name="apology", log_prints=False)
def apology_flow(
    db_url: str,
    as_of: dt.date,
    out_dir: str = "output",
    organisation: str | None = None,
    batch_size: int = BATCH_SIZE,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    started = time.perf_counter()
    work = find_work(db_url, as_of, organisation, now)
    letters: list[dict[str, Any]] = []
    escalations: list[dict[str, Any]] = []
    reminders: list[dict[str, Any]] = []
    work_seconds = work.seconds
    for chunk in batches(work.dossiers, batch_size):
        result = letters_batch(db_url, as_of, chunk, out_dir, now)
        work_seconds += result.seconds
        letters += result.letters
        escalations += result.escalations
    for chunk in batches(work.reminders, batch_size):
        result = reminders_batch(db_url, as_of, chunk, now)
        work_seconds += result.seconds
        reminders += result.reminders
    total = time.perf_counter() - started
    return {
        "as_of": as_of.isoformat(),
        "rules": work.rules,
        "candidates": len(work.dossiers),
        "letters": letters,
        "reminders": reminders,
        "escalations": escalations,
        "batches": len(batches(work.dossiers, batch_size))
        + len(batches(work.reminders, batch_size)),
        "seconds": {
            "total": round(total, 3),
            "database": round(work_seconds, 3),  # queries, writes and rendering, in the services
            "prefect": round(total - work_seconds, 3),  # orchestration overhead
        },
    }
