"""Reading the flows' runs: the last one of a flow for an organisation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from workflow.clock import as_utc
from workflow.store.queries.base import Queries
from workflow.store.tables import flow_runs


@dataclass(frozen=True, slots=True)
class FlowRun:
    flow: str
    organisation: str
    as_of: dt.date
    at: dt.datetime
    run_by: str


class FlowRunQueries(Queries):
    def last(self, flow: str, organisation: str) -> FlowRun | None:
        """The run as of the latest day (of those, the latest recorded); None: never run."""
        row = self.conn.execute(
            select(flow_runs)
            .where(flow_runs.c.flow == flow, flow_runs.c.organisation == organisation)
            .order_by(flow_runs.c.as_of.desc(), flow_runs.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return FlowRun(row.flow, row.organisation, row.as_of, as_utc(row.at), row.run_by)
