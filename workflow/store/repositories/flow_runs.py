"""Recording the flows' runs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert

from workflow.store.queries.flow_runs import FlowRun, FlowRunQueries
from workflow.store.tables import flow_runs


class FlowRunRepository(FlowRunQueries):
    def add(self, runs: Sequence[FlowRun]) -> None:
        if runs:
            self.conn.execute(
                insert(flow_runs),
                [
                    {
                        "flow": r.flow,
                        "organisation": r.organisation,
                        "as_of": r.as_of,
                        "at": r.at,
                        "run_by": r.run_by,
                    }
                    for r in runs
                ],
            )
