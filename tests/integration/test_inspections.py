"""Inspections against a real database: the draw, its signals, redraws, explain, and the
record → verification → conclusion → fix-task path. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.e2e.conftest import DEFINITIONS
from tests.integration.test_faults_tampering import owner, rehash_from
from tests.support import log
from workflow.clock import LOCAL_TZ, FixedClock
from workflow.definitions.checks import validate
from workflow.definitions.models import OrganisationSpec
from workflow.domain import sampling
from workflow.domain.audit_chain import canonical_json, content_hash
from workflow.domain.lifecycle import Move, State
from workflow.errors import (
    AuditVerificationFailed,
    InvalidInput,
    MoveNotAllowed,
    PermissionDenied,
)
from workflow.services import Context
from workflow.services import audit_log as audit_service
from workflow.services import dossiers as dossier_service
from workflow.services import inspection_draws as draws
from workflow.services import inspection_records as records
from workflow.services import inspections as service
from workflow.services import organisations as org_service
from workflow.services import plans as plan_service
from workflow.services import tasks as task_service
from workflow.store.tables import audit_log, inspections, notices, tasks

ORG = "SO-KT"
UNITS = [f"U{i:02d}" for i in range(1, 11)]
INSPECTOR, INSPECTOR2 = "so-kt.thanh-tra-1", "so-kt.thanh-tra-2"
OFFICE1, OFFICE2 = "so-kt.van-phong-1", "so-kt.van-phong-2"


def inspected_agency(every: str = "year", code: str = ORG) -> OrganisationSpec:
    """Ten units to inspect, an inspection team (two inspectors), an office of two."""
    people = [
        {"id": INSPECTOR, "name": "Lăng Thị Mai", "unit": "TTR", "roles": ["inspector", "staff"]},
        {"id": INSPECTOR2, "name": "Đinh Văn Quang", "unit": "TTR", "roles": ["inspector"]},
        {"id": OFFICE1, "name": "Nguyễn Văn An", "unit": "VP", "roles": ["office", "staff"]},
        {"id": OFFICE2, "name": "Hoàng Thị Bình", "unit": "VP", "roles": ["office"]},
        {"id": "so-kt.giam-doc", "name": "Nông Văn Hùng", "unit": "VP", "roles": ["leader"]},
    ] + [
        {"id": f"so-kt.{u.lower()}", "name": f"Cán bộ {u}", "unit": u, "roles": ["staff"]}
        for u in UNITS
    ]
    return OrganisationSpec.model_validate(
        {
            "kind": "organisation",
            "code": code,
            "name": "Sở Kiểm thử",
            "province": "Lạng Sơn",
            "office_unit": "VP",
            "units": [
                {"code": "VP", "name": "Văn phòng Sở"},
                {"code": "TTR", "name": "Thanh tra Sở"},
            ]
            + [{"code": u, "name": f"Phòng {u}"} for u in UNITS],
            "groups": [{"code": "CP", "name": "Các phòng", "units": UNITS}],
            "people": people,
            "inspection": {
                "unit": "TTR",
                "units": "CP",
                "every": every,
                "ratio": 0.3,
                "signer": "so-kt.giam-doc",
                "signer_title": "GIÁM ĐỐC",
            },
        }
    )


@pytest.fixture
def org(ctx: Context) -> OrganisationSpec:
    spec = inspected_agency()
    org_service.upsert_organisation(ctx, spec)
    return spec


def new_task(unit: str, code: str, due: dt.date | None, **extra: Any) -> task_service.NewTask:
    return task_service.NewTask(
        organisation=ORG, code=code, title=f"Nhiệm vụ {code} của {unit}", lead_unit=unit,
        plan=None, due_date=due, **extra,
    )  # fmt: skip


def entries(ctx: Context, action: str) -> list[dict[str, Any]]:
    return log.entries(ctx, action=action)


def count(ctx: Context, stmt: Any) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


# ----------------------------------------------------------------------------- the draw


def test_a_draw_selects_30_percent_creates_tasks_and_records_everything(
    ctx: Context, org: OrganisationSpec
) -> None:
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR, seed=42)

    assert len(drawn.selected) == 3  # ceil(0.3 × 10)
    assert len(set(drawn.selected)) == 3 and set(drawn.selected) <= set(UNITS)
    assert [p["unit"] for p in drawn.population] == UNITS  # the team is not in it
    as_json = drawn.as_json()
    assert {"inspection", "period", "population", "selected", "seed"} <= set(as_json)
    assert as_json["seed"] == 42 and as_json["period"] == "2024"
    # One inspection task per selected unit, led by the inspection team.
    for unit in drawn.selected:
        task = task_service.get_task(ctx, drawn.tasks[unit])
        assert (task.kind, task.lead_unit, task.state, task.period) == (
            "inspection", "TTR", State.ASSIGNED, "2024",
        )  # fmt: skip
        assert task.cooperating_units == [unit] and task.due_date == dt.date(2024, 12, 31)
    # The audit log holds the inputs and the result: enough to re-derive it.
    [entry] = entries(ctx, "inspection.draw")
    assert entry["actor"] == INSPECTOR and entry["role"] == "inspector"
    record = entry["data"]["record"]
    assert record["seed"] == 42 and record["algorithm"] == sampling.ALGORITHM_VERSION
    assert record["selected"] == drawn.selected and len(record["population"]) == 10
    assert sampling.explain(record).selected == tuple(drawn.selected)


def test_the_same_period_returns_the_stored_draw_and_writes_nothing(
    ctx: Context, org: OrganisationSpec
) -> None:
    first = service.draw(ctx, ORG, "2024", INSPECTOR, seed=1)
    before = count(ctx, select(func.count()).select_from(audit_log))
    again = service.draw(ctx, ORG, "2024", INSPECTOR2, seed=999, ratio=0.5)
    assert again.existing and not first.existing
    assert (again.inspection, again.selected, again.seed) == (
        first.inspection, first.selected, 1,
    )  # fmt: skip
    assert count(ctx, select(func.count()).select_from(audit_log)) == before


def test_the_seed_decides_ties_and_the_same_seed_gives_the_same_draw(ctx: Context) -> None:
    for code in ("SO-A", "SO-B", "SO-C"):
        org_service.upsert_organisation(ctx, _recoded(inspected_agency(), code))
    a = service.draw(ctx, "SO-A", "2024", _person("SO-A", INSPECTOR), seed=7)
    b = service.draw(ctx, "SO-B", "2024", _person("SO-B", INSPECTOR), seed=7)
    c = service.draw(ctx, "SO-C", "2024", _person("SO-C", INSPECTOR), seed=8)
    assert a.selected == b.selected  # same inputs, same seed: same draw
    assert c.selected != a.selected  # ten equal units: the seed decides (3 of 10 each time)


def _person(code: str, person: str) -> str:
    return person.replace("so-kt", code.lower())


def _recoded(spec: OrganisationSpec, code: str) -> OrganisationSpec:
    raw = json.loads(spec.model_dump_json())
    raw["code"] = code
    for p in raw["people"]:
        p["id"] = _person(code, p["id"])
    raw["inspection"]["signer"] = _person(code, raw["inspection"]["signer"])
    return OrganisationSpec.model_validate(raw)


def test_risk_signals_come_from_the_database_and_rank_units(
    ctx: Context, org: OrganisationSpec, clock: FixedClock
) -> None:
    today = clock.now().date()
    past, future = today - dt.timedelta(days=10), today + dt.timedelta(days=30)
    ids = task_service.create_tasks(
        ctx,
        [
            new_task("U05", "A.1", past),
            new_task("U05", "A.2", past),
            new_task("U05", "A.3", future),  # not overdue
            new_task("U08", "B.1", future),
            new_task("U09", "C.1", past, kind="dossier"),  # dossiers are not "tasks" here
        ],
    )
    # U08 has one submission returned for rework.
    member = "so-kt.u08"
    task_service.move(ctx, ids[3], Move.START, member)
    task_service.move(ctx, ids[3], Move.SUBMIT, member, note="Đã gửi báo cáo")
    task_service.move(ctx, ids[3], Move.RETURN, OFFICE1, note="Thiếu số liệu")

    drawn = service.draw(ctx, ORG, "2024", INSPECTOR, seed=3)
    signals = {p["unit"]: p for p in drawn.population}
    assert signals["U05"]["overdue_tasks"] == 2
    assert signals["U08"]["returned_submissions"] == 1
    assert signals["U09"]["overdue_tasks"] == 0
    assert all(p["last_inspected"] is None for p in drawn.population)
    assert drawn.selected[:2] == ["U05", "U08"]  # all never inspected: the riskiest first


def test_consecutive_periods_rotate_through_every_unit(ctx: Context, org: OrganisationSpec) -> None:
    seen: set[str] = set()
    for year in range(2024, 2028):  # ceil(1 / 0.3) = 4 periods
        drawn = service.draw(ctx, ORG, str(year), INSPECTOR, seed=year)
        assert not seen & set(drawn.selected) or year == 2027  # 3+3+3 distinct, then 1 left
        seen |= set(drawn.selected)
    assert seen == set(UNITS)
    last = service.draw(ctx, ORG, "2027", INSPECTOR)
    stale = {p["unit"]: p["last_inspected"] for p in last.population}
    assert sorted(v for v in stale.values() if v) == ["2024"] * 3 + ["2025"] * 3 + ["2026"] * 3


def test_a_ratio_below_30_percent_and_a_wrong_period_are_refused(
    ctx: Context, org: OrganisationSpec
) -> None:
    with pytest.raises(InvalidInput, match="at least 30%"):
        service.draw(ctx, ORG, "2024", INSPECTOR, ratio=0.29)
    with pytest.raises(InvalidInput, match="inspects every year"):
        service.draw(ctx, ORG, "2024Q3", INSPECTOR)
    with pytest.raises(PermissionDenied, match="inspector role"):
        service.draw(ctx, ORG, "2024", OFFICE1)
    assert entries(ctx, "inspection.draw") == []


# ----------------------------------------------------------------------------- redraw


def test_a_redraw_needs_the_office_and_a_reason_and_keeps_both_draws(
    ctx: Context, org: OrganisationSpec
) -> None:
    first = service.draw(ctx, ORG, "2024", INSPECTOR, seed=1)
    with pytest.raises(PermissionDenied, match="office role"):
        service.draw(ctx, ORG, "2024", INSPECTOR, redraw_reason="Sai danh sách")
    with pytest.raises(InvalidInput, match="--reason"):
        service.draw(ctx, ORG, "2024", OFFICE1, redraw_reason="  ")

    second = service.draw(ctx, ORG, "2024", OFFICE1, seed=2, redraw_reason="Bổ sung đơn vị mới")
    assert second.revision == 2 and second.supersedes == first.inspection
    draws = service.list_draws(ctx, ORG, "2024")
    assert [(d["inspection"], d["superseded_by"]) for d in draws] == [
        (first.inspection, second.inspection), (second.inspection, None),
    ]  # fmt: skip
    logged = entries(ctx, "inspection.draw")
    assert [e["data"]["revision"] for e in logged] == [1, 2]
    assert logged[1]["actor"] == OFFICE1 and logged[1]["role"] == "office"
    assert logged[1]["data"]["reason"] == "Bổ sung đơn vị mới"
    # The redraw's entries, in the order recorded: the withdrawals, the new tasks, the draw.
    tail = log.entries(ctx, after_seq=logged[0]["seq"])
    fresh = [u for u in second.selected if u not in first.tasks]
    assert [e["action"] for e in tail] == (
        ["withdraw"] * len(second.withdrawn) + ["task.create"] * len(fresh) + ["inspection.draw"]
    )
    assert [e["task_id"] for e in tail if e["action"] == "withdraw"] == second.withdrawn
    assert logged[1]["data"]["withdrawn"] == second.withdrawn
    assert logged[1]["data"]["tasks"] == second.tasks
    # Units kept keep their task; dropped units' tasks are withdrawn (closed, not completed).
    for unit, task_id in first.tasks.items():
        task = task_service.get_task(ctx, task_id)
        if unit in second.selected:
            assert second.tasks[unit] == task_id and task.state is State.ASSIGNED
        else:
            assert task.state is State.CLOSED and task.completed_at is None
            assert task_id in second.withdrawn
    # The stored draw for the period is now the second one; both still explain.
    assert service.draw(ctx, ORG, "2024", INSPECTOR).inspection == second.inspection
    assert service.explain(ctx, first.inspection)["superseded_by"] == second.inspection
    assert service.explain(ctx, second.inspection)["selected"] == second.selected
    assert audit_service.replay(ctx).ok


def test_a_draw_with_a_submitted_record_cannot_be_redrawn(
    ctx: Context, org: OrganisationSpec
) -> None:
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR, seed=5)
    task_id = drawn.tasks[drawn.selected[0]]
    task_service.move(ctx, task_id, Move.START, INSPECTOR)
    records.submit_record(ctx, task_id, INSPECTOR, {"findings": [], "strengths": ["Tốt"]})
    with pytest.raises(MoveNotAllowed, match="already has a record"):
        service.draw(ctx, ORG, "2024", OFFICE1, redraw_reason="Muộn quá")


# ----------------------------------------------------------------------------- explain


def test_explain_rederives_the_draw_and_says_why(ctx: Context, org: OrganisationSpec) -> None:
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR, seed=11)
    found = service.explain(ctx, drawn.inspection)
    assert found["verified"] and found["selected"] == drawn.selected
    assert [r["unit"] for r in found["ranking"] if r["chosen"]] == drawn.selected
    assert len(found["ranking"]) == 10
    assert all("never inspected" in r["reason"] for r in found["ranking"])
    assert found["ranking"][0]["reason"].startswith("chosen: ranks 1st of the 3 needed")


def test_explain_fails_loudly_on_a_doctored_record(ctx: Context, org: OrganisationSpec) -> None:
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR, seed=11)
    [entry] = entries(ctx, "inspection.draw")
    outsider = next(u for u in UNITS if u not in drawn.selected)
    data = dict(entry["data"])
    data["record"] = dict(data["record"], selected=[outsider, *drawn.selected[1:]])
    # The owner rewrites the entry and re-hashes the chain from there: the chain verifies,
    # but the recorded result no longer follows from the recorded inputs.
    with owner(ctx) as conn:
        conn.execute(
            update(audit_log)
            .where(audit_log.c.seq == entry["seq"])
            .values(data=canonical_json(data))
        )
        rehash_from(conn, entry["seq"])
    with pytest.raises(AuditVerificationFailed, match=f"{outsider} was not in the top 3"):
        service.explain(ctx, drawn.inspection)


def test_explain_names_an_edited_entry_and_a_table_that_disagrees(
    ctx: Context, org: OrganisationSpec
) -> None:
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR, seed=11)
    with ctx.engine.begin() as conn:  # the table is not the evidence: the log is
        conn.execute(
            update(inspections)
            .where(inspections.c.id == drawn.inspection)
            .values(selected=json.dumps(list(reversed(drawn.selected))))
        )
    with pytest.raises(AuditVerificationFailed, match="the inspections table says"):
        service.explain(ctx, drawn.inspection)
    [entry] = entries(ctx, "inspection.draw")
    with owner(ctx) as conn:
        conn.execute(
            update(audit_log).where(audit_log.c.seq == entry["seq"]).values(actor="someone")
        )
    with pytest.raises(AuditVerificationFailed, match="does not match its hash"):
        service.explain(ctx, drawn.inspection)


# ------------------------------------------------------- record → conclusion → fix tasks


def test_record_verification_conclusion_and_fix_tasks(
    ctx: Context, org: OrganisationSpec, clock: FixedClock, tmp_path: Path
) -> None:
    today = clock.now().date()
    # The unit's tasks due in 2024: what the inspection checks.
    unit_tasks = task_service.create_tasks(
        ctx,
        [
            new_task("U03", "A.1", dt.date(2024, 6, 30), category="par.procedures"),
            new_task("U03", "A.2", dt.date(2024, 9, 30)),
            new_task("U03", "A.3", dt.date(2025, 3, 31)),  # next year: not on the list
        ],
    )
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR, seed=0, ratio=1.0)
    task_id = drawn.tasks["U03"]
    shown = next(t for t in service.show(ctx, drawn.inspection)["targets"] if t["unit"] == "U03")
    assert shown["checklist"] == unit_tasks[:2]
    assert "task: " + str(unit_tasks[0]) in records.template(ctx, task_id)

    # An inspection task is submitted with its record, never with a plain submit.
    task_service.move(ctx, task_id, Move.START, INSPECTOR)
    with pytest.raises(InvalidInput, match="inspections record"):
        task_service.move(ctx, task_id, Move.SUBMIT, INSPECTOR, note="Xong")
    incomplete = {"findings": [{"task": unit_tasks[0], "compliant": False, "note": "Chậm"}]}
    with pytest.raises(InvalidInput, match="no finding for task"):
        records.submit_record(ctx, task_id, INSPECTOR, incomplete)
    with pytest.raises(PermissionDenied, match="inspector"):
        records.submit_record(ctx, task_id, "so-kt.u03", incomplete)

    due = today + dt.timedelta(days=45)
    record = {
        "inspected_on": today.isoformat(),
        "findings": [
            {"task": unit_tasks[0], "compliant": False, "note": "Chưa niêm yết TTHC mới"},
            {"task": unit_tasks[1], "compliant": True, "note": "Đúng hạn"},
        ],
        "strengths": ["Lãnh đạo phòng quan tâm chỉ đạo"],
        "shortcomings": ["Niêm yết thủ tục hành chính chưa kịp thời"],
        "fixes": [{"title": "Niêm yết đầy đủ TTHC mới", "due": due.isoformat(),
                   "task": unit_tasks[0]}],
    }  # fmt: skip
    submitted = records.submit_record(ctx, task_id, INSPECTOR, record)
    assert submitted["task"]["state"] == "submitted" and submitted["record_revision"] == 1
    # Four-eyes holds as for any task; the office verifies.
    with pytest.raises(PermissionDenied):
        task_service.move(ctx, task_id, Move.VERIFY, INSPECTOR)
    assert records.pending_conclusions(ctx, ORG) == []  # not verified yet
    task_service.move(ctx, task_id, Move.VERIFY, OFFICE1)
    assert records.pending_conclusions(ctx, ORG) == [task_id]

    [done] = records.conclude(ctx, [task_id], tmp_path)
    html = Path(done.html).read_text(encoding="utf-8")
    assert "Niêm yết đầy đủ TTHC mới" in html and "Chưa niêm yết TTHC mới" in html
    assert Path(done.docx).read_bytes()[:2] == b"PK"
    [fix_id] = done.fix_tasks
    fix = task_service.get_task(ctx, fix_id)
    assert (fix.kind, fix.lead_unit, fix.state, fix.due_date, fix.parent_task) == (
        "fix", "U03", State.ASSIGNED, due, task_id,
    )  # fmt: skip
    assert fix.category == "par.procedures"  # as the task it remedies
    # Concluding again does nothing: one notice, one set of fix tasks.
    assert records.conclude(ctx, [task_id], tmp_path) == []
    assert records.pending_conclusions(ctx, ORG) == []
    conclusions = select(func.count()).select_from(notices).where(notices.c.kind == "conclusion")
    assert count(ctx, conclusions) == 1
    fixes = select(func.count()).select_from(tasks).where(tasks.c.parent_task == task_id)
    assert count(ctx, fixes) == 1
    [concluded] = entries(ctx, "inspection.conclude")
    assert concluded["data"]["fix_tasks"] == [fix_id]
    assert concluded["data"]["docx_hash"] == content_hash(Path(done.docx).read_bytes())
    assert audit_service.verify(ctx).ok and audit_service.replay(ctx).ok
    # The next period's checklist for U03 includes the open fix task.
    with ctx.uow.reading() as r:
        assert fix_id in draws.checklist(r, ORG, "U03", dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def test_late_dossiers_count_as_risk_resolved_late_or_still_open(ctx: Context) -> None:
    found, _ = validate([DEFINITIONS])
    plan_service.load(ctx, found)
    desk, worker, office = "lsn.dkkd.be-thi-huong", "lsn.dkkd.ly-van-duc", "lsn.vp.luong-thi-thu"
    received: list[int] = []

    def receive(day: int) -> None:
        moment = dt.datetime(2024, 5, day, 9, tzinfo=LOCAL_TZ)
        ctx.clock = FixedClock(moment)
        applicant = dossier_service.Applicant(f"Công ty {len(received)}")
        new = dossier_service.NewDossier("SKHDT-DN-01", applicant, moment)
        received.append(dossier_service.receive(ctx, new, desk)["id"])

    receive(2)  # 3 working days each
    receive(3)
    # The first is resolved on 6/5 (on time), the second on 15/5 (late); the third, received
    # on 20/5, is still open but not yet due on 21/5. (In this order: the log goes forward.)
    for task_id, day in ((received[0], 6), (received[1], 15)):
        ctx.clock = FixedClock(dt.datetime(2024, 5, day, 10, tzinfo=LOCAL_TZ))
        task_service.move(ctx, task_id, Move.START, worker)
        task_service.move(ctx, task_id, Move.SUBMIT, worker, note="Đã giải quyết")
        task_service.move(ctx, task_id, Move.VERIFY, office)
    receive(20)
    ctx.clock = FixedClock(dt.datetime(2024, 5, 21, 9, tzinfo=LOCAL_TZ))
    drawn = service.draw(ctx, "LSN-SKHDT", "2024Q2", "lsn.ttr.lang-thi-mai", seed=1)
    signals = {p["unit"]: p for p in drawn.population}
    assert signals["DKKD"]["late_dossiers"] == 1
    assert "TTR" not in signals and len(signals) == 6  # CPDV without the inspection team
    # A week later the third is past due and still open: two late.
    ctx.clock = FixedClock(dt.datetime(2024, 5, 31, 9, tzinfo=LOCAL_TZ))
    with ctx.uow.reading() as r:
        spec = r.organisations.require("LSN-SKHDT")
        later = draws.signals(r, spec, sampling.parse_period("2024Q3"), ctx.clock.now())
    assert {s.unit: s.late_dossiers for s in later}["DKKD"] == 2


def test_inspectors_drawing_at_once_get_one_draw(ctx: Context, org: OrganisationSpec) -> None:
    def draw_as(i: int) -> int:
        who = INSPECTOR if i % 2 else INSPECTOR2
        return service.draw(ctx, ORG, "2024", who, seed=i).inspection

    with ThreadPoolExecutor(6) as pool:
        ids = set(pool.map(draw_as, range(6)))
    assert len(ids) == 1
    assert count(ctx, select(func.count()).select_from(inspections)) == 1
    kinds = select(func.count()).select_from(tasks).where(tasks.c.kind == "inspection")
    assert count(ctx, kinds) == 3
    assert len(entries(ctx, "inspection.draw")) == 1


def test_a_record_verified_early_in_the_morning_is_concluded(
    ctx: Context, org: OrganisationSpec, clock: FixedClock, tmp_path: Path
) -> None:
    """Before 07:00 in Vietnam it is still the day before in UTC: a record made and verified
    at 06:30 is judged on Vietnam's date (it was refused as dated "in the future")."""
    clock.set(dt.datetime(2024, 5, 20, 6, 30, tzinfo=LOCAL_TZ))
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR, seed=0)
    task_id = drawn.tasks[drawn.selected[0]]
    task_service.move(ctx, task_id, Move.START, INSPECTOR)
    records.submit_record(ctx, task_id, INSPECTOR, {"strengths": ["Chủ động triển khai"]})
    task_service.move(ctx, task_id, Move.VERIFY, OFFICE1)
    [done] = records.conclude(ctx, [task_id], tmp_path)
    assert "20 tháng 5 năm 2024" in Path(done.html).read_text(encoding="utf-8")
