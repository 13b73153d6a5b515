"""What every query and repository object holds: the connection of its transaction and the
backend serving it."""

from __future__ import annotations

from sqlalchemy import Connection

from workflow.store.backend import Backend


class Queries:
    def __init__(self, conn: Connection, backend: Backend) -> None:
        self.conn = conn
        self.backend = backend
