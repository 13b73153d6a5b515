"""Recording the database's mode, once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from workflow.store.queries.database import DatabaseQueries
from workflow.store.tables import database_info


class DatabaseRepository(DatabaseQueries):
    def set_mode(self, mode: str, at: dt.datetime, by: str) -> None:
        self.conn.execute(
            insert(database_info).values(id=1, mode=mode, created_at=at, created_by=by)
        )
