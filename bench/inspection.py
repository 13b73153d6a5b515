"""The inspection draw over a large organisation (issue 5): 2,000 units, 200,000 tasks.

Setup (not timed): an organisation of N units with an inspection team, T tasks spread over
the units (one in eight overdue), a `return` entry in the audit log for one task in forty,
and a previous year's draw, so every signal query has rows to count. Timed: the whole draw
as `planflow flows inspect` makes it (`services.inspections.draw`: the signal aggregates,
the ranking, the draw and its audit entry, one inspection task per selected unit with its
checklist), then its parts on their own: the signal queries, and the pure selection.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select

from bench.common import result, timed
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.models import OrganisationSpec
from workflow.domain import sampling
from workflow.domain.events import TaskMoved
from workflow.domain.lifecycle import Move
from workflow.services import Context
from workflow.services import inspection_draws as draws
from workflow.services import inspections as service
from workflow.services import organisations as org_service
from workflow.store.engine import open_engine
from workflow.store.tables import tasks

ORG = "SO-INSPECT"
INSPECTOR = "so-inspect.inspector"
TARGET = None  # the issue asks for the figure, not a threshold
NOW = dt.datetime(2025, 3, 10, 9, tzinfo=LOCAL_TZ)
CHUNK = 20_000


def organisation(units: int) -> OrganisationSpec:
    codes = [f"U{i:04d}" for i in range(1, units + 1)]
    return OrganisationSpec.model_validate(
        {
            "kind": "organisation",
            "code": ORG,
            "name": "Sở Đo hiệu năng",
            "province": "Quảng Nam",
            "office_unit": "VP",
            "units": [
                {"code": "VP", "name": "Văn phòng"},
                {"code": "TTR", "name": "Thanh tra"},
                *({"code": c, "name": f"Đơn vị {c}"} for c in codes),
            ],
            "people": [
                {"id": INSPECTOR, "name": "Thanh tra viên", "unit": "TTR", "roles": ["inspector"]},
                {"id": "so-inspect.office", "name": "Văn phòng", "unit": "VP", "roles": ["office"]},
            ],
            "inspection": {"unit": "TTR", "every": "year", "ratio": 0.3},
        }
    )


def _populate(ctx: Context, units: int, task_count: int) -> None:
    """The organisation and its tasks, last year's draw, this year's returns: in time order,
    as the log's entries go."""
    ctx.clock = FixedClock(NOW - dt.timedelta(days=400))
    org_service.upsert_organisation(ctx, organisation(units))
    now = NOW.astimezone(dt.UTC)
    today = NOW.date()
    for start in range(0, task_count, CHUNK):
        rows = []
        for i in range(start, min(task_count, start + CHUNK)):
            unit = f"U{i % units + 1:04d}"
            overdue = i % 8 == 0
            rows.append(
                {
                    "organisation": ORG, "plan_id": None, "kind": "plan", "code": f"T{i}",
                    "period": "", "title": f"Nhiệm vụ {i}", "category": None,
                    "lead_unit": unit, "cooperating_units": "[]",
                    "due_date": today - dt.timedelta(days=5 + i % 200) if overdue
                    else today + dt.timedelta(days=5 + i % 300),
                    "state": "in_progress" if i % 3 else "assigned", "version": 1,
                    "returned_count": 0, "created_at": now, "updated_at": now,
                }
            )  # fmt: skip
        with ctx.uow.writing() as tx:
            tx.conn.execute(insert(tasks), rows)  # setup: no ids needed, no RETURNING
    ctx.clock = FixedClock(NOW - dt.timedelta(days=365))
    service.draw(ctx, ORG, "2024", INSPECTOR, seed=1)  # last year's: staleness to rank
    # One task in forty had a submission returned a month ago: entries of that time.
    ctx.clock = FixedClock(NOW - dt.timedelta(days=30))
    with ctx.uow.writing() as tx:
        ids = tx.conn.execute(select(tasks.c.id).where(tasks.c.organisation == ORG)).scalars()
        returned = list(ids)[::40]
        tx.record(
            *(
                TaskMoved(
                    actor="so-inspect.office",
                    role="office",
                    organisation=ORG,
                    task_id=task_id,
                    move=Move.RETURN,
                    version=1,
                    note="Bổ sung số liệu",
                )
                for task_id in returned
            )
        )
    ctx.clock = FixedClock(NOW)


def bench(url: str, units: int, task_count: int) -> dict[str, Any]:
    engine = open_engine(url)
    try:
        ctx = Context(engine, clock=FixedClock(NOW), operator="operator:bench")
        _, setup_s = timed(lambda: _populate(ctx, units, task_count))
        spec = organisation(units)
        period = sampling.parse_period("2025")

        def read_signals() -> list[sampling.UnitSignals]:
            with ctx.uow.reading() as r:
                return draws.signals(r, spec, period, NOW)

        population, signals_s = timed(read_signals)
        selection, select_s = timed(lambda: sampling.select(population, "2025", 0.3, 7))
        drawn, draw_s = timed(lambda: service.draw(ctx, ORG, "2025", INSPECTOR, seed=7))
        assert drawn.selected == list(selection.selected)
        explained, explain_s = timed(lambda: service.explain(ctx, drawn.inspection))
        assert explained["selected"] == drawn.selected
        figures = {
            "units": units,
            "tasks": task_count,
            "selected": len(drawn.selected),
            "draw_seconds": round(draw_s, 3),
            "signals_seconds": round(signals_s, 3),
            "select_seconds": round(select_s, 4),
            "explain_seconds": round(explain_s, 3),
            "setup_seconds": round(setup_s, 1),
        }
        return result(figures, TARGET, None)
    finally:
        engine.dispose()
