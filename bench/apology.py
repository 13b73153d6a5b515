"""The apology flow over many open dossiers (issue 4): time in Prefect and in the database.

Setup (not timed): the seed definitions, then N dossiers received through the CSV import use
case, 20% of them already late on the day of the run, each with the delay its handling unit
declared before its due date (a letter states that reason), the rest due weeks later. Timed: one
real Prefect flow run for that day (after a warm-up run that starts Prefect's server), which
issues one letter (HTML and DOCX) per late dossier. Target (full run): under 60 s on SQLite.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.common import judged, result, timed
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.context import Context
from workflow.definitions.checks import validate
from workflow.services import dossiers as dossier_service
from workflow.services import plans as plan_service
from workflow.store.engine import open_engine

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2024, 6, 14)  # a Friday
DESK = "lsn.dkkd.be-thi-huong"
HEAD = "lsn.dkkd.ly-van-duc"  # the handling unit's head: declares the delays
RECEIVED = dt.datetime(2024, 5, 20, 8, tzinfo=LOCAL_TZ)  # the late ones: due Thu 23/5
TARGET = "100,000 open dossiers (20% late): the flow under 60 s on SQLite"
CHUNK = 10_000


def _csv(path: Path, start: int, count: int, late_every: int, *, late: bool) -> None:
    lines = ["procedure,applicant,received_at"]
    for i in range(start, start + count):
        if i % late_every == 0 and late:  # 3 working days from 20/5: long past due on 14/6
            received = RECEIVED.replace(tzinfo=None) + dt.timedelta(seconds=i % 30000)
            lines.append(f"SKHDT-DN-01,Công ty số {i},{received:%Y-%m-%d %H:%M}")
        elif i % late_every and not late:  # 15 working days from 13/6: due in July
            received = dt.datetime(2024, 6, 13, 8) + dt.timedelta(seconds=i % 30000)
            lines.append(f"SKHDT-DT-01,Hộ kinh doanh số {i},{received:%Y-%m-%d %H:%M}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def bench(url: str, backend: str, dossiers: int, quick: bool) -> dict[str, Any]:
    from flows.settings import quiet_prefect

    quiet_prefect()
    from flows.apology import apology_flow
    from flows.runtime import dispose

    work = Path(tempfile.mkdtemp(prefix="planflow-bench-apology-"))
    try:
        engine = open_engine(url)
        now = dt.datetime.combine(AS_OF, dt.time(17, 0), LOCAL_TZ)
        clock = FixedClock(RECEIVED + dt.timedelta(hours=10))  # the late ones' day, 18:00
        ctx = Context(engine, clock=clock, operator="operator:bench")
        found, problems = validate([ROOT / "definitions"])
        assert not problems, problems
        plan_service.load(ctx, found)

        def receive_all() -> None:
            late: list[int] = []
            for start in range(0, dossiers, CHUNK):
                path = work / f"late-{start}.csv"
                _csv(path, start, min(CHUNK, dossiers - start), late_every=5, late=True)
                late += [int(d["id"]) for d in dossier_service.import_csv(ctx, path, DESK)]
            clock.set(RECEIVED + dt.timedelta(days=1, hours=1))  # 21/5, before their due date
            for dossier_id in late:
                dossier_service.delay(ctx, dossier_id, "Cần xác minh thông tin", 2, HEAD)
            clock.set(now)
            for start in range(0, dossiers, CHUNK):
                path = work / f"in-{start}.csv"
                _csv(path, start, min(CHUNK, dossiers - start), late_every=5, late=False)
                dossier_service.import_csv(ctx, path, DESK)

        _, setup_s = timed(receive_all)
        engine.dispose()
        out = work / "out"
        apology_flow(url, AS_OF, str(out), "NO-SUCH-ORG", 500, now)  # warm-up: starts Prefect
        report, wall_s = timed(lambda: apology_flow(url, AS_OF, str(out), None, 500, now))
        dispose()
        letters = len(report["letters"])
        seconds = report["seconds"]
        figures = {
            "dossiers": dossiers,
            "late": dossiers // 5,
            "letters": letters,
            "reminders": len(report["reminders"]),
            "batches": report["batches"],
            "flow_seconds": round(wall_s, 2),
            "database_seconds": seconds["database"],
            "prefect_seconds": seconds["prefect"],
            "letters_per_second": round(letters / wall_s, 1) if wall_s else None,
            "setup_seconds": round(setup_s, 2),
        }
        met = (
            judged(quick, letters == dossiers // 5 and wall_s < 60) if backend == "sqlite" else None
        )
        return result(figures, TARGET if backend == "sqlite" else None, met)
    finally:
        shutil.rmtree(work, ignore_errors=True)
