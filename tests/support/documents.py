"""Letters, conclusion notices and reports made quickly through the services, each written
under one output folder as the flows lay it out (letters/, inspections/, reports/), for the
tests of `documents verify|restore` (this module holds no test)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.integration import test_inspections as inspecting
from tests.integration import test_reports as reporting
from tests.integration.test_dossiers import DEFINITIONS, HEAD, at, receive, run_apology
from workflow.definitions.checks import validate
from workflow.domain.lifecycle import Move
from workflow.services import Context, reports
from workflow.services import dossiers as dossier_service
from workflow.services import inspection_records as records
from workflow.services import inspections as draws
from workflow.services import organisations as org_service
from workflow.services import plans as plan_service
from workflow.services import tasks as task_service

LETTERS_ORG = "LSN-SKHDT"
NOTICES_ORG = inspecting.ORG
REPORTS_ORG = reporting.ORG


def load_definitions(ctx: Context) -> None:
    found, problems = validate([DEFINITIONS])
    assert problems == []
    plan_service.load(ctx, found)


def late_dossiers(ctx: Context, count: int) -> list[int]:
    """`count` dossiers of Lạng Sơn received on Mon 3/6/2024, due Thu 6/6 (the definitions
    must be loaded)."""
    ctx.clock.set(at(3, 8))  # type: ignore[attr-defined]
    ids = [
        int(str(receive(ctx, at(3, 9, i % 60) + dt.timedelta(hours=i // 60), f"Hộ số {i}")["id"]))
        for i in range(count)
    ]
    for dossier_id in ids:  # a letter states the reason the handling unit declared
        dossier_service.delay(ctx, dossier_id, "Cần xác minh thông tin chủ sở hữu", 2, HEAD)
    return ids


def letters(ctx: Context, out: Path, count: int = 3) -> list[Path]:
    """`count` apology letters of 5/6/2024, HTML and DOCX, under out/letters/LSN-SKHDT/."""
    load_definitions(ctx)
    late_dossiers(ctx, count)
    issued = run_apology(ctx, 5, out).letters
    assert len(issued) == count
    return sorted(Path(p) for letter in issued for p in (letter["path"], letter["docx"]))


def notice(ctx: Context, out: Path) -> list[Path]:
    """One conclusion notice, HTML, DOCX and PDF, under out/inspections/SO-KT/2024/."""
    org_service.upsert_organisation(ctx, inspecting.inspected_agency())
    checked = task_service.create_tasks(
        ctx, [inspecting.new_task("U03", "A.1", dt.date(2024, 6, 30))]
    )
    drawn = draws.draw(ctx, inspecting.ORG, "2024", inspecting.INSPECTOR, seed=0, ratio=1.0)
    task_id = drawn.tasks["U03"]
    task_service.move(ctx, task_id, Move.START, inspecting.INSPECTOR)
    today = ctx.clock.now().date()
    record = {
        "inspected_on": today.isoformat(),
        "findings": [{"task": checked[0], "compliant": False, "note": "Chưa niêm yết TTHC"}],
        "fixes": [
            {"title": "Niêm yết TTHC", "due": (today + dt.timedelta(days=30)).isoformat(),
             "task": checked[0]}
        ],
    }  # fmt: skip
    records.submit_record(ctx, task_id, inspecting.INSPECTOR, record)
    task_service.move(ctx, task_id, Move.VERIFY, inspecting.OFFICE1)
    [done] = records.conclude(ctx, [task_id], out / "inspections")
    return sorted([Path(done.html), Path(done.docx), Path(done.html).with_suffix(".pdf")])


def report(ctx: Context, out: Path) -> list[Path]:
    """One report of 2024Q2, JSON, CSV, HTML, PDF and XLSX, under out/reports/SO-BC/."""
    reporting.build(ctx)
    outcome = reports.generate(ctx, reports.Request(REPORTS_ORG, "2024Q2"), out / "reports")
    written = reports.write_files(outcome.report, out / "reports", outcome.documents)
    return sorted(Path(p) for p in written.values())
