"""Periodic reports on a hand-built agency where every figure is known, on SQLite and PostgreSQL.

The agency (SO-BC) has an office (VP), two working units (QLDT, DKKD), a leadership (BGD)
and an inspection team (TTR, set aside from the inspected units). Plan tasks move through the
real services on a fixed clock; dossiers, letters and inspections are written as their own
flows store them. The report is asked for on Thursday 20/06/2024 at 10:00, for 2024Q2:

- reporting window 15/03 to 14/06/2024 (closed: not provisional);
- calendar window 01/04 to 30/06/2024 (still open: provisional).

Every task is assigned on 01/03. A report counts the tasks open at any time in its window
(not verified or withdrawn before it starts), whatever their due date, and the moves made in
it. The tasks (due date; what happened) and which window each is open in:

    T1  kh-a papi.transparency QLDT  30/04  started, submitted, verified 29/04  both  on time
    T2  kh-a papi.transparency QLDT  30/04  started 30/04, returned once,
                                            verified 02/05, closed 03/05        both  late
    T3  kh-a papi.transparency QLDT  10/06  never started                       both  overdue
    T4  kh-a papi.transparency DKKD  14/06  started 01/06                       both  overdue
    T5  kh-a papi.transparency DKKD  20/03  verified 20/03 at 23:30             reporting only
                                                                                (on time)
    T6  kh-a papi.transparency VP    20/06  started, submitted 18/06            both  (due
                                            today on 20/06: not overdue; the moves are in the
                                            calendar window, not the reporting one)
    T7  kh-a par.leadership    VP    15/05  withdrawn 01/05                     both
    T8  kh-a par.leadership    VP    15/05  verified 16/05 at 00:30             both  late (UTC
                                                                                says 15/05)
    T9  kh-b sipas.results     DKKD  31/05  returned once, resubmitted          both  overdue
    T10 kh-b sipas.results     QLDT  31/07  never started                       both  (due
                                                                                next quarter)
    T11 kh-b sipas.results     QLDT  10/03  verified 12/03                      neither: done
                                                                                before both
    T12 fix  par.leadership    QLDT  05/06  verified 04/06                      both  on time
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.models import OrganisationSpec
from workflow.documents import report as document
from workflow.domain.audit_chain import content_hash
from workflow.domain.filters import AuditFilter
from workflow.domain.lifecycle import Move
from workflow.domain.report_content import DOSSIER_COUNTS
from workflow.errors import AuditVerificationFailed, InvalidInput, NotFound
from workflow.services import Context, reports
from workflow.services import audit_log as audit_service
from workflow.services import organisations as org_service
from workflow.services import tasks as task_service
from workflow.store.tables import (
    dossiers,
    inspection_targets,
    inspections,
    notices,
    plan_versions,
    plans,
    procedures,
    report_snapshots,
    tasks,
)

ORG = "SO-BC"
LAN, MAI = "sobc.qldt.lan", "sobc.dkkd.mai"  # staff of QLDT, of DKKD
OFFICE_A, OFFICE_B = "sobc.vp.an", "sobc.vp.binh"  # the office (An is also VP staff)
LEADER, INSPECTOR = "sobc.bgd.cuong", "sobc.ttr.dung"
HASH_A, HASH_B = "a" * 64, "b" * 64
ASKED = dt.datetime(2024, 6, 20, 10, 0, tzinfo=LOCAL_TZ)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, tzinfo=LOCAL_TZ)


def agency() -> OrganisationSpec:
    return OrganisationSpec.model_validate(
        {
            "kind": "organisation",
            "code": ORG,
            "name": "Sở Báo Cáo",
            "province": "Quảng Nam",
            "office_unit": "VP",
            "units": [
                {"code": "VP", "name": "Văn phòng Sở"},
                {"code": "QLDT", "name": "Phòng Quản lý đầu tư"},
                {"code": "DKKD", "name": "Phòng Đăng ký kinh doanh"},
                {"code": "BGD", "name": "Ban Giám đốc"},
                {"code": "TTR", "name": "Thanh tra Sở"},
            ],
            "people": [
                {"id": LAN, "name": "Trần Thị Lan", "unit": "QLDT", "roles": ["staff"]},
                {"id": MAI, "name": "Phạm Thị Mai", "unit": "DKKD", "roles": ["staff"]},
                {
                    "id": OFFICE_A,
                    "name": "Nguyễn Văn An",
                    "unit": "VP",
                    "roles": ["office", "staff"],
                },
                {"id": OFFICE_B, "name": "Hoàng Thị Bình", "unit": "VP", "roles": ["office"]},
                {"id": LEADER, "name": "Võ Văn Cường", "unit": "BGD", "roles": ["leader"]},
                {"id": INSPECTOR, "name": "Đặng Văn Dũng", "unit": "TTR", "roles": ["inspector"]},
            ],
            "inspection": {"unit": "TTR", "units": "all", "every": "quarter"},
        }
    )


# (code, plan, category, unit, due, kind)
TASKS = [
    ("T1", "kh-a", "papi.transparency", "QLDT", (4, 30), "plan"),
    ("T2", "kh-a", "papi.transparency", "QLDT", (4, 30), "plan"),
    ("T3", "kh-a", "papi.transparency", "QLDT", (6, 10), "plan"),
    ("T4", "kh-a", "papi.transparency", "DKKD", (6, 14), "plan"),
    ("T5", "kh-a", "papi.transparency", "DKKD", (3, 20), "plan"),
    ("T6", "kh-a", "papi.transparency", "VP", (6, 20), "plan"),
    ("T7", "kh-a", "par.leadership", "VP", (5, 15), "plan"),
    ("T8", "kh-a", "par.leadership", "VP", (5, 15), "plan"),
    ("T9", "kh-b", "sipas.results", "DKKD", (5, 31), "plan"),
    ("T10", "kh-b", "sipas.results", "QLDT", (7, 31), "plan"),
    ("T11", "kh-b", "sipas.results", "QLDT", (3, 10), "plan"),
    ("T12", None, "par.leadership", "QLDT", (6, 5), "fix"),
]
NOTE = "Đã hoàn thành"
# (when, task, move, who, note), in time order
MOVES = [
    (at(3, 11), "T11", Move.START, LAN, None),
    (at(3, 12), "T11", Move.SUBMIT, LAN, NOTE),
    (at(3, 12, 15), "T11", Move.VERIFY, OFFICE_A, None),
    (at(3, 20), "T5", Move.START, MAI, None),
    (at(3, 20, 11), "T5", Move.SUBMIT, MAI, NOTE),
    (at(3, 20, 23, 30), "T5", Move.VERIFY, OFFICE_B, None),  # 16:30 UTC: still the 20th
    (at(4, 29), "T1", Move.START, LAN, None),
    (at(4, 29, 11), "T1", Move.SUBMIT, LAN, NOTE),
    (at(4, 29, 16), "T1", Move.VERIFY, OFFICE_A, None),
    (at(4, 30), "T2", Move.START, LAN, None),
    (at(4, 30, 11), "T2", Move.SUBMIT, LAN, NOTE),
    (at(4, 30, 15), "T2", Move.RETURN, OFFICE_A, "Bổ sung số liệu"),
    (at(5, 1), "T7", Move.WITHDRAW, OFFICE_A, "Không còn cần thiết"),
    (at(5, 2), "T2", Move.SUBMIT, LAN, "Đã bổ sung"),
    (at(5, 2, 14), "T2", Move.VERIFY, OFFICE_B, None),
    (at(5, 3), "T2", Move.CLOSE, LEADER, None),
    (at(5, 10), "T8", Move.START, OFFICE_A, None),
    (at(5, 15), "T8", Move.SUBMIT, OFFICE_A, NOTE),
    (at(5, 16, 0, 30), "T8", Move.VERIFY, OFFICE_B, None),  # 17:30 UTC on the 15th: late
    (at(5, 20), "T9", Move.START, MAI, None),
    (at(5, 20, 11), "T9", Move.SUBMIT, MAI, NOTE),
    (at(5, 21), "T9", Move.RETURN, OFFICE_A, "Chưa đạt yêu cầu"),
    (at(5, 22), "T9", Move.SUBMIT, MAI, "Đã chỉnh sửa"),
    (at(6, 1), "T12", Move.START, LAN, None),
    (at(6, 1), "T4", Move.START, MAI, None),
    (at(6, 1, 11), "T12", Move.SUBMIT, LAN, NOTE),
    (at(6, 4), "T12", Move.VERIFY, OFFICE_A, None),
    (at(6, 18), "T6", Move.START, OFFICE_A, None),
    (at(6, 18, 11), "T6", Move.SUBMIT, OFFICE_A, NOTE),
]
# (code, unit, received, original due, current due, resolved at) - procedure SOBC-01
DOSSIERS = [
    ("D1", "DKKD", at(4, 1, 9), (4, 4), (4, 4), at(4, 3)),
    ("D2", "DKKD", at(4, 2), (4, 5), (4, 12), at(4, 10)),  # late, within its new date
    ("D3", "DKKD", at(6, 10), (6, 13), (6, 19), None),  # pending past its new date
    ("D4", "DKKD", at(6, 12), (6, 25), (6, 25), None),  # pending, not yet due
    ("D5", "DKKD", at(6, 14, 23, 30), (6, 19), (6, 19), None),  # 16:30 UTC: the 14th
    ("D6", "QLDT", at(3, 14), (3, 19), (3, 19), at(3, 18)),  # before both windows
    ("D7", "QLDT", at(6, 15, 0, 30), (6, 18), (6, 18), None),  # 17:30 UTC on the 14th
]
# (kind, dossier, unit, issued)
NOTICES = [
    ("apology", "D2", "DKKD", at(4, 4)),
    ("apology", "D3", "DKKD", at(6, 12)),
    ("escalation", "D3", "DKKD", at(6, 20, 8)),  # after the reporting window
    ("reminder", "D3", "DKKD", at(5, 1)),  # reminders are not counted
]
# (inspected unit, verified at)
INSPECTIONS = [("QLDT", at(5, 20)), ("DKKD", None), ("BGD", at(6, 18))]


def build(ctx: Context) -> dict[str, int]:
    """The agency above; returns task ids by code."""
    clock: FixedClock = ctx.clock  # type: ignore[assignment]
    clock.set(at(3, 1, 8))
    org_service.upsert_organisation(ctx, agency())
    now = clock.now()
    with ctx.uow.writing() as tx:
        conn = tx.conn
        for plan_id, version, digest in (("kh-a", 2, HASH_A), ("kh-b", 1, HASH_B)):
            conn.execute(
                insert(plans).values(
                    id=plan_id,
                    organisation=ORG,
                    title=f"Kế hoạch {plan_id}",
                    current_version=version,
                )
            )
            for v in range(1, version + 1):
                conn.execute(
                    insert(plan_versions).values(
                        plan_id=plan_id,
                        version=v,
                        content_hash=digest if v == version else "0" * 64,
                        source=f"{plan_id}.yaml",
                        definition="{}",
                        loaded_at=now,
                    )
                )
        conn.execute(
            insert(procedures).values(
                organisation=ORG, code="SOBC-01", name="Thủ tục thử", working_days=3, unit="DKKD"
            )
        )
    new = [
        task_service.NewTask(
            organisation=ORG,
            code=code,
            title=f"Nhiệm vụ {code}",
            lead_unit=unit,
            plan=plan,
            kind=kind,
            category=category,
            due_date=dt.date(2024, *due),
        )
        for code, plan, category, unit, due, kind in TASKS
    ]
    ids = dict(zip([t[0] for t in TASKS], task_service.create_tasks(ctx, new), strict=True))
    # The dossiers' and inspections' tasks, created the same morning (the log's entries go
    # forward in time, as the moves below do).
    side = [(code, unit, "dossier") for code, unit, *_ in DOSSIERS]
    side += [(f"KT-{unit}", "TTR", "inspection") for unit, _ in INSPECTIONS]
    created = task_service.create_tasks(
        ctx,
        [
            task_service.NewTask(ORG, code, code, unit, kind=kind, due_date=dt.date(2024, 6, 30))
            for code, unit, kind in side
        ],
    )
    ids |= {code: task_id for (code, _, _), task_id in zip(side, created, strict=True)}
    for when, code, move, who, note in MOVES:
        clock.set(when)
        task_service.move(ctx, ids[code], move, who, note=note)

    for code, _unit, received, original, current, resolved in DOSSIERS:
        with ctx.uow.writing() as tx:
            conn = tx.conn
            conn.execute(
                insert(dossiers).values(
                    task_id=ids[code],
                    organisation=ORG,
                    code=f"{ORG}-{code}",
                    procedure="SOBC-01",
                    applicant_name=f"Công ty {code}",
                    received_at=received.astimezone(dt.UTC),  # stored in UTC, as always
                    original_due=dt.date(2024, *original),
                    current_due=dt.date(2024, *current),
                    extension_count=int(original != current),
                )
            )
            if resolved is not None:  # the result approved, as a verify move records it
                conn.execute(
                    update(tasks)
                    .where(tasks.c.id == ids[code])
                    .values(state="verified", completed_at=resolved.astimezone(dt.UTC), version=5)
                )
    with ctx.uow.writing() as tx:
        conn = tx.conn
        for i, (kind, code, unit, issued) in enumerate(NOTICES):
            conn.execute(
                insert(notices).values(
                    key=f"{kind}:{i}",
                    kind=kind,
                    task_id=ids[code],
                    organisation=ORG,
                    unit=unit,
                    due_date=dt.date(2024, 6, 1),
                    issued_at=issued.astimezone(dt.UTC),
                )
            )
    draw: dict[str, int] = {}
    for revision in (1, 2):  # a redraw that keeps QLDT keeps its task: counted once
        with ctx.uow.writing() as tx:
            draw[str(revision)] = tx.conn.execute(
                insert(inspections)
                .values(
                    organisation=ORG,
                    period="2024Q2",
                    revision=revision,
                    ratio="0.3",
                    seed=7,
                    algorithm="rotation-risk-seeded/1",
                    selected=json.dumps([u for u, _ in INSPECTIONS]),
                    record_hash="c" * 64,
                    drawn_by=INSPECTOR,
                    drawn_at=now,
                )
                .returning(inspections.c.id)
            ).scalar_one()
    for unit, verified in INSPECTIONS:
        task_id = ids[f"KT-{unit}"]
        with ctx.uow.writing() as tx:
            conn = tx.conn
            for revision in ("1", "2") if unit == "QLDT" else ("1",):
                conn.execute(
                    insert(inspection_targets).values(
                        inspection_id=draw[revision], unit=unit, task_id=task_id, checklist="[]"
                    )
                )
            if verified is not None:
                conn.execute(
                    update(tasks)
                    .where(tasks.c.id == task_id)
                    .values(state="verified", completed_at=verified.astimezone(dt.UTC), version=5)
                )
    clock.set(ASKED)
    return ids


@pytest.fixture
def built(ctx: Context) -> Context:
    build(ctx)
    return ctx


def ask(ctx: Context, rule: str = "reporting", **more: Any) -> reports.Outcome:
    return reports.generate(ctx, reports.Request(ORG, "2024Q2", rule, **more))


def states(
    assigned: int, in_progress: int, submitted: int, verified: int, closed: int
) -> dict[str, int]:
    return {
        "assigned": assigned,
        "in_progress": in_progress,
        "submitted": submitted,
        "verified": verified,
        "closed": closed,
    }


def task_figures(
    n: int,
    due: int,
    moved: tuple[int, int, int, int, int],
    done: int,
    on_time: int,
    withdrawn: int,
    overdue: int,
    due_next: int,
) -> dict[str, Any]:
    """`moved`: the tasks started, submitted, returned, verified and closed in the window."""
    started, submitted, returned, verified, closed = moved
    return {
        "tasks": n,
        "tasks_due": due,
        "tasks_started": started,
        "tasks_submitted": submitted,
        "tasks_returned": returned,
        "tasks_verified": verified,
        "tasks_closed": closed,
        "tasks_completed": done,
        "tasks_completed_on_time": on_time,
        "tasks_completed_late": done - on_time,
        "tasks_withdrawn": withdrawn,
        "tasks_open_at_end": n - done - withdrawn,
        "tasks_overdue": overdue,
        "tasks_due_next": due_next,
    }


def pick(figures: dict[str, Any], keys: Any) -> dict[str, Any]:
    return {k: figures[k] for k in keys}


TASK_KEYS = tuple(task_figures(0, 0, (0, 0, 0, 0, 0), 0, 0, 0, 0, 0))
NOTHING = task_figures(0, 0, (0, 0, 0, 0, 0), 0, 0, 0, 0, 0)


# ----------------------------------------------------------------------------- the figures


def test_every_figure_of_the_reporting_window(built: Context) -> None:
    r = ask(built).report
    assert (r["period"], r["window"]) == (
        "2024Q2",
        {"rule": "reporting", "from": "2024-03-15", "to": "2024-06-14"},
    )
    assert (r["revision"], r["previous"], r["provisional"], r["as_of"]) == (
        1,
        None,
        False,
        "2024-06-20",
    )
    assert r["next_period"] == {
        "period": "2024Q3",
        "rule": "reporting",
        "from": "2024-06-15",
        "to": "2024-09-14",
    }
    t = r["totals"]
    # Open in the window: every task but T11 (verified 12/03, before it began), whatever its
    # due date: T6 (20/06) and T10 (31/07) too. T1 T2 T3 T4 T5 T7 T8 T9 T12 are due in it.
    # Moves in it: started T5 T1 T2 T8 T9 T12 T4 (T6 on 18/06: after it), submitted T5 T1
    # T2 (twice: one task) T8 T9 T12, returned T2 T9, verified T5 T1 T2 T8 T12, closed T2.
    # Completed T1 T5 T12 on time, T2 T8 late; T7 withdrawn; open at the end T3 T4 T6 T9 T10,
    # of them overdue T3 T4 T9 (due before 15/06), due next quarter T6 T10.
    assert t["tasks_by_state"] == states(2, 1, 2, 4, 2)
    assert pick(t, TASK_KEYS) == task_figures(11, 9, (7, 6, 2, 5, 1), 5, 3, 1, 3, 2)
    assert (t["completion_pct"], t["on_time_pct"]) == (50.0, 60.0)  # 5/(11-1), 3/5
    assert pick(t, DOSSIER_COUNTS) == {
        "dossiers_received": 5,  # D1-D5; D6 before the window, D7 on 15/06 in Vietnam
        "dossiers_resolved": 2,
        "dossiers_resolved_on_time": 1,  # D1
        "dossiers_resolved_late": 1,  # D2, late though within its new date
        "dossiers_pending": 3,
        "dossiers_overdue": 2,  # D3, D5 (D4 is due 25/06)
        "apology_letters": 2,
        "escalations": 0,  # issued 20/06, after the window
    }
    assert t["dossiers_on_time_pct"] == 50.0
    assert (t["inspections_done"], t["units_inspected"], t["units_inspectable"]) == (1, 1, 4)
    assert t["inspection_coverage_pct"] == 25.0  # QLDT of VP, QLDT, DKKD, BGD (TTR inspects)

    by_plan = {p["plan"]: p for p in r["by_plan"]}
    assert list(by_plan) == ["kh-a", "kh-b", None]
    assert (by_plan["kh-a"]["version"], by_plan["kh-a"]["title"]) == (2, "Kế hoạch kh-a")
    assert pick(by_plan["kh-a"], TASK_KEYS) == task_figures(8, 7, (5, 4, 1, 4, 1), 4, 2, 1, 2, 1)
    assert (by_plan["kh-a"]["completion_pct"], by_plan["kh-a"]["on_time_pct"]) == (57.1, 50.0)
    assert by_plan["kh-a"]["tasks_by_state"] == states(1, 1, 1, 3, 2)
    kh_b = task_figures(2, 1, (1, 1, 1, 0, 0), 0, 0, 0, 1, 1)  # T9, T10
    assert pick(by_plan["kh-b"], TASK_KEYS) == kh_b
    assert (by_plan["kh-b"]["completion_pct"], by_plan["kh-b"]["on_time_pct"]) == (0.0, None)
    assert pick(by_plan[None], TASK_KEYS) == task_figures(1, 1, (1, 1, 0, 1, 0), 1, 1, 0, 0, 0)
    assert "dossiers_received" not in by_plan["kh-a"]

    by_category = {c["category"]: c for c in r["by_category"]}
    assert list(by_category) == ["papi.transparency", "par.leadership", "sipas.results"]
    papi = task_figures(6, 5, (4, 3, 1, 3, 1), 3, 2, 0, 2, 1)  # T1-T6
    assert pick(by_category["papi.transparency"], TASK_KEYS) == papi
    assert by_category["papi.transparency"]["completion_pct"] == 50.0
    assert by_category["papi.transparency"]["on_time_pct"] == 66.7
    assert (
        by_category["papi.transparency"]["index"],
        by_category["papi.transparency"]["name"],
    ) == (
        "PAPI",
        "Công khai, minh bạch",
    )
    par = task_figures(3, 3, (2, 2, 0, 2, 0), 2, 1, 1, 0, 0)  # T7 T8 T12
    assert pick(by_category["par.leadership"], TASK_KEYS) == par
    assert by_category["par.leadership"]["completion_pct"] == 100.0
    assert pick(by_category["sipas.results"], TASK_KEYS) == kh_b
    # The index components: each category's index, added up.
    by_index = {i["index"]: i for i in r["by_index"]}
    assert list(by_index) == ["PAPI", "PAR INDEX", "SIPAS"]
    assert pick(by_index["PAPI"], TASK_KEYS) == papi
    assert pick(by_index["PAR INDEX"], TASK_KEYS) == par
    assert pick(by_index["SIPAS"], TASK_KEYS) == kh_b
    assert (by_index["PAPI"]["completion_pct"], by_index["PAPI"]["on_time_pct"]) == (50.0, 66.7)

    by_unit = {u["unit"]: u for u in r["by_unit"]}
    assert list(by_unit) == ["VP", "QLDT", "DKKD", "BGD", "TTR"]  # the file's order, all units
    # QLDT: T1 T2 T3 T10 T12; DKKD: T4 T5 T9; VP: T6 T7 T8.
    qldt = task_figures(5, 4, (3, 3, 1, 3, 1), 3, 2, 0, 1, 1)
    assert pick(by_unit["QLDT"], TASK_KEYS) == qldt
    assert (by_unit["QLDT"]["completion_pct"], by_unit["QLDT"]["on_time_pct"]) == (60.0, 66.7)
    assert pick(by_unit["DKKD"], TASK_KEYS) == task_figures(3, 3, (3, 2, 1, 1, 0), 1, 1, 0, 2, 0)
    assert by_unit["DKKD"]["completion_pct"] == 33.3
    assert pick(by_unit["VP"], TASK_KEYS) == task_figures(3, 2, (1, 1, 0, 1, 0), 1, 0, 1, 0, 1)
    assert (by_unit["VP"]["completion_pct"], by_unit["VP"]["on_time_pct"]) == (50.0, 0.0)
    assert pick(by_unit["BGD"], TASK_KEYS) == NOTHING
    assert by_unit["BGD"]["completion_pct"] is None
    assert (by_unit["DKKD"]["dossiers_received"], by_unit["DKKD"]["apology_letters"]) == (5, 2)
    assert by_unit["QLDT"]["dossiers_received"] == 0
    assert [(u, by_unit[u]["inspectable"], by_unit[u]["inspected"]) for u in by_unit] == [
        ("VP", True, False),
        ("QLDT", True, True),
        ("DKKD", True, False),
        ("BGD", True, False),
        ("TTR", False, False),
    ]
    assert by_unit["QLDT"]["inspections_done"] == 1  # one task, though drawn twice

    assert r["plans"] == [
        {"id": "kh-a", "title": "Kế hoạch kh-a", "version": 2, "hash": HASH_A},
        {"id": "kh-b", "title": "Kế hoạch kh-b", "version": 1, "hash": HASH_B},
    ]
    assert [(row["plan"], row["category"], row["unit"], row["tasks"]) for row in r["rows"]] == [
        ("kh-a", "papi.transparency", "VP", 1),
        ("kh-a", "papi.transparency", "QLDT", 3),
        ("kh-a", "papi.transparency", "DKKD", 2),
        ("kh-a", "par.leadership", "VP", 2),
        ("kh-b", "sipas.results", "QLDT", 1),
        ("kh-b", "sipas.results", "DKKD", 1),
        (None, "par.leadership", "QLDT", 1),
        (None, None, "QLDT", 0),  # the inspection of QLDT
        (None, None, "DKKD", 0),  # dossiers and letters
    ]
    # Tasks completed in each quarter, by their completion time: Q1 (15/12/2023-14/03) T11,
    # late; Q2 the period's five. Dossiers by receipt: Q1 D6, resolved on time.
    assert r["trend"] == [
        {
            "period": "2024Q1",
            "from": "2023-12-15",
            "to": "2024-03-14",
            "tasks_completed": 1,
            "tasks_completed_on_time": 0,
            "on_time_pct": 0.0,
            "dossiers_resolved": 1,
            "dossiers_resolved_on_time": 1,
            "dossiers_on_time_pct": 100.0,
        },
        {
            "period": "2024Q2",
            "from": "2024-03-15",
            "to": "2024-06-14",
            "tasks_completed": 5,
            "tasks_completed_on_time": 3,
            "on_time_pct": 60.0,
            "dossiers_resolved": 2,
            "dossiers_resolved_on_time": 1,
            "dossiers_on_time_pct": 50.0,
        },
    ]


def test_every_figure_of_the_calendar_window(built: Context) -> None:
    r = ask(built, "calendar").report
    assert r["window"] == {"rule": "calendar", "from": "2024-04-01", "to": "2024-06-30"}
    assert r["provisional"] is True  # asked on 20/06, before the quarter ended
    assert r["next_period"]["from"] == "2024-07-01"
    t = r["totals"]
    # T5 (verified 20/03, before 01/04) leaves; T6's start and submission (18/06) enter;
    # overdue is said as of today, 20/06 (T6, due today, is not overdue yet); T10 (31/07)
    # falls due next quarter.
    assert t["tasks_by_state"] == states(2, 1, 2, 3, 2)
    assert pick(t, TASK_KEYS) == task_figures(10, 9, (7, 6, 2, 4, 1), 4, 2, 1, 3, 1)
    assert (t["completion_pct"], t["on_time_pct"]) == (44.4, 50.0)
    assert pick(t, DOSSIER_COUNTS) == {
        "dossiers_received": 6,  # D7 (15/06 00:30 in Vietnam) enters
        "dossiers_resolved": 2,
        "dossiers_resolved_on_time": 1,
        "dossiers_resolved_late": 1,
        "dossiers_pending": 4,
        "dossiers_overdue": 3,
        "apology_letters": 2,
        "escalations": 1,
    }
    assert (t["inspections_done"], t["units_inspected"], t["inspection_coverage_pct"]) == (
        2,
        2,
        50.0,
    )
    by_unit = {u["unit"]: u for u in r["by_unit"]}
    assert (by_unit["QLDT"]["dossiers_received"], by_unit["QLDT"]["dossiers_overdue"]) == (1, 1)
    assert [q["period"] for q in r["trend"]] == ["2024Q1", "2024Q2"]
    # calendar Q1: T5 on time, T11 late; D6 on time
    assert pick(r["trend"][0], ("tasks_completed", "tasks_completed_on_time", "on_time_pct")) == {
        "tasks_completed": 2,
        "tasks_completed_on_time": 1,
        "on_time_pct": 50.0,
    }
    assert r["trend"][1]["on_time_pct"] == t["on_time_pct"]


def test_the_sql_classifies_completion_times_as_the_domain_rules_do(built: Context) -> None:
    """The boundary tasks (T5 at 23:30, T8 at 00:30) on the SQL side agree with the pure rule
    applied to each task read back from the database."""
    from workflow.domain import reporting

    with built.uow.reading() as r:
        rows = r.conn.execute(
            select(tasks.c.code, tasks.c.completed_at, tasks.c.due_date).where(
                tasks.c.kind.in_(["plan", "fix"]), tasks.c.completed_at.is_not(None)
            )
        ).all()
    on_time = {
        code: reporting.completed_on_time(
            reporting.local_date(when.replace(tzinfo=when.tzinfo or dt.UTC), LOCAL_TZ), due
        )
        for code, when, due in rows
    }
    assert on_time == {
        "T1": True,
        "T2": False,
        "T5": True,
        "T8": False,
        "T11": False,
        "T12": True,
    }
    report = ask(built).report
    total_on_time = sum(on_time[c] for c in ("T1", "T2", "T5", "T8", "T12"))
    assert report["totals"]["tasks_completed_on_time"] == total_on_time
    assert report["trend"][0]["tasks_completed_on_time"] == on_time["T11"]


# ----------------------------------------------------------------------------- snapshots


def stored(ctx: Context) -> list[tuple[Any, ...]]:
    with ctx.uow.reading() as r:
        return [
            tuple(row)
            for row in r.conn.execute(select(report_snapshots).order_by(report_snapshots.c.id))
        ]


def report_entries(ctx: Context) -> list[dict[str, Any]]:
    with ctx.uow.reading() as r:
        return r.audit.query(AuditFilter(action="report.snapshot"))


def test_asking_again_returns_the_same_snapshot_byte_for_byte(
    built: Context, tmp_path: Path
) -> None:
    first = ask(built)
    assert first.created
    rows = stored(built)
    files = reports.write_files(first.report, tmp_path)
    written = {kind: Path(path).read_bytes() for kind, path in files.items()}
    [entry] = report_entries(built)
    content = rows[0][-2]
    assert content_hash(content) == first.report["hash"] == entry["data"]["hash"]
    assert entry["subject"] == f"report:{first.report['snapshot']}"
    assert json.loads(content) == {
        k: v for k, v in first.report.items() if k not in ("snapshot", "hash")
    }

    built.clock.set(ASKED + dt.timedelta(days=3))  # type: ignore[attr-defined]
    task_service.move(built, 3, Move.START, LAN)  # the data changed since: T3 started
    again = ask(built)
    assert not again.created
    assert again.report == first.report
    assert json.dumps(again.report) == json.dumps(first.report)  # same keys, same order
    assert stored(built) == rows
    assert len(report_entries(built)) == 1
    assert reports.write_files(again.report, tmp_path) == files
    assert {kind: Path(path).read_bytes() for kind, path in files.items()} == written
    assert reports.show(built, first.report["snapshot"]) == first.report


def test_the_database_refuses_to_change_or_delete_a_snapshot(built: Context) -> None:
    snapshot = ask(built).report["snapshot"]
    before = stored(built)
    for statement in (
        update(report_snapshots)
        .where(report_snapshots.c.id == snapshot)
        .values(content='{"totals":{}}'),
        report_snapshots.delete().where(report_snapshots.c.id == snapshot),
    ):
        with pytest.raises(DBAPIError, match="immutable"), built.engine.begin() as conn:
            conn.execute(statement)
    assert stored(built) == before


def test_revise_makes_a_new_revision_and_keeps_the_old(built: Context) -> None:
    first = ask(built).report
    built.clock.set(ASKED + dt.timedelta(days=1))  # type: ignore[attr-defined]
    task_service.move(built, 3, Move.START, LAN)  # T3: assigned -> in progress
    with pytest.raises(InvalidInput, match="--revise needs --reason"):
        ask(built, revise=True)
    with pytest.raises(InvalidInput, match="--reason goes with --revise"):
        ask(built, reason="Số liệu bổ sung")
    outcome = ask(built, revise=True, reason="Cập nhật tiến độ nhiệm vụ T3")
    second = outcome.report
    assert outcome.created
    assert (second["revision"], second["previous"]) == (
        2,
        {"snapshot": first["snapshot"], "hash": first["hash"]},
    )
    assert second["reason"] == "Cập nhật tiến độ nhiệm vụ T3"
    assert second["totals"]["tasks_by_state"] == states(1, 2, 2, 4, 2)
    assert second["hash"] != first["hash"]
    assert reports.show(built, first["snapshot"]) == first  # kept as it was
    assert ask(built).report == second  # asking again: the latest revision
    listed = reports.list_snapshots(built, ORG)
    assert [(s["id"], s["revision"], s["previous"], s["hash"]) for s in listed] == [
        (first["snapshot"], 1, None, first["hash"]),
        (second["snapshot"], 2, first["snapshot"], second["hash"]),
    ]
    entries = report_entries(built)
    assert [e["data"]["hash"] for e in entries] == [first["hash"], second["hash"]]
    assert entries[1]["data"]["previous"] == first["snapshot"]
    assert entries[1]["data"]["reason"] == "Cập nhật tiến độ nhiệm vụ T3"
    assert entries[1]["data"]["plans"] == {"kh-a": 2, "kh-b": 1}
    assert audit_service.verify(built).ok
    # The other window rule is another report, with its own revisions.
    assert ask(built, "calendar").report["revision"] == 1


def test_an_altered_snapshot_is_named(built: Context) -> None:
    """The triggers stop UPDATE; an owner who drops them is still caught: the content no
    longer hashes to the recorded hash."""
    snapshot = ask(built).report["snapshot"]
    with built.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER report_snapshots_no_update"))
        else:
            conn.execute(text("ALTER TABLE report_snapshots DISABLE TRIGGER USER"))
        conn.execute(
            update(report_snapshots)
            .where(report_snapshots.c.id == snapshot)
            .values(
                content=func.replace(report_snapshots.c.content, '"tasks_due":9', '"tasks_due":10')
            )
        )
    with pytest.raises(AuditVerificationFailed, match=f"report {snapshot} was altered"):
        reports.show(built, snapshot)
    with pytest.raises(AuditVerificationFailed):
        ask(built)


def test_bad_requests_are_refused_before_anything_is_stored(built: Context) -> None:
    for period in ("2024Q5", "24Q1", "2024-Q1", "", "3000"):
        with pytest.raises(InvalidInput, match="period"):
            reports.generate(built, reports.Request(ORG, period))
    with pytest.raises(InvalidInput, match="--window 'weekly' is not known"):
        ask(built, "weekly")
    with pytest.raises(
        InvalidInput, match="has not begun: its reporting window starts on 2024-09-15"
    ):
        reports.generate(built, reports.Request(ORG, "2024Q4"))
    with pytest.raises(NotFound, match="organisation 'SO-KHAC' does not exist"):
        reports.generate(built, reports.Request("SO-KHAC", "2024Q2"))
    with pytest.raises(NotFound, match="report 99 does not exist"):
        reports.show(built, 99)
    assert stored(built) == [] and report_entries(built) == []


def test_the_files_say_it_in_vietnamese_and_in_columns(built: Context, tmp_path: Path) -> None:
    report = ask(built).report
    files = reports.write_files(report, tmp_path)
    assert {k: Path(files[k]).name for k in ("json", "csv", "html")} == {
        "json": "2024Q2-reporting-r1.json",
        "csv": "2024Q2-reporting-r1.csv",
        "html": "2024Q2-reporting-r1.html",
    }
    assert json.loads(Path(files["json"]).read_text(encoding="utf-8")) == report
    lines = Path(files["csv"]).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].split(",") == list(document.CSV_COLUMNS)
    assert len(lines) == 1 + len(report["rows"]) == 10
    qldt = dict(zip(document.CSV_COLUMNS, lines[2].split(","), strict=True))  # T1 T2 T3
    assert (qldt["plan"], qldt["index"], qldt["unit"], qldt["tasks"]) == (
        "kh-a",
        "PAPI",
        "QLDT",
        "3",
    )
    assert pick(qldt, ("state_assigned", "state_verified", "state_closed")) == {
        "state_assigned": "1",
        "state_verified": "1",
        "state_closed": "1",
    }
    assert pick(
        qldt,
        ("tasks_started", "tasks_returned", "tasks_verified", "tasks_closed", "tasks_overdue"),
    ) == {
        "tasks_started": "2",
        "tasks_returned": "1",
        "tasks_verified": "2",
        "tasks_closed": "1",
        "tasks_overdue": "1",
    }
    assert (qldt["window_from"], qldt["provisional"], qldt["completion_pct"]) == (
        "2024-03-15",
        "false",
        "66.7",
    )
    assert qldt["on_time_pct"] == "50.0"
    html = Path(files["html"]).read_text(encoding="utf-8")
    for words in (
        "Kết quả thực hiện kế hoạch cải cách hành chính quý II năm 2024",
        "Kính gửi: Sở Nội vụ tỉnh Quảng Nam.",
        "Số liệu từ ngày 15/03/2024 đến ngày 14/06/2024",
        "Nghị định số 09/2019/NĐ-CP",
        "đạt 50,0%",
        "Chỉ số PAPI",
        "Chỉ số hài lòng (SIPAS)",
        "Công việc đã thực hiện trong kỳ theo đơn vị chủ trì",
        "Biểu đồ 1. Tỷ lệ hoàn thành nhiệm vụ theo đơn vị",
        "Biểu đồ 2. Tỷ lệ đúng hạn theo kỳ",
        "Phòng Quản lý đầu tư",
        "1/4 phòng, đơn vị",
        report["hash"],
    ):
        assert words in html, words
    # What the tasks did, in words (the text without its tags, one space between words).
    plain = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    for words in (
        "Trong kỳ có 11 nhiệm vụ đang thực hiện theo kế hoạch",
        "trong đó 9 nhiệm vụ đến hạn trong kỳ",
        "Trong kỳ: 7 nhiệm vụ bắt đầu thực hiện, 6 nhiệm vụ trình kết quả, 2 nhiệm vụ bị trả "
        "lại để làm lại, 5 nhiệm vụ được duyệt, 1 nhiệm vụ được đóng, 1 nhiệm vụ dừng",
        "Đến cuối kỳ còn 5 nhiệm vụ chưa hoàn thành, trong đó 3 nhiệm vụ quá hạn và 2 nhiệm "
        "vụ đến hạn trong quý III năm 2024",
    ):
        assert words in plain, words
    assert "tạm tính" not in plain  # the window has closed
    assert (
        "<svg" in html
        and "<script" not in html
        and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )


def test_runs_at_once_store_one_snapshot_and_number_revisions_without_gaps(
    built: Context,
) -> None:
    """Four runs asking at the same moment get one snapshot; four revising at once get
    revisions 2 to 5, each naming the one before it (the writers queue on the chain lock)."""
    workers = 4
    barrier = threading.Barrier(workers)

    def run(revise: bool) -> reports.Outcome:
        barrier.wait()
        return ask(built, revise=revise, reason="Đồng thời" if revise else None)

    with ThreadPoolExecutor(workers) as pool:
        first = list(pool.map(run, [False] * workers))
    assert sum(o.created for o in first) == 1
    assert len({o.report["hash"] for o in first}) == 1
    with ThreadPoolExecutor(workers) as pool:
        revised = list(pool.map(run, [True] * workers))
    assert sorted(o.report["revision"] for o in revised) == [2, 3, 4, 5]
    listed = reports.list_snapshots(built, ORG)
    assert [s["revision"] for s in listed] == [1, 2, 3, 4, 5]
    assert [s["previous"] for s in listed] == [None, *(s["id"] for s in listed[:-1])]
    assert len(report_entries(built)) == 5 and audit_service.verify(built).ok
