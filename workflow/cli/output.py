"""Rendering results as a table for people, or JSON / CSV for machines."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_rows(
    rows: Sequence[Mapping[str, Any]],
    fmt: Format,
    columns: Sequence[str],
    *,
    widths: Mapping[str, int] | None = None,
) -> None:
    """Lists: JSON is a list of whole objects; CSV and table show `columns`."""
    out = sys.stdout
    if fmt is Format.JSON:
        out.write(to_json(list(rows)) + "\n")
        return
    if fmt is Format.CSV:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        return
    widths = widths or {}
    cells = [[_clip(_cell(row.get(c)), widths.get(c, 40)) for c in columns] for row in rows]
    sizes = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    out.write("  ".join(c.upper().ljust(sizes[i]) for i, c in enumerate(columns)).rstrip() + "\n")
    for r in cells:
        out.write("  ".join(v.ljust(sizes[i]) for i, v in enumerate(r)).rstrip() + "\n")
    if not rows:
        out.write("(none)\n")


def render_object(obj: Mapping[str, Any], fmt: Format) -> None:
    """One object: JSON object, a one-row CSV, or `key: value` lines."""
    if fmt is Format.JSON:
        sys.stdout.write(to_json(obj) + "\n")
    elif fmt is Format.CSV:
        render_rows([obj], fmt, list(obj))
    else:
        width = max(len(k) for k in obj) if obj else 0
        for key, value in obj.items():
            sys.stdout.write(f"{key.ljust(width)}  {_cell(value)}\n")
