"""When the Prefect flows run on their own: the deployments `planflow serve` registers, worked
out from the organisations' definitions. Pure: no Prefect, no database, no clock.

Three deployments per organisation, each named by the organisation's code, with cron
schedules in Vietnam time (Prefect evaluates them in that zone, so 07:00 is 07:00 in Hà Nội
whatever the host's zone):

- `apology/<ORG>`, every morning at 07:00: letters, escalations, reminders as of that day.
  The cron fires every day and the flow itself does nothing on the organisation's days off
  (weekends, public holidays, its file's `calendar.days_off`), and works on the Saturdays
  its calendar makes working days: a cron cannot know Vietnam's lunar holidays or the
  government's day swaps, the organisation's calendar does.
- `inspection/<ORG>` (organisations with an `inspection:` section), every morning at 07:30,
  also skipped on days off. The first run of a period (year, half or quarter, as the file's
  `inspection.every` says) makes its draw: that is the period's first working day, or the
  first working day `serve` runs in that period. Later runs return the stored draw and
  conclude the inspection records verified since: the same flow does both, and a yearly
  cron would leave a record verified in March unconcluded until January.
- `aggregate/<ORG>`, at 02:00 on the 15th of March, June, September and December: the
  quarter whose reporting window (15th of the month before the quarter to the 14th of its
  last month, Decree 09/2019/NĐ-CP) closed at midnight, under the `reporting` rule. Not
  skipped on days off: the figures are taken as of the cut-off, whatever day it falls on.

`parameters` are what every host agrees on; the host adds where the database is and where
files go (`db_url`, `out_dir`), see `flows.serve`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from workflow.definitions.models import OrganisationSpec
from workflow.domain.calendar import WorkingCalendar
from workflow.domain.inspection import current_period

FlowName = Literal["apology", "inspection", "aggregate"]

TIMEZONE = "Asia/Ho_Chi_Minh"
APOLOGY_CRON = "0 7 * * *"  # before the one-stop desks open: letters ready for the day
INSPECTION_CRON = "30 7 * * *"  # after the apology run, so the two rarely overlap
AGGREGATE_CRON = "0 2 15 3,6,9,12 *"  # the night the quarter's reporting window closed
REPORT_RULE = "reporting"

# The folder under the host's output folder each flow writes to (the CLI's defaults).
FOLDERS: Mapping[FlowName, str] = {
    "apology": "",
    "inspection": "inspections",
    "aggregate": "reports",
}

_MONTHS = {"year": 12, "half": 6, "quarter": 3}


@dataclass(frozen=True, slots=True)
class ScheduledFlow:
    """One deployment: a flow, its cron schedule and the parameters its runs get."""

    flow: FlowName
    name: str  # the deployment's name: the organisation's code
    cron: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    timezone: str = TIMEZONE

    @property
    def full_name(self) -> str:
        """Prefect's `<flow>/<deployment>`, as `run_deployment` and `prefect deployment` take."""
        return f"{self.flow}/{self.name}"

    @property
    def folder(self) -> str:
        return FOLDERS[self.flow]


def plan(organisations: Iterable[OrganisationSpec]) -> list[ScheduledFlow]:
    """The deployments for these organisations, ordered by organisation code, then flow."""
    planned: list[ScheduledFlow] = []
    for org in sorted(organisations, key=lambda o: o.code):
        planned.append(
            ScheduledFlow(
                "apology",
                org.code,
                APOLOGY_CRON,
                "apology letters, escalations and task reminders as of the day, every "
                "working morning (days off of the organisation's calendar: nothing)",
                # as_of None: the flow takes today in Vietnam and checks it is a working day
                {"organisation": org.code, "as_of": None},
            )
        )
        if org.inspection is not None:
            every = org.inspection.every
            planned.append(
                ScheduledFlow(
                    "inspection",
                    org.code,
                    INSPECTION_CRON,
                    f"draw of the {every}'s units on its first working morning, then every "
                    "working morning the conclusions of verified inspection records",
                    # period None: the one today falls in; actor None: `flow:inspection`
                    # draws, on the authority of the organisation's file
                    {"organisation": org.code, "period": None, "actor": None},
                )
            )
        planned.append(
            ScheduledFlow(
                "aggregate",
                org.code,
                AGGREGATE_CRON,
                "the quarter's report (snapshot, JSON, CSV, HTML) the night its reporting "
                "window closed (15th of March, June, September, December)",
                # period None: the quarter whose window closed last before the run
                {"organisation": org.code, "period": None, "rule": REPORT_RULE},
            )
        )
    return planned


def next_draw(
    org: OrganisationSpec, calendar: WorkingCalendar, day: dt.date
) -> tuple[str, dt.date]:
    """The next period after `day`'s and the day its draw is due: the period's first working
    day on the organisation's calendar (2025: 2 January, New Year's Day being off)."""
    if org.inspection is None:
        raise ValueError(f"{org.code} has no inspection section")
    every = org.inspection.every
    months = _MONTHS[every]
    index = (day.month - 1) // months  # 0-based index of day's period in its year
    month0 = (index + 1) * months  # 0-based month of the next period's start, may be 12
    start = dt.date(day.year + month0 // 12, month0 % 12 + 1, 1)
    return current_period(start, every), calendar.on_or_after(start)
