"""`audit replay` rebuilds every column reports, letters and rules read, on both backends.

A demo-like history (the seed definitions loaded, a plan task worked through to verified, a
fix task that follows from it, a dossier delayed, apologised for and escalated) replays
clean. Then the database owner edits one column at a time behind the log's back, and replay
names that table, row and column; grants a role in `person_roles`; appends, with a valid
hash, a move by a person who does not exist and one by a person in a role they did not hold
then. `audit verify` passes every time: only replay can tell.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select, text, update

from tests.integration import test_inspections as ins
from tests.integration import test_reports as rep
from workflow.cli.main import run
from workflow.clock import LOCAL_TZ
from workflow.definitions.checks import validate
from workflow.domain.audit_chain import Record, canonical_json
from workflow.domain.filters import TaskFilter
from workflow.domain.lifecycle import Move
from workflow.domain.replay import ReplayReport
from workflow.domain.roles import Role
from workflow.services import Context, apology
from workflow.services import audit_log as audit_service
from workflow.services import dossiers as dossier_service
from workflow.services import inspection_records as records
from workflow.services import inspections as inspections_service
from workflow.services import organisations as org_service
from workflow.services import plans as plan_service
from workflow.services import tasks as task_service
from workflow.store.tables import (
    dossiers,
    inspection_records,
    inspection_targets,
    inspections,
    notices,
    organisations,
    person_roles,
    plan_versions,
    procedures,
    report_snapshots,
    rule_sets,
    tasks,
)

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
ORG = "LSN-SKHDT"
STAFF, OFFICE = "lsn.vp.luong-thi-thu", "lsn.vp.hoang-van-nam"  # of the office, VP
DESK, HEAD = "lsn.dkkd.be-thi-huong", "lsn.dkkd.ly-van-duc"  # of DKKD, the dossier's unit
AUDITOR = "lsn.vp.chu-thi-hanh"


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2024, 6, day, hour, tzinfo=LOCAL_TZ)


@dataclass
class History:
    ctx: Context
    verified: int  # a plan task of VP: started, submitted, verified
    cooperating: int  # a plan task with cooperating units
    child: int  # a task that follows from `verified`
    dossier: int  # received, delayed, apologised for, escalated


def apology_run(ctx: Context, day: int, out: Path) -> None:
    ctx.clock.set(at(day, 7))  # type: ignore[attr-defined]
    as_of = dt.date(2024, 6, day)
    work = apology.find_work(ctx, as_of)
    apology.process_dossiers(ctx, as_of, work.dossiers, out)


@pytest.fixture
def history(ctx: Context, tmp_path: Path) -> History:
    found, problems = validate([DEFINITIONS])
    assert problems == []
    plan_service.load(ctx, found)
    ctx.clock.set(at(3, 8))  # type: ignore[attr-defined]
    plan_tasks = task_service.list_tasks(ctx, TaskFilter(plan="lsn-skhdt-papi-2024"))
    [verified] = [t.id for t in plan_tasks if (t.code, t.period) == ("III.2", "2024H1")]
    cooperating = next(t.id for t in plan_tasks if t.cooperating_units)
    for which, who, note in (
        (Move.START, STAFF, None),
        (Move.SUBMIT, STAFF, "Báo cáo 6 tháng"),
        (Move.VERIFY, OFFICE, None),
    ):
        task_service.move(ctx, verified, which, who, note=note)
    [child] = task_service.create_tasks(
        ctx,
        [
            task_service.NewTask(
                ORG,
                "KP.1",
                "Khắc phục sau kiểm tra",
                "VP",
                period="2024H1",
                due_date=dt.date(2024, 7, 15),
                cooperating_units=["DKKD"],
                parent_task=verified,
            )
        ],
    )
    ctx.clock.set(at(3))  # type: ignore[attr-defined]  # the desk receives it as it arrives
    received = dossier_service.receive(
        ctx,
        dossier_service.NewDossier(
            "SKHDT-DN-01", dossier_service.Applicant("Công ty TNHH Hoa Sen"), at(3)
        ),
        DESK,
    )
    dossier = int(received["id"])
    dossier_service.delay(ctx, dossier, "Cần xác minh thông tin chủ sở hữu", 2, HEAD)
    apology_run(ctx, 5, tmp_path)  # a letter: due 06/06 re-set to 10/06
    apology_run(ctx, 11, tmp_path)  # the re-set date missed: escalated
    return History(ctx, verified, cooperating, child, dossier)


def replay(ctx: Context) -> ReplayReport:
    return audit_service.replay(ctx)


def named(report: ReplayReport) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(m.table, m.row, m.fields) for m in report.mismatches]


def test_the_intact_history_replays_clean_with_every_column_covered(history: History) -> None:
    report = replay(history.ctx)
    assert report.ok, report.as_json()
    assert report.not_covered == []
    assert report.checked["dossiers"] == 1 and report.checked["person_roles"] > 0
    shown = dossier_service.show_dossier(history.ctx, history.dossier)
    # The history does reach what it means to cover: a re-set date, a delay, an escalation.
    assert (shown["extension_count"], shown["delay_days"], shown["escalated"]) == (1, 2, True)


def _dossier_code(ctx: Context, task_id: int) -> str:
    return str(dossier_service.show_dossier(ctx, task_id)["code"])


def test_every_covered_column_edited_behind_the_log_is_named(history: History) -> None:
    ctx = history.ctx
    code = _dossier_code(ctx, history.dossier)
    letter = f"apology:{history.dossier}:2024-06-06"  # the notice's key: its missed due date
    utc = dt.UTC
    v, c, k, d = history.verified, history.cooperating, history.child, history.dossier
    # table, its key column, the row's key, the column, the value the owner writes
    cases: list[tuple[Table, str, Any, str, Any]] = [
        (tasks, "id", v, "state", "closed"),
        (tasks, "id", v, "version", 9),
        (tasks, "id", v, "lead_unit", "DKKD"),
        (tasks, "id", v, "submitted_by", OFFICE),
        (tasks, "id", v, "returned_count", 1),
        (tasks, "id", v, "due_date", dt.date(2024, 12, 31)),
        (tasks, "id", v, "period", "2024Q3"),
        (tasks, "id", v, "completed_at", dt.datetime(2024, 6, 1, tzinfo=utc)),
        (tasks, "id", v, "completed_at", None),
        (tasks, "id", v, "title", "Báo cáo đã sửa"),
        (tasks, "id", v, "category", "par.other"),
        (tasks, "id", v, "kind", "fix"),
        (tasks, "id", v, "code", "III.9"),
        (tasks, "id", c, "cooperating_units", "[]"),
        (tasks, "id", k, "cooperating_units", '["DKKD", "VP"]'),
        (tasks, "id", k, "parent_task", None),
        (tasks, "id", d, "due_date", dt.date(2024, 6, 28)),
        (tasks, "id", d, "state", "verified"),
        (dossiers, "task_id", d, "applicant_name", "Công ty Khác"),
        (dossiers, "task_id", d, "received_at", dt.datetime(2024, 6, 4, 2, tzinfo=utc)),
        (dossiers, "task_id", d, "original_due", dt.date(2024, 6, 14)),
        (dossiers, "task_id", d, "current_due", dt.date(2024, 6, 28)),
        (dossiers, "task_id", d, "extension_count", 0),
        (dossiers, "task_id", d, "delay_reason", None),
        (dossiers, "task_id", d, "delay_days", 9),
        (dossiers, "task_id", d, "escalated", False),
        (notices, "key", letter, "content_hash", "0" * 64),
        (notices, "key", letter, "new_due", dt.date(2024, 6, 28)),
        # What the rules read: a procedure's time limit, a rule set, a plan, an organisation.
        (procedures, "code", "SKHDT-DN-01", "working_days", 30),
        (rule_sets, "id", "nd61-2018", "definition", "{}"),
        (plan_versions, "plan_id", "lsn-skhdt-papi-2024", "definition", "{}"),
        (organisations, "code", ORG, "content_hash", "0" * 64),
    ]
    for table, key, row_key, column, value in cases:
        where = table.c[key] == row_key
        with ctx.engine.begin() as conn:
            before = conn.execute(select(table.c[column]).where(where)).scalar_one()
            conn.execute(update(table).where(where).values({column: value}))
        assert audit_service.verify(ctx).ok  # the log itself is intact...
        report = replay(ctx)  # ...but a row no longer matches it
        rows = {
            "dossiers": code,
            "procedures": f"{ORG}/{row_key}",
            "plan_versions": f"{row_key}@v1",
        }
        row = rows.get(table.name, str(row_key))
        assert named(report) == [(table.name, row, (column,))], (column, report.as_json())
        [mismatch] = report.mismatches
        label = {"tasks": f"task {row_key}", "dossiers": f"dossier {row_key} ({code})"}
        prefix = label.get(table.name, f"{table.name} {row}")
        assert mismatch.problem.startswith(f"{prefix}: stored {column} "), mismatch.problem
        with ctx.engine.begin() as conn:
            conn.execute(update(table).where(where).values({column: before}))
    assert replay(ctx).ok  # every value put back: clean again


def test_a_role_granted_in_person_roles_alone_is_named(
    history: History, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with history.ctx.engine.begin() as conn:  # the auditor made a leader, behind the log
        conn.execute(person_roles.insert().values(person_id=AUDITOR, role="leader"))
    assert audit_service.verify(history.ctx).ok
    report = replay(history.ctx)
    assert named(report) == [("person_roles", AUDITOR, ("roles",))]
    [mismatch] = report.mismatches
    assert (mismatch.stored, mismatch.replayed) == (
        {"roles": ["auditor", "leader"]},
        {"roles": ["auditor"]},
    )
    capsys.readouterr()
    assert run(["--db", db_url, "audit", "replay"]) == 6
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        f"person_roles of {AUDITOR}: stored roles [auditor, leader]; the audit log replays to "
        "roles [auditor] (its last role.change entry is "
    )
    assert lines[1].startswith("replay MISMATCH: 1 row(s) differ from the audit log")


def _append_close(history: History, actor: str, unit: str) -> int:
    """A close of the verified task appended below the service, with a valid hash, and the
    task's row updated to match: the chain and the rows agree; only who acted is wrong."""
    ctx = history.ctx
    task = task_service.get_task(ctx, history.verified)
    record = Record(
        actor=actor,
        action="close",
        subject=f"task:{task.id}",
        role="leader",
        unit=unit,
        organisation=ORG,
        task_id=task.id,
        plan_id=task.plan,
        from_state="verified",
        to_state="closed",
        data={"version": task.version + 1},
    )
    ctx.clock.advance(dt.timedelta(hours=1))  # type: ignore[attr-defined]
    with ctx.uow.writing() as tx:
        tx.backend.recorder.append(tx.conn, [record], ctx.clock)
        seq = int(tx.conn.execute(text("SELECT max(seq) FROM audit_log")).scalar_one())
        tx.conn.execute(
            update(tasks)
            .where(tasks.c.id == task.id)
            .values(state="closed", version=task.version + 1)
        )
    assert audit_service.verify(ctx).ok
    return seq


