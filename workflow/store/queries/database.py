"""Reading what `planflow init` made of the database: production or simulation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from workflow.clock import as_utc
from workflow.store.queries.base import Queries
from workflow.store.tables import database_info


@dataclass(frozen=True, slots=True)
class DatabaseMode:
    mode: str  # production or simulation
    created_at: dt.datetime
    created_by: str  # the operating-system user who ran `planflow init`


class DatabaseQueries(Queries):
    def mode(self) -> DatabaseMode | None:
        """None: no `planflow init` chose a mode yet (a database made by an older planflow,
        or by the tests' and benchmarks' own set-up): it behaves as a simulation."""
        row = self.conn.execute(select(database_info)).first()
        if row is None:
            return None
        return DatabaseMode(row.mode, as_utc(row.created_at), row.created_by)
