"""What every flow needs from the engine: a service context per database, built once."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import Engine

from workflow.clock import Clock, FixedClock, SystemClock, today_local
from workflow.context import Context
from workflow.services.calendar import calendar_for
from workflow.store.engine import open_engine

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def context(db_url: str, now: dt.datetime | None, actor: str) -> Context:
    """A context on a shared engine; `now` pins the clock (simulations, "as of" runs)."""
    with _LOCK:
        engine = _ENGINES.get(db_url)
        if engine is None:
            engine = _ENGINES[db_url] = open_engine(db_url)
    clock: Clock = FixedClock(now) if now is not None else SystemClock()
    return Context(engine, clock=clock, operator=actor)


def scheduled_day(
    db_url: str, organisation: str | None, now: dt.datetime | None, actor: str
) -> tuple[dt.date, str | None]:
    """A scheduled run's day (today in Vietnam, by the clock) and, when the organisation
    does not work that day, why (its calendar: weekends, holidays, its file's overrides).
    Schedules fire every day; this is where a day off is told apart, not in the cron."""
    ctx = context(db_url, now, actor)
    day = today_local(ctx.clock)
    return day, calendar_for(ctx, organisation).why_off(day)


def dispose() -> None:
    with _LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def batches(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