def test_a_close_by_a_person_who_does_not_exist_is_named(history: History) -> None:
    seq = _append_close(history, "nobody.that.exists", "NOPE")
    report = replay(history.ctx)
    assert report.mismatches == []
    assert [str(p) for p in report.log_problems] == [
        f"entry {seq} (task {history.verified}): close by nobody.that.exists, whom no earlier "
        "role.change entry names: no such person was loaded in any organisation"
    ]


def test_a_close_in_a_role_not_held_then_is_named_even_once_granted_later(
    history: History,
) -> None:
    seq = _append_close(history, AUDITOR, "VP")
    # Then the file is reloaded making her a leader too, properly: person_roles and the log
    # agree from now on, but she was no leader when the close was entered.
    spec = org_service.known_organisations(history.ctx)[ORG]
    people = [
        p.model_copy(update={"roles": [*p.roles, Role.LEADER]}) if p.id == AUDITOR else p
        for p in spec.people
    ]
    org_service.upsert_organisation(history.ctx, spec.model_copy(update={"people": people}))
    report = replay(history.ctx)
    assert report.mismatches == []
    [problem] = report.log_problems
    assert (problem.seq, problem.task) == (seq, history.verified)
    assert problem.problem.startswith(
        f"close by {AUDITOR} acting as leader, a role they did not hold then (they held auditor"
    )


