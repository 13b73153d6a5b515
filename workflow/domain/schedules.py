"""From a task row's schedule to the tasks it makes: one per period, each with a due date.

Pure: takes the schedule and the plan's period, returns (period key, due date) pairs.
`Thường xuyên` and `Trong năm` tasks are due at the end of the plan's period (or year);
a periodic task makes one task per quarter / half-year / year that the plan's period touches,
due on the last day of that period (or of the plan, if it ends earlier).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

Frequency = Literal["quarterly", "half_yearly", "yearly"]


@dataclass(frozen=True, slots=True)
class Occurrence:
    period: str  # '' for a one-off task; 2024Q1, 2024H2, 2024, or a date for named schedules
    due: dt.date


def _end_of_month(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def periods(
    start: dt.date, end: dt.date, frequency: Frequency
) -> list[tuple[str, dt.date, dt.date]]:
    """(key, first day, last day) of every period of `frequency` that overlaps [start, end]."""
    months = {"quarterly": 3, "half_yearly": 6, "yearly": 12}[frequency]
    out = []
    for year in range(start.year, end.year + 1):
        for index, first_month in enumerate(range(1, 13, months), start=1):
            first = dt.date(year, first_month, 1)
            last = _end_of_month(year, first_month + months - 1)
            if last < start or first > end:
                continue
            key = {
                "quarterly": f"{year}Q{index}",
                "half_yearly": f"{year}H{index}",
                "yearly": f"{year}",
            }[frequency]
            out.append((key, first, last))
    return out


def continuous(end: dt.date) -> list[Occurrence]:
    return [Occurrence("", end)]


def within_year(year: int, start: dt.date, end: dt.date) -> list[Occurrence]:
    return [Occurrence("", min(dt.date(year, 12, 31), end))]


def periodic(frequency: Frequency, start: dt.date, end: dt.date) -> list[Occurrence]:
    return [Occurrence(key, min(last, end)) for key, _, last in periods(start, end, frequency)]


def by_date(due: dt.date) -> list[Occurrence]:
    return [Occurrence("", due)]


def named(dates: list[dt.date], end: dt.date) -> list[Occurrence]:
    if not dates:
        return [Occurrence("", end)]
    return [Occurrence(d.isoformat(), d) for d in sorted(set(dates))]
