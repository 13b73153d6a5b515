"""Memory held by the engine per task, and proof that tasks get no state machine each.

Tasks are inserted in bulk; `services.tasks.list_tasks` then returns them as TaskView objects
(the read model every listing and report uses). tracemalloc measures what that list keeps
alive, and what the facts the rules read (TaskFacts) add. Every task is then put through
`lifecycle.decide`, and the `transitions.Machine` objects alive are counted: one, shared.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
import tracemalloc
from typing import Any

from transitions import Machine

from bench.common import agency, judged, result
from workflow.clock import SystemClock
from workflow.domain import lifecycle
from workflow.domain.filters import TaskFilter
from workflow.domain.lifecycle import Move, MoveRequest
from workflow.domain.roles import Actor, Role
from workflow.services import Context
from workflow.services import organisations as org_service
from workflow.services import tasks as svc
from workflow.store.engine import open_engine

ORG = "SO-MEM"
UNITS = 8
TARGET = "one shared state machine, none per task (bytes per task reported)"


def _machines() -> int:
    return sum(1 for obj in gc.get_objects() if isinstance(obj, Machine))


def bench(url: str, count: int, quick: bool) -> dict[str, Any]:
    engine = open_engine(url)
    ctx = Context(engine, clock=SystemClock(), operator="operator:bench")
    try:
        spec = agency(ORG, units=UNITS)
        org_service.upsert_organisation(ctx, spec)
        now = ctx.clock.now()
        for start in range(0, count, 10_000):
            rows = [
                {
                    "organisation": ORG,
                    "plan_id": None,
                    "kind": "plan",
                    "code": f"M.{i // 4 + 1}",
                    "period": f"2025Q{i % 4 + 1}",
                    "title": f"Nhiệm vụ {i + 1}: công khai, minh bạch thủ tục hành chính tại bộ "
                    "phận một cửa",
                    "category": "papi.transparency",
                    "lead_unit": f"P{i % UNITS + 1:02d}",
                    "cooperating_units": '["VP", "BGD"]',
                    "schedule_text": "Hằng quý",
                    "deliverable": "Báo cáo kết quả thực hiện",
                    "target": "100% thủ tục được công khai",
                    "due_date": dt.date(2025, 3 * (i % 4 + 1), 28),
                    "state": "assigned",
                    "version": 1,
                    "returned_count": 0,
                    "since_plan_version": None,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(start, min(count, start + 10_000))
            ]
            with ctx.uow.writing() as tx:
                tx.tasks.insert(rows)
        where = TaskFilter(organisation=ORG)
        svc.list_tasks(ctx, TaskFilter(organisation=ORG, limit=10))  # warm the caches

        started = time.perf_counter()
        views = svc.list_tasks(ctx, where)
        list_seconds = time.perf_counter() - started
        assert len(views) == count, (len(views), count)
        del views
        gc.collect()

        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        views = svc.list_tasks(ctx, where)
        after_views, peak = tracemalloc.get_traced_memory()
        facts = [v.facts() for v in views]
        after_facts = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()

        machines_before = _machines()
        actors = {
            f"P{u:02d}": Actor(f"so-mem.p{u:02d}.s2", ORG, f"P{u:02d}", frozenset({Role.STAFF}))
            for u in range(1, UNITS + 1)
        }
        request = MoveRequest(Move.START)
        started = time.perf_counter()
        for fact in facts:
            lifecycle.decide(fact, actors[fact.lead_unit], request)
        decide_seconds = time.perf_counter() - started
        machines_after = _machines()
    finally:
        engine.dispose()
    view_bytes = (after_views - base) / count
    figures = {
        "tasks": count,
        "task_view_bytes_per_task": round(view_bytes),
        "task_view_mib_per_100k": round(view_bytes * 100_000 / 2**20, 1),
        "task_facts_bytes_per_task": round((after_facts - after_views) / count),
        "list_peak_mib": round((peak - base) / 2**20, 1),
        "list_tasks_per_s": round(count / list_seconds),
        "decisions_per_s": round(count / decide_seconds),
        "machines_alive": machines_after,
        "machines_created_by_decisions": machines_after - machines_before,
        "shared_machine_models": len(lifecycle.MACHINE.models),
    }
    ok = machines_after == 1 and machines_after == machines_before and not lifecycle.MACHINE.models
    return result(figures, TARGET, judged(quick, ok))
