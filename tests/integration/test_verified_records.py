"""What was verified is what is concluded: the conclusion notice and the fix tasks are made
from the inspection record whose hash the audit log holds for the submission the office
verified; a stored record that no longer matches it is refused (exit 6) and nothing is
issued. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.integration.test_inspections import (  # noqa: F401
    INSPECTOR,
    OFFICE1,
    ORG,
    new_task,
    org,
)
from workflow.clock import FixedClock
from workflow.domain.audit_chain import canonical_json, content_hash
from workflow.domain.lifecycle import Move
from workflow.errors import AuditVerificationFailed
from workflow.services import Context, reports
from workflow.services import inspection_records as records
from workflow.services import inspections as service
from workflow.services import tasks as task_service
from workflow.store.tables import notices, tasks

pytestmark = pytest.mark.usefixtures("org")


@dataclass
class Verified:
    task: int
    checked: list[int]
    record: dict[str, Any]


@pytest.fixture
def verified(ctx: Context, clock: FixedClock) -> Verified:
    """An inspection of U03 whose record (one task not compliant, one fix) the office
    verified, not concluded yet."""
    today = clock.now().date()
    checked = task_service.create_tasks(
        ctx,
        [
            new_task("U03", "A.1", dt.date(2024, 6, 30)),
            new_task("U03", "A.2", dt.date(2024, 9, 30)),
        ],
    )
    drawn = service.draw(ctx, ORG, "2024", INSPECTOR, seed=0, ratio=1.0)
    task_id = drawn.tasks["U03"]
    record = {
        "inspected_on": today.isoformat(),
        "findings": [
            {"task": checked[0], "compliant": False, "note": "Chưa niêm yết TTHC mới"},
            {"task": checked[1], "compliant": True, "note": "Đúng hạn"},
        ],
        "strengths": [],
        "shortcomings": ["Niêm yết thủ tục hành chính chưa kịp thời"],
        "fixes": [
            {
                "title": "Niêm yết đầy đủ TTHC mới",
                "due": (today + dt.timedelta(days=45)).isoformat(),
                "task": checked[0],
            }
        ],
    }
    task_service.move(ctx, task_id, Move.START, INSPECTOR)
    records.submit_record(ctx, task_id, INSPECTOR, record)
    task_service.move(ctx, task_id, Move.VERIFY, OFFICE1)
    return Verified(task_id, checked, record)


def whitewashed(v: Verified) -> dict[str, Any]:
    """The record as an owner would rather have it: all compliant, nothing to fix."""
    findings = [dict(f, compliant=True, note="Đã thực hiện tốt") for f in v.record["findings"]]
    return dict(v.record, findings=findings, shortcomings=[], fixes=[])


def store(ctx: Context, task_id: int, content: dict[str, Any], *, with_hash: bool) -> None:
    """The owner's UPDATE of the stored record (the table has no trigger); `with_hash`:
    its record_hash column made to match, as a careful owner would."""
    body = canonical_json(content)
    extra = ", record_hash = :h" if with_hash else ""
    with ctx.engine.begin() as conn:
        conn.execute(
            text(f"UPDATE inspection_records SET record = :r{extra} WHERE task_id = :t"),
            {"r": body, "h": content_hash(body), "t": task_id},
        )


def issued(ctx: Context, task_id: int) -> tuple[int, int]:
    """(conclusion notices, fix tasks) of the inspection task."""
    with ctx.engine.connect() as conn:
        found = conn.execute(
            select(func.count()).where(notices.c.task_id == task_id, notices.c.kind == "conclusion")
        ).scalar_one()
        fixes = conn.execute(
            select(func.count()).where(tasks.c.parent_task == task_id)
        ).scalar_one()
    return int(found), int(fixes)


@pytest.mark.parametrize("with_hash", [False, True], ids=["record", "record-and-its-hash"])
def test_a_record_edited_after_verification_is_refused_and_nothing_issued(
    ctx: Context, verified: Verified, tmp_path: Path, with_hash: bool
) -> None:
    out = tmp_path / "out"
    store(ctx, verified.task, whitewashed(verified), with_hash=with_hash)
    with pytest.raises(AuditVerificationFailed) as refused:
        records.conclude(ctx, [verified.task], out)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(
        f"the stored record of inspection task {verified.task} (revision 1, hashing to "
    )
    assert "is not the one the office verified" in message and "no conclusion issued" in message
    assert issued(ctx, verified.task) == (0, 0)
    assert not out.exists() or not any(out.rglob("*.*"))  # no notice file either
    # Put back as verified, the record is concluded from: one notice, its fix task.
    store(ctx, verified.task, verified.record, with_hash=True)
    [done] = records.conclude(ctx, [verified.task], out)
    assert len(done.fix_tasks) == 1 and issued(ctx, verified.task) == (1, 1)


def test_a_revision_slipped_in_after_verification_is_refused(
    ctx: Context, verified: Verified, tmp_path: Path
) -> None:
    """A second revision inserted behind the log's back, hashed correctly: it is the latest
    stored, but not the revision the office verified."""
    body = canonical_json(whitewashed(verified))
    with ctx.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO inspection_records (task_id, revision, record, record_hash, "
                "submitted_by, submitted_at) VALUES (:t, 2, :r, :h, :by, :at)"
            ),
            {
                "t": verified.task,
                "r": body,
                "h": content_hash(body),
                "by": INSPECTOR,
                "at": dt.datetime(2024, 3, 2, tzinfo=dt.UTC),
            },
        )
    with pytest.raises(AuditVerificationFailed, match=r"revision 2.* holds revision 1"):
        records.conclude(ctx, [verified.task], tmp_path)
    assert issued(ctx, verified.task) == (0, 0)


def test_an_untouched_record_is_concluded(ctx: Context, verified: Verified, tmp_path: Path) -> None:
    [done] = records.conclude(ctx, [verified.task], tmp_path)
    assert issued(ctx, verified.task) == (1, 1)
    assert "Niêm yết đầy đủ TTHC mới" in Path(done.html).read_text(encoding="utf-8")


def test_a_report_revision_refuses_to_name_an_altered_snapshot(ctx: Context) -> None:
    """A revision names the snapshot it replaces by its hash: a snapshot altered behind the
    log's back is refused, not named."""
    first = reports.generate(ctx, reports.Request(ORG, "2024Q1", "calendar")).report
    with ctx.engine.begin() as conn:  # the owner lifts the guard and edits the figures
        if conn.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER report_snapshots_no_update"))
        else:
            conn.execute(text("ALTER TABLE report_snapshots DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE report_snapshots SET content = replace(content, '0', '1')"))
    revise = reports.Request(ORG, "2024Q1", "calendar", revise=True, reason="Bổ sung số liệu")
    with pytest.raises(AuditVerificationFailed, match=f"report {first['snapshot']} was altered"):
        reports.generate(ctx, revise)
    with ctx.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM report_snapshots")).scalar_one() == 1
