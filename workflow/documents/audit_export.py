"""The audit log exported, every entry exactly as stored and hashed: JSON lines or CSV."""

from __future__ import annotations

import csv as csv_module
import json
from collections.abc import Iterable, Mapping
from typing import IO, Any

from workflow.domain.audit_chain import FIELDS, canonical_json


def jsonl(entries: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    """One canonical JSON object per line, `data` decoded to its object."""
    count = 0
    for row in entries:
        entry = dict(row)
        entry["data"] = json.loads(entry["data"])
        out.write(canonical_json(entry) + "\n")
        count += 1
    return count


def csv(entries: Iterable[Mapping[str, Any]], out: IO[str]) -> int:
    """A header of the entry's fields, then one row per entry; `data` stays the canonical
    JSON text that was hashed."""
    writer = csv_module.DictWriter(out, fieldnames=list(FIELDS), lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in entries:
        writer.writerow(dict(row))
        count += 1
    return count
