"""The outgoing register (sổ văn bản đi): the next number of an organisation's documents of
one kind in one calendar year.

One statement takes it: an INSERT of the year's first number that, when the counter row
exists, adds one to it instead and returns the result (the same SQL on both backends). On
PostgreSQL the statement locks the counter row until the transaction ends, so concurrent
issuers queue on it and each reads the number the one before committed (READ COMMITTED
re-reads a row it waited for), and an issuer that rolls back gives its number back with the
rest of its transaction: no gap, no number twice. On SQLite writers are serialised already
(BEGIN IMMEDIATE). The number is taken in the transaction that records the document and its
audit entry: both commit, or neither.
"""

from __future__ import annotations

from sqlalchemy import select, text

from workflow.store.queries.base import Queries
from workflow.store.tables import document_registers

_NEXT = text(
    "INSERT INTO document_registers (organisation, year, kind, last_number) "
    "VALUES (:organisation, :year, :kind, 1) "
    "ON CONFLICT (organisation, year, kind) "
    "DO UPDATE SET last_number = document_registers.last_number + 1 "
    "RETURNING last_number"
)


class RegisterRepository(Queries):
    def next_number(self, organisation: str, year: int, kind: str) -> int:
        """Take the next number of the register; it is the transaction's to keep or give back."""
        found = self.conn.execute(
            _NEXT, {"organisation": organisation, "year": year, "kind": kind}
        ).scalar_one()
        return int(found)

    def last_numbers(self, organisation: str) -> dict[tuple[int, str], int]:
        """The last number taken in each of the organisation's registers, by (year, kind)."""
        rows = self.conn.execute(
            select(
                document_registers.c.year,
                document_registers.c.kind,
                document_registers.c.last_number,
            ).where(document_registers.c.organisation == organisation)
        )
        return {(int(year), str(kind)): int(last) for year, kind, last in rows}
