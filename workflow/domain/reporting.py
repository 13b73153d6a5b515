"""Reporting periods, their data windows, and the rules that classify what a report counts.

**Windows.** A report covers a period key ('2024Q2', '2024H1', '2024'; see
`periods.parse_period`) over a window of local (Vietnam) dates, both ends included:

- `reporting` (the default; the Decree 09/2019/NĐ-CP convention, ../shared/DOMAIN.md): from the
  15th of the month before the period to the 14th of its last month. Q1 is 15/12 of the year
  before to 14/03, Q2 15/03 to 14/06, Q3 15/06 to 14/09, Q4 15/09 to 14/12; H1 15/12 to
  14/06, H2 15/06 to 14/12; the year 15/12 to 14/12. The quarters tile the year exactly.
- `calendar`: calendar quarters, halves and years (Q1 is 01/01 to 31/03).

A consequence worth knowing: under the reporting rule a task due 31/12/2024 falls in the
window of 2025Q1 (from 15/12/2024), not in 2024's.

**What falls in a window.** A report shows the progress of the organisation's plans over
the window (`docs/reports.md` explains each figure), over these populations:

- tasks (kinds `plan` and `fix`) *open at any time in the window*: assigned (created) before
  the window's end and not finished (verified, or withdrawn) before its start, whatever their
  due date: a task due 31/12 or "Thường xuyên" counts in every quarter it is open;
- the moves made in the window (start, submit, return, verify, close), from the audit log by
  their recorded time: each task counted once per kind of move;
- dossiers received in the window (local time of receipt);
- apology letters and escalations issued in the window;
- inspections completed (verified) in the window.

**Classification** (the functions below state each rule; the SQL in
`workflow.store.queries.report_figures` applies the same ones, and the tests check they agree).
Everything about a task is said *at the window's end* (the day after its last day, 00:00 in
Vietnam), or now when the window is still open (a *provisional* report):

- a task is *completed* in the window when its completion time (the verify move's) falls in
  it; *on time* when its completion's local date is on or before its due date, *late*
  otherwise;
- a task is *withdrawn* when it was closed without a result (the withdraw move) in the
  window; withdrawn tasks leave the completion rate's denominator;
- a task is *open at the end* when neither completed nor withdrawn by the window's end;
  *overdue* when open at the end and due before the window's end (before today in a
  provisional report: due today is not overdue yet); *due next period* when open at the end
  and due in the next period's window (same rule, same kind of period);
- a dossier is *resolved on time* when its result was approved (verified) on or before its
  original due date, *late* when after it (an apology letter moves the date the applicant is
  given, not the legal one: a dossier resolved within its new date is still late);
  *pending* when not resolved and not withdrawn; *overdue* when pending past its current due
  date;
- rates are percentages rounded half up to one decimal: completion = completed / (tasks −
  withdrawn); on time = on time / completed (tasks) or / resolved (dossiers); inspection
  coverage = inspectable units with a completed inspection / inspectable units; the province
  roll-up's on-time rate = on time / (completed + overdue), so that a task left undone counts
  against it. A rate with nothing to divide by is None.

Pure: no database, no I/O; stdlib only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from workflow.domain.periods import Period, parse_period
from workflow.errors import InvalidInput

WindowRule = Literal["reporting", "calendar"]
WINDOW_RULES: tuple[WindowRule, ...] = ("reporting", "calendar")
DEFAULT_RULE: WindowRule = "reporting"

# Reports are about real plans; far years only lead to date arithmetic at the edge of
# Python's calendar (a window ending 31/12/9999 has no "next day" to bound it with).
MIN_YEAR, MAX_YEAR = 1900, 2999

_MONTHS: dict[str, int] = {"year": 12, "half": 6, "quarter": 3}
_FIRST_DAY = 15  # reporting windows start on the 15th and end on the 14th


@dataclass(frozen=True, slots=True)
class Window:
    """The local dates a report covers, both ends included."""

    period: str
    rule: WindowRule
    start: dt.date
    end: dt.date

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "from": self.start.isoformat(), "to": self.end.isoformat()}

    def instants(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """The window as UTC instants, half-open [from 00:00, day after `to` 00:00) in `tz`:
        stored timestamps are UTC, and comparing them with these bounds keeps indexes usable."""
        lo = dt.datetime.combine(self.start, dt.time(), tz).astimezone(dt.UTC)
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tz)
        return lo, hi.astimezone(dt.UTC)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def parse_rule(raw: str) -> WindowRule:
    if raw not in WINDOW_RULES:
        raise InvalidInput(
            f"--window {raw!r} is not known; use reporting (15th to 14th, Decree 09/2019/NĐ-CP) "
            "or calendar (calendar quarters)"
        )
    return raw


def report_period(key: str) -> Period:
    """A period key a report can cover: parse_period's keys, within MIN_YEAR..MAX_YEAR."""
    period = parse_period(key)
    if not MIN_YEAR <= period.year <= MAX_YEAR:
        raise InvalidInput(f"period {key!r}: reports cover the years {MIN_YEAR} to {MAX_YEAR}")
    return period


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    """(year, month) moved by `months` (may be negative); month is 1-12."""
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def window(key: str, rule: WindowRule = DEFAULT_RULE) -> Window:
    """The window of period `key` under `rule` (see the module's docstring)."""
    period = report_period(key)
    months = _MONTHS[period.granularity]
    first_month = (period.index - 1) * months + 1
    last_year, last_month = _add_months(period.year, first_month, months - 1)
    if rule == "calendar":
        start = dt.date(period.year, first_month, 1)
        next_year, next_month = _add_months(last_year, last_month, 1)
        end = dt.date(next_year, next_month, 1) - dt.timedelta(days=1)
    else:
        before_year, before_month = _add_months(period.year, first_month, -1)
        start = dt.date(before_year, before_month, _FIRST_DAY)
        end = dt.date(last_year, last_month, _FIRST_DAY - 1)
    return Window(period.key, rule, start, end)


