"""The audit log exported: JSON lines, every entry exactly as stored and hashed, or CSV to read.

A JSON line is the entry's hashed object (`audit_chain.hashed_object`) with its hash, in
canonical JSON: drop `hash`, canonicalise the rest (RFC 8785), and SHA-256 of its UTF-8 is
the hash (docs/audit-log-encoding.md). It is what an outside verifier reads
(tools/verify_audit_export.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import IO, Any

from workflow.documents.spreadsheet import SafeWriter
from workflow.domain.audit_chain import FIELDS, canonical_json, hashed_object


def jsonl(entries: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    """One canonical JSON object per line: the entry as hashed, `data` its stored JSON text
    (decode it a second time to read it), an optional field only when set."""
    count = 0
    for row in entries:
        out.write(canonical_json(hashed_object(row)) + "\n")
        count += 1
    return count


def csv(entries: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    """A header of the entry's fields, then one row per entry; `data` the canonical JSON
    text that was hashed. For reading in a spreadsheet (`workflow.documents.spreadsheet`:
    a byte-order mark, text cells that start like a formula behind a `'`), so not exactly
    as hashed: verify the JSON lines."""
    writer = SafeWriter(out)
    writer.writerow(FIELDS)
    count = 0
    for row in entries:
        writer.writerow(row.get(field) for field in FIELDS)
        count += 1
    return count


def xlsx(entries: Iterable[Mapping[str, Any]]) -> tuple[bytes, int]:
    """The CSV's columns and rows as one sheet (`workflow.documents.workbook`: text cells
    typed as text, never formulas), dated by the last entry's time: the same log gives the
    same bytes. For reading, as the CSV: verify the JSON lines."""
    from workflow.documents.workbook import Sheet, workbook

    rows = [[row.get(field) for field in FIELDS] for row in entries]
    last = rows[-1][FIELDS.index("at")] if rows else None
    when = dt.datetime.fromisoformat(str(last).replace("Z", "+00:00")) if last else None
    return workbook([Sheet("audit", FIELDS, rows)], when), len(rows)