# ------------------------------------------------------------------ documents and draws


def test_an_edited_inspection_record_draw_and_notice_are_named(
    ctx: Context, tmp_path: Path
) -> None:
    """The record the office verified made compliant with its fixes removed, the draw's
    selection and a unit's inspection task changed, the conclusion notice's hash replaced:
    each named on its row."""
    org_service.upsert_organisation(ctx, ins.inspected_agency())
    checked = task_service.create_tasks(ctx, [ins.new_task("U03", "A.1", dt.date(2024, 6, 30))])
    drawn = inspections_service.draw(ctx, ins.ORG, "2024", ins.INSPECTOR, seed=0, ratio=1.0)
    task_id = drawn.tasks["U03"]
    task_service.move(ctx, task_id, Move.START, ins.INSPECTOR)
    record = {
        "inspected_on": "2024-03-01",
        "findings": [{"task": checked[0], "compliant": False, "note": "Chưa niêm yết TTHC"}],
        "strengths": [],
        "shortcomings": ["Niêm yết chậm"],
        "fixes": [{"title": "Niêm yết đầy đủ", "due": "2024-04-15", "task": checked[0]}],
    }
    records.submit_record(ctx, task_id, ins.INSPECTOR, record)
    task_service.move(ctx, task_id, Move.VERIFY, ins.OFFICE1)
    records.conclude(ctx, [task_id], tmp_path)
    assert replay(ctx).ok, replay(ctx).as_json()
    with ctx.engine.connect() as conn:
        notice = conn.execute(
            select(notices.c.key).where(notices.c.kind == "conclusion")
        ).scalar_one()
    edited = {
        **record,
        "findings": [{"task": checked[0], "compliant": True, "note": "Đã thực hiện tốt"}],
        "fixes": [],
    }
    with ctx.engine.begin() as conn:
        conn.execute(
            update(inspection_records)
            .where(inspection_records.c.task_id == task_id)
            .values(record=canonical_json(edited))
        )
        conn.execute(
            update(inspections)
            .where(inspections.c.id == drawn.inspection)
            .values(selected='["U01"]')
        )
        conn.execute(update(notices).where(notices.c.key == notice).values(content_hash="0" * 64))
        conn.execute(  # U05's inspection now points at U03's task
            update(inspection_targets)
            .where(
                inspection_targets.c.inspection_id == drawn.inspection,
                inspection_targets.c.unit == "U05",
            )
            .values(task_id=task_id)
        )
    assert audit_service.verify(ctx).ok
    report = replay(ctx)
    assert sorted(named(report)) == [
        ("inspection_records", f"{task_id}/1", ("record",)),
        ("inspections", str(drawn.inspection), ("selected", "targets")),
        ("notices", notice, ("content_hash",)),
    ]


