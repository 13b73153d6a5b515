"""Loading definitions: the seed plans of definitions/, and a synthetic plan of N tasks.

Each is validated (`workflow.definitions.checks.validate`, as `plans validate` runs it) and
loaded into a fresh database (`workflow.services.plans.load`, one transaction), timed
separately; the seeds are then loaded a second time (nothing changes: the unchanged path).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import result
from workflow.clock import SystemClock
from workflow.definitions.checks import validate
from workflow.definitions.vocabulary import CATEGORIES
from workflow.services import Context
from workflow.services import plans as plan_service
from workflow.store.engine import open_engine

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "definitions"
TARGET = "none set: reported"
UNITS = 12


def _validated(paths: list[Path]) -> tuple[Any, float]:
    started = time.perf_counter()
    found, problems = validate(paths)
    seconds = time.perf_counter() - started
    if problems:
        shown = "; ".join(str(p) for p in problems[:3])
        raise RuntimeError(f"{len(problems)} problem(s) in {paths[0]}: {shown}")
    return found, seconds


def _loaded(ctx: Context, found: Any) -> tuple[int, float]:
    started = time.perf_counter()
    outcomes = plan_service.load(ctx, found)
    return sum(o.tasks_created for o in outcomes), time.perf_counter() - started


def write_synthetic(folder: Path, tasks: int) -> int:
    """An organisation and one plan of exactly `tasks` tasks; returns the plan's row count.

    A tenth of the rows are half-yearly (two tasks each), the rest one task each with a mix
    of schedules (continuous, within the year, by a date); cooperating units and groups vary.
    """
    units = [f"U{i:02d}" for i in range(1, UNITS + 1)]
    org = [
        "kind: organisation",
        "code: SYN-SO",
        'name: "Sở Tổng hợp (thử tải)"',
        'province: "Quảng Nam"',
        "office_unit: VP",
        "units:",
        '  - {code: VP, name: "Văn phòng Sở"}',
        '  - {code: BGD, name: "Ban Giám đốc Sở"}',
        *(f'  - {{code: {u}, name: "Phòng {u}"}}' for u in units),
        "groups:",
        '  - {code: CPDV, name: "Các phòng, đơn vị thuộc Sở", units: all}',
        "people:",
        '  - {id: syn.vp.an, name: "Nguyễn Văn An", unit: VP, roles: [office]}',
        '  - {id: syn.vp.binh, name: "Trần Thị Bình", unit: VP, roles: [office]}',
        '  - {id: syn.bgd.cuong, name: "Lê Văn Cường", unit: BGD, roles: [leader]}',
        *(
            f'  - {{id: syn.{u.lower()}.staff, name: "Cán bộ {u}", unit: {u}, roles: [staff]}}'
            for u in units
        ),
    ]
    half_yearly = tasks // 10
    single = tasks - 2 * half_yearly
    categories = [c.code for c in CATEGORIES]
    schedules = ["continuous", "within_year", "{by: 2025-06-30}", "{by: 2025-11-15}"]
    rows: list[str] = []
    for i in range(half_yearly + single):
        lead = units[i % UNITS]
        cooperating = "[CPDV]" if i % 5 == 0 else f"[VP, {units[(i + 1) % UNITS]}]"
        schedule = "{periodic: half_yearly}" if i < half_yearly else schedules[i % len(schedules)]
        rows += [
            f'  - code: "{i // 100 + 1}.{i % 100 + 1}"',
            f'    title: "Nhiệm vụ {i + 1}: cải thiện chất lượng giải quyết thủ tục hành chính"',
            f"    category: {categories[i % len(categories)]}",
            f"    lead_unit: {lead}",
            f"    cooperating_units: {cooperating}",
            f"    schedule: {schedule}",
            '    deliverable: "Báo cáo kết quả thực hiện"',
        ]
    plan = [
        "kind: plan",
        "id: syn-so-plan-2025",
        "organisation: SYN-SO",
        'title: "Kế hoạch thử tải năm 2025"',
        'issuer: "Sở Tổng hợp"',
        "period: {start: 2025-01-01, end: 2025-12-31}",
        "tasks:",
        *rows,
    ]
    (folder / "plans").mkdir(parents=True, exist_ok=True)
    (folder / "organisation.yaml").write_text("\n".join(org) + "\n", encoding="utf-8")
    (folder / "plans" / "synthetic.yaml").write_text("\n".join(plan) + "\n", encoding="utf-8")
    return half_yearly + single


def bench(url: str, tasks: int) -> dict[str, Any]:
    """Seeds first, then the synthetic plan (another organisation) into the same database."""
    figures: dict[str, Any] = {}
    engine = open_engine(url)
    try:
        ctx = Context(engine, clock=SystemClock(), operator="operator:bench")
        found, figures["seed_validate_s"] = _validated([SEEDS])
        figures["seed_plans"] = len(found.plans)
        figures["seed_task_rows"] = found.task_rows
        figures["seed_tasks"], figures["seed_load_s"] = _loaded(ctx, found)
        again, _ = _validated([SEEDS])
        created, figures["seed_reload_unchanged_s"] = _loaded(ctx, again)
        if created:
            raise RuntimeError(f"loading the seeds again created {created} tasks")
        with tempfile.TemporaryDirectory(prefix="planflow-bench-plan-") as tmp:
            figures["synthetic_rows"] = write_synthetic(Path(tmp), tasks)
            found, figures["synthetic_validate_s"] = _validated([Path(tmp)])
            created, figures["synthetic_load_s"] = _loaded(ctx, found)
        if created != tasks:
            raise RuntimeError(f"the synthetic plan made {created} tasks, not {tasks}")
        figures["synthetic_tasks"] = created
        figures["synthetic_load_tasks_per_s"] = round(created / figures["synthetic_load_s"])
    finally:
        engine.dispose()
    for key, value in figures.items():
        if key.endswith("_s"):
            figures[key] = round(value, 3)
    return result(figures, TARGET, None)
