"""Reads for the one-stop desk's and the reports' pages: the organisation's procedures, the
due date a receipt would get (the working-day calendar the receipt itself uses, with the
days it skips), its dossiers, the apology letters issued (the documents the apology flow
recorded, bytes as stored), and two report revisions' totals side by side. Reads only:
every write goes through the services the CLI and the API use (`services.dossiers`,
`services.reports`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflow.context import Context
from workflow.documents.report import DOSSIER_COLUMNS, MOVE_COLUMNS, TASK_COLUMNS
from workflow.errors import InvalidInput
from workflow.services import dossiers
from workflow.services.calendar import calendar_for
from workflow.store.queries.documents import ListedDocument, StoredDocument

LETTER_KIND = "letter"
MAX_DOSSIERS_SHOWN = 200  # the desk's list: the newest; the API pages through the rest
MAX_LETTERS_SHOWN = 200  # the letters' files listed at the desk: the newest


@dataclass(frozen=True, slots=True)
class Skipped:
    date: dt.date
    reason: str


@dataclass(frozen=True, slots=True)
class DuePreview:
    """What the calendar gives a receipt now: the due date, the day counting starts from,
    and every day off skipped on the way (with why)."""

    procedure: Mapping[str, Any]
    received_at: dt.datetime
    counted_from: dt.date
    due: dt.date
    working_days: int
    skipped: tuple[Skipped, ...]


@dataclass(frozen=True, slots=True)
class Letter:
    """One file of an apology letter (its HTML or its DOCX), as recorded."""

    id: int
    name: str  # the file's name: <dossier code>-<missed due>.<html|docx>
    format: str  # html, docx
    dossier: int | None  # the dossier's id, from the letter's key (apology:<id>:<date>)
    missed_due: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Compared:
    key: str
    label: str
    first: Any
    second: Any

    @property
    def differs(self) -> bool:
        return bool(self.first != self.second)


def procedures(ctx: Context, organisation: str) -> list[dict[str, Any]]:
    return dossiers.list_procedures(ctx, organisation)


def preview_due(
    ctx: Context, organisation: str, procedure: str, received_at: dt.datetime
) -> DuePreview:
    """The due date `dossiers.receive` would give a receipt of `procedure` at `received_at`,
    on the organisation's calendar, by the same computation (`add_working_days` with the
    procedure's working days and cut-off hour)."""
    known = {p["code"]: p for p in procedures(ctx, organisation)}
    proc = known.get(procedure)
    if proc is None:
        raise InvalidInput(f"unknown procedure {procedure!r} of {organisation}")
    calendar = calendar_for(ctx, organisation)
    result = calendar.add_working_days(received_at, proc["working_days"], proc["cutoff_hour"])
    return DuePreview(
        proc,
        received_at,
        result.counted_from,
        result.due,
        result.working_days,
        tuple(Skipped(s.date, s.reason) for s in result.skipped),
    )


def recent_dossiers(ctx: Context, organisation: str) -> list[dict[str, Any]]:
    """The organisation's dossiers, newest first (the last `MAX_DOSSIERS_SHOWN`)."""
    with ctx.uow.reading() as r:
        found = r.dossiers.find(organisation, limit=MAX_DOSSIERS_SHOWN, newest_first=True)
        return [dossiers.dossier_view(d) for d in found]


def _letter(doc: ListedDocument) -> Letter:
    parts = doc.source.split(":")
    dossier = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None
    name = doc.path.rsplit("/", 1)[-1]
    return Letter(
        doc.id,
        name,
        name.rsplit(".", 1)[-1].lower(),
        dossier,
        parts[2] if len(parts) == 3 else "",
        doc.sha256,
        doc.size,
    )


def letters(ctx: Context, organisation: str) -> list[Letter]:
    """The organisation's last `MAX_LETTERS_SHOWN` apology letters' files, newest first."""
    with ctx.uow.reading() as r:
        return [
            _letter(d) for d in r.documents.listed(organisation, LETTER_KIND, MAX_LETTERS_SHOWN)
        ]


def letter_file(ctx: Context, organisation: str, document_id: int) -> StoredDocument | None:
    """One letter file of the organisation, bytes as recorded; None for any other document
    (another organisation's, a report's, none)."""
    with ctx.uow.reading() as r:
        return r.documents.one(document_id, organisation, LETTER_KIND)


TOTAL_LABELS: dict[str, str] = {
    **{k: f"Nhiệm vụ: {v.lower()}" for k, v in TASK_COLUMNS.items()},
    "tasks_due": "Nhiệm vụ: đến hạn trong kỳ",
    **{k: f"Nhiệm vụ: {v.lower()} trong kỳ" for k, v in MOVE_COLUMNS.items()},
    "tasks_open_at_end": "Nhiệm vụ: còn mở cuối kỳ",
    "on_time_pct": "Nhiệm vụ: tỷ lệ đúng hạn",
    **{k: f"Hồ sơ TTHC: {v.lower()}" for k, v in DOSSIER_COLUMNS.items()},
    "inspections_done": "Kiểm tra: số cuộc đã thực hiện",
    "units_inspected": "Kiểm tra: đơn vị đã được kiểm tra",
    "units_inspectable": "Kiểm tra: đơn vị thuộc diện kiểm tra",
    "inspection_coverage_pct": "Kiểm tra: tỷ lệ đơn vị được kiểm tra",
}
TOTAL_LABELS["tasks"] = "Số nhiệm vụ"
TOTAL_LABELS["dossiers_received"] = "Hồ sơ TTHC tiếp nhận"


def compare_totals(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[Compared]:
    """Two reports' totals, figure by figure (those either holds), in the report's order."""
    a: Mapping[str, Any] = first.get("totals") or {}
    b: Mapping[str, Any] = second.get("totals") or {}
    keys = [k for k in TOTAL_LABELS if k in a or k in b]
    keys += [k for k in [*a, *b] if k not in keys and not isinstance(a.get(k, b.get(k)), dict)]
    out: list[Compared] = []
    for key in dict.fromkeys(keys):
        out.append(Compared(key, TOTAL_LABELS.get(key, key), a.get(key), b.get(key)))
    return out


def report_xlsx(report: Mapping[str, Any]) -> bytes:
    """The report's table as an Excel workbook: the CSV's columns and rows (`render_csv`, of
    the stored snapshot alone), one sheet, so it holds what the CSV holds: the bytes the
    aggregate flow recorded as the report's .xlsx (`document_formats.report_file`)."""
    from workflow.services.document_formats import report_file

    return report_file(report, "xlsx")