def snapshots_named(report: ReplayReport) -> list[tuple[str, str, tuple[str, ...]]]:
    return [named for named in named(report) if named[0] == "report_snapshots"]


def test_an_edited_report_snapshot_is_named(ctx: Context) -> None:
    # The reports' fixture writes its dossiers and draws straight into the tables (replay
    # names those): only the snapshot's row is looked at here.
    rep.build(ctx)
    snapshot = rep.ask(ctx).report["snapshot"]
    assert snapshots_named(replay(ctx)) == []
    with ctx.engine.begin() as conn:  # the owner drops the guard first
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER report_snapshots_no_update"))
        else:
            conn.execute(text("ALTER TABLE report_snapshots DISABLE TRIGGER USER"))
        stored = conn.execute(
            select(report_snapshots.c.content).where(report_snapshots.c.id == snapshot)
        ).scalar_one()
        found = re.search(r'"tasks":(\d+)', stored)  # the totals' count of tasks, one more
        assert found is not None, stored[:300]
        more = f'"tasks":{int(found.group(1)) + 1}'
        conn.execute(
            update(report_snapshots)
            .where(report_snapshots.c.id == snapshot)
            .values(content=func.replace(report_snapshots.c.content, found.group(0), more))
        )
    report = replay(ctx)
    assert snapshots_named(report) == [("report_snapshots", str(snapshot), ("content",))]
    [problem] = [str(m) for m in report.mismatches if m.table == "report_snapshots"]
    assert problem.startswith(f"report_snapshots {snapshot}: stored content ")
