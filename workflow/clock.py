"""Injected time: services and flows ask a clock, so tests and flows can run "as of" a date."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that only moves when told to (tests, simulations, "as of" runs)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = start.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self._now += delta
        return self._now

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = when.astimezone(dt.UTC)


def today_local(clock: Clock) -> dt.date:
    """The calendar date in Vietnam: due dates and overdue checks are local dates."""
    return clock.now().astimezone(LOCAL_TZ).date()


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored instant, aware: SQLite hands back naive datetimes for timezone-aware
    columns, and planflow only ever stores UTC."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
