"""The demo's inspections: the draw, the inspectors' records, the office's verification, and
the flow runs that turn verified records into conclusion notices and fix tasks.

Everything goes through the services and the real `inspection` flow, as in the rest of the
demo (see workflow/demo.py); a seeded random draw decides who does what when.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.definitions.models import OrganisationSpec
from workflow.domain.filters import TaskFilter
from workflow.domain.inspection import current_period
from workflow.domain.lifecycle import Move, State
from workflow.domain.roles import Role
from workflow.errors import PlanflowError
from workflow.services import Context
from workflow.services import inspection_records as records
from workflow.services import tasks as task_service

FINDING_NOTES = {
    True: ["Thực hiện đúng kế hoạch, đúng thời hạn", "Có văn bản, số liệu minh chứng đầy đủ"],
    False: ["Chưa thực hiện đúng thời hạn", "Thiếu hồ sơ, tài liệu minh chứng"],
}
STRENGTHS = [
    "Lãnh đạo đơn vị quan tâm chỉ đạo công tác cải cách hành chính",
    "Niêm yết công khai thủ tục hành chính đầy đủ, đúng quy định",
]
SHORTCOMINGS = [
    "Một số nhiệm vụ triển khai chậm so với kế hoạch",
    "Việc lưu trữ hồ sơ, tài liệu minh chứng chưa đầy đủ",
]


@dataclass
class InspectionTally:
    draws: list[dict[str, Any]] = field(default_factory=list)
    records: int = 0
    conclusions: int = 0
    fix_tasks: int = 0
    flow_runs: int = 0
    notices_dir: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "draws": self.draws,
            "records": self.records,
            "conclusions": self.conclusions,
            "fix_tasks": self.fix_tasks,
            "flow_runs": self.flow_runs,
            "notices_dir": self.notices_dir,
        }


def inspectors(org: OrganisationSpec) -> list[str]:
    team = org.inspection.unit if org.inspection else None
    return [p.id for p in org.people if p.unit == team and Role.INSPECTOR in p.roles]


def run_flow(
    db_url: str,
    org: OrganisationSpec,
    day: dt.date,
    now: dt.datetime,
    out_dir: Path,
    tally: InspectionTally,
    seed: int,
) -> None:
    """One run of the `inspection` flow for the organisation's current period: the first
    draws, the later ones return the draw and conclude the verified records."""
    if org.inspection is None or not inspectors(org):
        return
    from flows.settings import quiet_prefect

    quiet_prefect()
    from flows.inspection import inspection_flow

    period = current_period(day, org.inspection.every)
    result = inspection_flow(
        db_url, org.code, period, inspectors(org)[0], None, seed, None, str(out_dir), now
    )
    tally.flow_runs += 1
    if not result["existing"]:
        tally.draws.append(
            {
                "organisation": org.code,
                "period": period,
                "inspection": result["inspection"],
                "selected": result["selected"],
                "seed": result["seed"],
            }
        )
    tally.conclusions += len(result["conclusions"])
    tally.fix_tasks += sum(len(c["fix_tasks"]) for c in result["conclusions"])
    tally.notices_dir = str(out_dir)


def a_working_day(
    ctx: Context,
    orgs: dict[str, OrganisationSpec],
    officers: dict[str, list[str]],
    rng: random.Random,
    tally: InspectionTally,
    refused: Any,
) -> None:
    """Inspectors start and record inspections; the office verifies or returns records."""
    for task in task_service.list_tasks(ctx, TaskFilter(kind="inspection")):
        org = orgs[task.organisation]
        team = inspectors(org)
        if not team or rng.random() < 0.6:  # an inspection takes a few weeks
            continue
        inspector = rng.choice(team)
        try:
            if task.state is State.ASSIGNED:
                task_service.move(ctx, task.id, Move.START, inspector)
            elif task.state is State.IN_PROGRESS:
                records.submit_record(ctx, task.id, inspector, _record(ctx, task.id, rng))
                tally.records += 1
            elif task.state is State.SUBMITTED:
                office = rng.choice([o for o in officers[org.code] if o != task.submitted_by])
                if task.returned_count == 0 and rng.random() < 0.2:
                    note = "Biên bản chưa nêu rõ tồn tại, đề nghị bổ sung"
                    task_service.move(ctx, task.id, Move.RETURN, office, note=note)
                else:
                    task_service.move(ctx, task.id, Move.VERIFY, office)
        except PlanflowError as exc:
            refused[f"inspection (exit {exc.exit_code})"] += 1


def _record(ctx: Context, task_id: int, rng: random.Random) -> dict[str, Any]:
    """What an inspector writes after visiting the unit: a finding per checklist task, a fix
    for each task not done as required."""
    checklist = records.checklist_of(ctx, task_id)
    today = ctx.clock.now().date()
    findings, fixes = [], []
    for task in checklist:
        compliant = rng.random() < 0.75
        findings.append(
            {"task": task, "compliant": compliant, "note": rng.choice(FINDING_NOTES[compliant])}
        )
        if not compliant:
            fixes.append(
                {
                    "title": "Khắc phục tồn tại, bổ sung hồ sơ minh chứng và báo cáo kết quả",
                    "due": (today + dt.timedelta(days=rng.choice((30, 45)))).isoformat(),
                    "task": task,
                }
            )
    return {
        "inspected_on": today.isoformat(),
        "findings": findings,
        "strengths": [rng.choice(STRENGTHS)],
        "shortcomings": [rng.choice(SHORTCOMINGS)] if fixes else [],
        "fixes": fixes,
    }


def open_work(ctx: Context) -> list[Any]:
    """The plan and fix tasks people move day to day."""
    return [
        t
        for kind in ("plan", "fix")
        for t in task_service.list_tasks(ctx, TaskFilter(kind=kind))
        if t.state is not State.CLOSED
    ]
