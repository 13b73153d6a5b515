"""Reading documents: the letters, notices and report files the flows recorded, each with
its bytes and SHA-256 (`documents verify|restore`)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from sqlalchemy import func, select

from workflow.store.queries.base import Queries
from workflow.store.tables import documents


@dataclass(frozen=True, slots=True)
class StoredDocument:
    id: int
    path: str  # under the output folder: letters/<ORG>/..., inspections/..., reports/...
    kind: str
    source: str
    organisation: str
    written_to: str
    sha256: str
    content: bytes


@dataclass(frozen=True, slots=True)
class ListedDocument:
    """A recorded document without its bytes: what a list shows."""

    id: int
    path: str
    kind: str
    source: str
    sha256: str
    size: int


_COLUMNS = (
    documents.c.id,
    documents.c.path,
    documents.c.kind,
    documents.c.source,
    documents.c.organisation,
    documents.c.written_to,
    documents.c.sha256,
    documents.c.content,
)


class DocumentQueries(Queries):
    def every(self, organisations: Collection[str] | None = None) -> Iterator[StoredDocument]:
        """Every recorded document (of these organisations, when given), by id; streamed a
        page at a time, so a year of letters is not held in memory at once."""
        stmt = select(*_COLUMNS).order_by(documents.c.id)
        if organisations is not None:
            stmt = stmt.where(documents.c.organisation.in_(sorted(organisations)))
        result = self.conn.execution_options(yield_per=500).execute(stmt)
        for row in result:
            yield StoredDocument(*row)

    def of_source(self, source: str) -> list[StoredDocument]:
        """The files recorded for one letter, notice or report (`report:<id>`)."""
        stmt = select(*_COLUMNS).where(documents.c.source == source).order_by(documents.c.id)
        return [StoredDocument(*row) for row in self.conn.execute(stmt)]

    def listed(self, organisation: str, kind: str, limit: int) -> list[ListedDocument]:
        """An organisation's last `limit` documents of a kind, the newest first, without
        their bytes (a year of letters is not read to list the last few)."""
        c = documents.c
        stmt = (
            select(c.id, c.path, c.kind, c.source, c.sha256, func.length(c.content))
            .where(c.organisation == organisation, c.kind == kind)
            .order_by(c.id.desc())
            .limit(limit)
        )
        return [ListedDocument(*row) for row in self.conn.execute(stmt)]

    def one(self, document_id: int, organisation: str, kind: str) -> StoredDocument | None:
        """One document with its bytes, when it is the organisation's and of that kind."""
        c = documents.c
        stmt = select(*_COLUMNS).where(
            c.id == document_id, c.organisation == organisation, c.kind == kind
        )
        row = self.conn.execute(stmt).first()
        return StoredDocument(*row) if row is not None else None