def next_period(key: str) -> str:
    """The period of the same kind right after `key` ('2024Q4' → '2025Q1', '2024H1' →
    '2024H2', '2024' → '2025'): what a report says falls due next."""
    period = report_period(key)
    if period.granularity == "year":
        return str(period.year + 1)
    per_year = 12 // _MONTHS[period.granularity]
    year, index = divmod(period.ordinal + 1, per_year)
    return f"{year}{'Q' if period.granularity == 'quarter' else 'H'}{index + 1}"


@dataclass(frozen=True, slots=True)
class Span:
    """What a report's task figures are measured against: the window as instants (UTC,
    half-open), the day before which an open task is overdue, and the next period's window."""

    window: Window
    start: dt.datetime  # the window's first instant
    end: dt.datetime  # the instant after its last day (00:00 of the next day, Vietnam)
    overdue_before: dt.date  # open tasks due before this day are overdue
    next_window: Window

    @property
    def provisional(self) -> bool:
        return self.overdue_before <= self.window.end


def span(win: Window, as_of: dt.date, tz: ZoneInfo) -> Span:
    """The span of a report on `win` asked on `as_of`: said at the window's end, or on
    `as_of` while the window is still open (provisional)."""
    start, end = win.instants(tz)
    after = win.end + dt.timedelta(days=1)
    nxt = window(next_period(win.period), win.rule)
    return Span(win, start, end, min(as_of, after), nxt)


def quarters_up_to(key: str) -> list[str]:
    """The quarters of the period's year that end no later than the period does: the
    on-time trend a report draws ('2024H1' → 2024Q1, 2024Q2; '2024' → Q1 to Q4)."""
    period = report_period(key)
    months = _MONTHS[period.granularity]
    last_quarter = (period.index * months) // 3
    return [f"{period.year}Q{q}" for q in range(1, last_quarter + 1)]


def latest_closed_quarter(day: dt.date, rule: WindowRule = DEFAULT_RULE) -> str:
    """The latest quarter whose window ended before `day`: what a scheduled run reports
    (on 15/06 under the reporting rule, 2024Q2, whose window closed on 14/06; under the
    calendar rule, 2024Q1)."""
    for year in (day.year + 1, day.year, day.year - 1):
        for quarter in (4, 3, 2, 1):
            key = f"{year}Q{quarter}"
            if window(key, rule).end < day:
                return key
    raise AssertionError("unreachable: every quarter of the year before has ended")


# ----------------------------------------------------------------------------- classification


def local_date(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    if moment.tzinfo is None:
        raise ValueError("completion times must be timezone-aware")
    return moment.astimezone(tz).date()


def completed_on_time(completed_on: dt.date, due: dt.date) -> bool:
    """On time: completed (local date) on or before the due date."""
    return completed_on <= due


def is_overdue(completed: bool, withdrawn: bool, due: dt.date, as_of: dt.date) -> bool:
    """Overdue: not completed, not withdrawn, and the due date is before `as_of`."""
    return not completed and not withdrawn and due < as_of


def percent(part: int, whole: int) -> float | None:
    """100 × part / whole, rounded half up to one decimal (exactly: no binary-float
    rounding at .x5); None when there is nothing to divide by."""
    if whole <= 0:
        return None
    exact = Decimal(100 * part) / Decimal(whole)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def provisional(win: Window, as_of: dt.date) -> bool:
    """A report generated before its window closed: later figures may still change."""
    return as_of <= win.end


def not_begun(win: Window, as_of: dt.date) -> bool:
    return as_of < win.start
