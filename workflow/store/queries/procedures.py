"""Reading procedures: the administrative procedures (TTHC) each organisation handles, as
plan loading stored them (`store.repositories.procedures` writes them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from workflow.store.queries.base import Queries
from workflow.store.tables import procedures


@dataclass(frozen=True, slots=True)
class Procedure:
    """A stored procedure: what receiving a dossier for it needs, and what `procedures list`
    shows."""

    organisation: str
    code: str
    name: str
    working_days: int  # the legal processing time
    unit: str  # the unit that handles it
    cutoff_hour: int | None  # received at or after this local hour: counts from the next day
    illustrative: bool
    legal_basis: str | None


def _procedure(row: Any) -> Procedure:
    return Procedure(
        organisation=row.organisation,
        code=row.code,
        name=row.name,
        working_days=row.working_days,
        unit=row.unit,
        cutoff_hour=row.cutoff_hour,
        illustrative=bool(row.illustrative),
        legal_basis=row.legal_basis,
    )


class ProcedureQueries(Queries):
    def of_organisation(self, organisation: str) -> dict[str, Procedure]:
        """The organisation's procedures by code."""
        rows = self.conn.execute(
            select(procedures).where(procedures.c.organisation == organisation)
        )
        return {row.code: _procedure(row) for row in rows}

    def listed(self, organisation: str | None = None) -> list[Procedure]:
        """Every procedure (of one organisation, when given), by organisation and code."""
        stmt = select(procedures).order_by(procedures.c.organisation, procedures.c.code)
        if organisation:
            stmt = stmt.where(procedures.c.organisation == organisation)
        return [_procedure(row) for row in self.conn.execute(stmt)]
