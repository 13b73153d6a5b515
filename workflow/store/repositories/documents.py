"""Writing documents: a file's bytes and hash, recorded in the transaction that records the
letter, notice or report it belongs to (the file itself is written after the commit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert

from workflow.store.queries.documents import DocumentQueries
from workflow.store.tables import documents


@dataclass(frozen=True, slots=True)
class NewDocument:
    path: str  # under the output folder, e.g. letters/LSN-SKHDT/HS-001-2024-06-05.html
    kind: str  # letter, notice, report
    source: str  # the notice key, or report:<snapshot>
    organisation: str
    target: Path  # where this run writes it
    sha256: str
    content: bytes


class DocumentRepository(DocumentQueries):
    def add(self, new: Sequence[NewDocument], now: dt.datetime) -> None:
        if new:
            self.conn.execute(
                insert(documents),
                [
                    {
                        "path": d.path,
                        "kind": d.kind,
                        "source": d.source,
                        "organisation": d.organisation,
                        "written_to": str(d.target.absolute()),
                        "sha256": d.sha256,
                        "content": d.content,
                        "created_at": now,
                    }
                    for d in new
                ],
            )
