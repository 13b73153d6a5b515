"""Rendering results as a table for people, or JSON / CSV / XLSX for machines."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import typer

from workflow.cli.terminal import json_visible, visible
from workflow.clock import LOCAL_TZ
from workflow.documents.spreadsheet import SafeWriter
from workflow.errors import InvalidInput, PlanflowError


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"  # the CSV's columns as a workbook, to stdout redirected to a file


class AlreadyReported(Exception):
    """A failure the command has rendered itself, as its documented output (a verification
    report on stdout): `main` returns the error's exit code and writes nothing more.

    Not a user-facing error class (those are `workflow.errors`): it carries one."""

    def __init__(self, error: PlanflowError) -> None:
        super().__init__(str(error))
        self.error = error


def to_json(value: Any) -> str:
    # Vietnamese stays readable; the characters a terminal would obey are escaped.
    return json_visible(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


# An instant as JSON carries it: ISO 8601 with its offset (`2024-06-20T02:15:00+00:00`, `Z`).
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})")
TIME_SHOWN = "%Y-%m-%d %H:%M:%S"  # Vietnam time, no offset: what a person reads in a table


def shown_time(value: dt.datetime) -> str:
    """An instant as a person reads it: Vietnam time, the same everywhere in the CLI."""
    return value.astimezone(LOCAL_TZ).strftime(TIME_SHOWN)


def _table_cell(value: Any) -> str:
    """A cell for people: instants in Vietnam time (JSON and CSV keep ISO 8601 with the
    offset, for machines)."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return shown_time(value)
    if isinstance(value, str) and _INSTANT.fullmatch(value):
        return shown_time(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    return _cell(value)


def _csv_cell(value: Any) -> Any:
    """A number stays a number (the spreadsheet rule leaves it as is); the rest as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return _cell(value)


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
    if fmt is Format.XLSX:
        _xlsx(rows, columns)
        return
    if fmt is Format.CSV:
        writer = SafeWriter(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_cell(row.get(c)) for c in columns])
        return
    widths = widths or {}
    cells = [
        [_clip(visible(_table_cell(row.get(c))), widths.get(c, 40)) for c in columns]
        for row in rows
    ]
    sizes = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    out.write("  ".join(c.upper().ljust(sizes[i]) for i, c in enumerate(columns)).rstrip() + "\n")
    for r in cells:
        out.write("  ".join(v.ljust(sizes[i]) for i, v in enumerate(r)).rstrip() + "\n")
    if not rows:
        out.write("(none)\n")


def _xlsx(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """The CSV's columns and rows as one sheet, written to stdout, which must not be a
    terminal (`planflow tasks list --format xlsx > tasks.xlsx`)."""
    from workflow.documents.workbook import Sheet, workbook

    if sys.stdout.isatty():
        raise InvalidInput("--format xlsx writes a workbook: redirect it to a file (> FILE.xlsx)")
    data = workbook([Sheet("planflow", columns, ([row.get(c) for c in columns] for row in rows))])
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def render_object(obj: Mapping[str, Any], fmt: Format) -> None:
    """One object: JSON object, a one-row CSV, or `key: value` lines."""
    if fmt is Format.JSON:
        sys.stdout.write(to_json(obj) + "\n")
    elif fmt in (Format.CSV, Format.XLSX):
        render_rows([obj], fmt, list(obj))
    else:
        width = max(len(k) for k in obj) if obj else 0
        for key, value in obj.items():
            sys.stdout.write(f"{key.ljust(width)}  {visible(_table_cell(value))}\n")


def report_summary(r: Mapping[str, Any]) -> None:
    """A stored report as people read it (`flows aggregate`, `reports show`)."""
    t, w = r["totals"], r["window"]
    revision = str(r["revision"])
    if r["previous"]:
        revision += f" (revises report {r['previous']['snapshot']}: {r['reason']})"
    generated = f"{_table_cell(r['generated_at'])} by {r['generated_by']}"
    if r["provisional"]:
        generated += " (provisional: the window had not closed)"
    tasks = (
        f"{t['tasks']} open in the window ({t.get('tasks_due', '?')} due in it): "
        f"{t['tasks_completed']} completed ({t['tasks_completed_on_time']} on time, "
        f"{t['tasks_completed_late']} late), {t['tasks_withdrawn']} withdrawn, "
        f"{t.get('tasks_open_at_end', '?')} still open ({t['tasks_overdue']} overdue, "
        f"{t.get('tasks_due_next', '?')} due next period); completion "
        f"{_pct(t['completion_pct'])}"
    )
    # Tasks that made each move in the window (reports before planflow.report/2: none).
    moves = ", ".join(
        f"{t.get(f'tasks_{m}', '?')} {m}"
        for m in ("started", "submitted", "returned", "verified", "closed")
    )
    dossiers = (
        f"{t['dossiers_received']} received: {t['dossiers_resolved_on_time']} on time, "
        f"{t['dossiers_resolved_late']} late, {t['dossiers_pending']} pending "
        f"({t['dossiers_overdue']} overdue); {t['apology_letters']} apology letter(s), "
        f"{t['escalations']} escalation(s)"
    )
    inspections = (
        f"{t['inspections_done']} done; {t['units_inspected']} of {t['units_inspectable']} "
        f"inspectable units covered ({_pct(t['inspection_coverage_pct'])})"
    )
    lines = [
        ("organisation", f"{r['organisation']['code']} ({r['organisation']['name']})"),
        ("period", f"{r['period']}, {w['rule']} window {w['from']} to {w['to']}"),
        ("revision", revision),
        ("generated", generated),
        ("hash", r["hash"]),
        ("tasks", tasks),
        ("moves", moves),
        ("by state", ", ".join(f"{s} {n}" for s, n in t["tasks_by_state"].items())),
        ("dossiers", dossiers),
        ("inspections", inspections),
        ("plans", ", ".join(f"{p['id']} v{p['version']}" for p in r["plans"]) or "none"),
    ]
    for label, text in lines:
        typer.echo(f"  {label:<13}{visible(text)}")


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value}%"
