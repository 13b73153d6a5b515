"""Working days in Vietnam, and deadlines counted in working days.

A working day is Monday to Friday, less Vietnam's public holidays and the days off the
government gives in their place, plus the Saturdays it makes working days in exchange (the
`holidays` package: its VN calendar lists compensatory days as "... (nghỉ bù)" or "Ngày nghỉ
(thay cho ngày dd/mm/yyyy)" and the swapped Saturdays in `weekend_workdays`). An organisation
may override any day: extra days off and extra working days (years the package cannot know
yet, provincial days). Overrides win over the package.

Counting (as the Civil Code 2015, Art. 147, counts periods, and as one-stop offices do): the
day of receipt is not counted, and the deadline is the N-th working day after it. A dossier
received on a day off, or at or after the receipt cut-off hour when one applies, counts as
received on the next working day, which is then the day not counted.

Pure: no I/O. The national calendar of each year is computed once per process and kept.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple

import holidays

from workflow.clock import LOCAL_TZ

SATURDAY, SUNDAY = 5, 6
WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
ONE_DAY = dt.timedelta(days=1)


class SkippedDay(NamedTuple):
    """A day off inside a deadline, with its reason (in Vietnamese)."""

    date: dt.date
    reason: str


@dataclass(frozen=True)
class DueDate:
    """A deadline and how it was reached.

    `received` is the local date of receipt; `counted_from` the day not counted (the receipt
    day, or the next working day for a receipt on a day off or after the cut-off); `due` the
    N-th working day after `counted_from`; `skipped` every day off from `received` to `due`,
    oldest first, each with its reason.
    """

    received: dt.date
    counted_from: dt.date
    due: dt.date
    working_days: int
    skipped: tuple[SkippedDay, ...]


@lru_cache(maxsize=256)
def national_days_off(year: int) -> Mapping[int, SkippedDay]:
    """Every non-working day of `year` in Vietnam (weekends included) with its reason, keyed
    by date ordinal (`date.toordinal()`: cheap to step through)."""
    first, last = max(year - 1, dt.MINYEAR), min(year + 1, dt.MAXYEAR)
    # Neighbouring years too: a swap may cross New Year (a Saturday of December worked for a
    # day off in January is recorded while populating the next year).
    calendar = holidays.country_holidays("VN", years=range(first, last + 1), language="vi")
    worked_saturdays = {d for d in calendar.weekend_workdays if d.year == year}
    off: dict[int, SkippedDay] = {}
    for ordinal in range(_first_ordinal(year), _last_ordinal(year) + 1):
        day = dt.date.fromordinal(ordinal)
        name = calendar.get(day)
        if name is not None:
            off[ordinal] = SkippedDay(day, str(name))
        elif day.weekday() >= SATURDAY and day not in worked_saturdays:
            off[ordinal] = SkippedDay(day, WEEKDAY_NAMES[day.weekday()])
    return MappingProxyType(off)


def _first_ordinal(year: int) -> int:
    return dt.date(year, 1, 1).toordinal()


def _last_ordinal(year: int) -> int:
    return dt.date(year, 12, 31).toordinal()


def local_date(value: dt.date | dt.datetime) -> dt.date:
    """The calendar date in Vietnam of a date, or of a timezone-aware instant."""
    if isinstance(value, dt.datetime):
        return _local(value).date()
    return value


def _local(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("a time of receipt must be timezone-aware")
    return value.astimezone(LOCAL_TZ)


class WorkingCalendar:
    """Vietnam's working days, with an organisation's overrides (which win over the package).

    Immutable once built; the days off of each year are worked out on first use and kept
    (safe to share between threads: a year is published whole).
    """

    def __init__(
        self,
        extra_days_off: Mapping[dt.date, str] | None = None,
        extra_working_days: Mapping[dt.date, str] | None = None,
    ) -> None:
        self.extra_days_off: Mapping[dt.date, str] = MappingProxyType(dict(extra_days_off or {}))
        self.extra_working_days: Mapping[dt.date, str] = MappingProxyType(
            dict(extra_working_days or {})
        )
        both = sorted(set(self.extra_days_off) & set(self.extra_working_days))
        if both:
            raise ValueError(
                "a day cannot be both an extra day off and an extra working day: "
                + ", ".join(d.isoformat() for d in both)
            )
        # ordinal -> the day off, for every year in _years; the same ordinals sorted
        self._off: dict[int, SkippedDay] = {}
        self._sorted: list[int] = []
        self._years: set[int] = set()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar({len(self.extra_days_off)} extra days off, "
            f"{len(self.extra_working_days)} extra working days)"
        )

    # ---------------------------------------------------------------- days

    def _load(self, year: int) -> None:
        if year in self._years:
            return
        with self._lock:
            if year not in self._years:
                self._add_year(year)

    def _add_year(self, year: int) -> None:
        days = dict(national_days_off(year))
        for day in self.extra_working_days:
            if day.year == year:
                days.pop(day.toordinal(), None)
        for day, reason in self.extra_days_off.items():
            if day.year == year:
                days[day.toordinal()] = SkippedDay(day, reason)
        self._sorted = sorted([*self._sorted, *days])  # published whole, then the days
        self._off.update(days)
        self._years.add(year)

    def days_off(self, year: int) -> dict[dt.date, str]:
        """Every non-working day of `year` for this calendar, oldest first, with its reason."""
        self._load(year)
        first, last = _first_ordinal(year), _last_ordinal(year)
        ordinals = self._sorted
        return {
            self._off[o].date: self._off[o].reason
            for o in ordinals[
                bisect.bisect_left(ordinals, first) : bisect.bisect_right(ordinals, last)
            ]
        }

    def why_off(self, day: dt.date) -> str | None:
        """The reason `day` is not a working day, or None when it is one."""
        self._load(day.year)
        off = self._off.get(day.toordinal())
        return None if off is None else off.reason

    def is_working_day(self, day: dt.date) -> bool:
        return self.why_off(day) is None

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        day += ONE_DAY
        while not self.is_working_day(day):
            day += ONE_DAY
        return day

    def on_or_after(self, day: dt.date) -> dt.date:
        """`day` if it is a working day, else the next one (a deadline landing on a day off)."""
        return day if self.is_working_day(day) else self.next_working_day(day)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d <= end (negative when end is before start).

        `working_days_between(d.counted_from, d.due) == d.working_days`; for lateness,
        `working_days_between(due, delivered)` is the number of working days late.
        """
        if end < start:
            return -self.working_days_between(end, start)
        first, last = start.toordinal() + 1, end.toordinal()
        for year in range(start.year, end.year + 1):
            self._load(year)
        ordinals = self._sorted
        days_off = bisect.bisect_right(ordinals, last) - bisect.bisect_left(ordinals, first)
        return last - first + 1 - days_off

    # ---------------------------------------------------------------- deadlines

    def receipt_day(
        self, received: dt.date | dt.datetime, cutoff_hour: int | None = None
    ) -> dt.date:
        """The day a deadline counts from: the day of receipt; the next working day for a
        receipt on a day off, or (when `received` is a time and a cut-off applies) at or after
        `cutoff_hour` local time. A plain date carries no hour: no cut-off applies to it."""
        if cutoff_hour is not None and not 0 <= cutoff_hour <= 23:
            raise ValueError(f"cut-off hour {cutoff_hour} is not an hour (0-23)")
        if isinstance(received, dt.datetime):
            local = _local(received)
            if cutoff_hour is not None and local.hour >= cutoff_hour:
                return self.next_working_day(local.date())
            return self.on_or_after(local.date())
        return self.on_or_after(received)

    def add_working_days(
        self, received: dt.date | dt.datetime, days: int, cutoff_hour: int | None = None
    ) -> DueDate:
        """The deadline `days` working days after a receipt (the receipt day not counted)."""
        if days < 1:
            raise ValueError(f"a deadline is at least 1 working day, not {days}")
        received_on = local_date(received)
        counted_from = self.receipt_day(received, cutoff_hour)
        self._load(received_on.year)
        off = self._off
        skipped: list[SkippedDay] = []
        # Days off between the receipt and the day counting starts from (the receipt day
        # itself when it is one; a weekend after a receipt past the cut-off).
        ordinal = received_on.toordinal()
        while ordinal < counted_from.toordinal():
            day_off = off.get(ordinal)  # its years loaded by receipt_day
            if day_off is not None:
                skipped.append(day_off)
            ordinal += 1
        year = counted_from.year
        self._load(year)
        year_end = _last_ordinal(year)
        left = days
        while left:
            ordinal += 1
            if ordinal > year_end:
                year += 1
                self._load(year)
                year_end = _last_ordinal(year)
            day_off = off.get(ordinal)
            if day_off is None:
                left -= 1
            else:
                skipped.append(day_off)
        return DueDate(
            received=received_on,
            counted_from=counted_from,
            due=dt.date.fromordinal(ordinal),
            working_days=days,
            skipped=tuple(skipped),
        )
