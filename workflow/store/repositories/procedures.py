"""Writing procedures: added or updated as an organisation's procedures file says, never
deleted (dossiers refer to them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import insert, update

from workflow.store.queries.procedures import Procedure, ProcedureQueries
from workflow.store.tables import procedures


class ProcedureRepository(ProcedureQueries):
    def add(self, new: Sequence[Procedure]) -> None:
        if new:
            self.conn.execute(insert(procedures), [asdict(p) for p in new])

    def update(self, changed: Sequence[Procedure]) -> None:
        """Stored procedures rewritten as given (one statement each: an edited file changes
        a few)."""
        c = procedures.c
        for proc in changed:
            values = asdict(proc)
            del values["organisation"], values["code"]
            self.conn.execute(
                update(procedures)
                .where(c.organisation == proc.organisation, c.code == proc.code)
                .values(**values)
            )
