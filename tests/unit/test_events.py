"""Typed audit events: each one's entry (columns and data) is what the log has always held,
and a stored entry decodes back to the same event; replay knows every type."""

from __future__ import annotations

import json
from typing import Any

import pytest

from workflow.domain import events as ev
from workflow.domain import replay
from workflow.domain.audit_chain import canonical_json
from workflow.domain.lifecycle import Move

ENVELOPE: dict[str, Any] = {
    "actor": "so-test.lan",
    "role": "staff",
    "unit": "QLDT",
    "organisation": "SO-TEST",
    "task_id": 8,
    "plan_id": "qna-papi-2023",
    "from_state": "in_progress",
    "to_state": "submitted",
}

# One of each, with the entry's subject and data exactly as the log holds them.
EXAMPLES: list[tuple[ev.Event, str, dict[str, Any]]] = [
    (
        ev.TaskCreated(**ENVELOPE, code="1.2", period="2024Q1", lead_unit="QLDT",
                       due_date="2024-03-31", reason="plan qna-papi-2023 v1"),
        "task:8",
        {"code": "1.2", "period": "2024Q1", "lead_unit": "QLDT", "due_date": "2024-03-31",
         "reason": "plan qna-papi-2023 v1"},
    ),
    (
        ev.TaskCreated(**ENVELOPE, code="KT-1-KP1", period="", lead_unit="QLDT", due_date=None,
                       reason="fix", parent_task=3),
        "task:8",
        {"code": "KT-1-KP1", "period": "", "lead_unit": "QLDT", "due_date": None,
         "reason": "fix", "parent_task": 3},
    ),
    (ev.TaskMoved(**ENVELOPE, move=Move.START, version=2), "task:8", {"version": 2}),
    (
        ev.TaskMoved(**ENVELOPE, move=Move.REASSIGN, version=3, note="Đúng chức năng",
                     from_unit="QLDT", to_unit="DKKD"),
        "task:8",
        {"version": 3, "note": "Đúng chức năng", "from_unit": "QLDT", "to_unit": "DKKD"},
    ),
    (
        ev.TaskMoved(**ENVELOPE, move=Move.SUBMIT, version=4, note="Biên bản",
                     record={"findings": []}, record_hash="ab" * 32, record_revision=2),
        "task:8",
        {"version": 4, "note": "Biên bản", "record": {"findings": []}, "record_hash": "ab" * 32,
         "record_revision": 2},
    ),
    (
        ev.TaskAmended(**ENVELOPE, plan_version=2, version=5,
                       changes={"title": ["Cũ", "Mới"]}),
        "task:8",
        {"plan_version": 2, "version": 5, "changes": {"title": ["Cũ", "Mới"]}},
    ),
    (
        ev.TaskReminded(**ENVELOPE, to_unit="QLDT", due="2024-03-31", days_overdue=3,
                        code="1.2", period="2024Q1"),
        "task:8",
        {"to_unit": "QLDT", "due": "2024-03-31", "days_overdue": 3, "code": "1.2",
         "period": "2024Q1"},
    ),
    (
        ev.DossierReceived(**ENVELOPE, code="SO-TEST-240603-0001", procedure="P1",
                           applicant="Nguyễn Văn A", received_at="2024-06-03T09:00:00+07:00",
                           counted_from="2024-06-04", working_days=3, due="2024-06-06",
                           handling_unit="QLDT"),
        "task:8",
        {"code": "SO-TEST-240603-0001", "procedure": "P1", "applicant": "Nguyễn Văn A",
         "received_at": "2024-06-03T09:00:00+07:00", "counted_from": "2024-06-04",
         "working_days": 3, "due": "2024-06-06", "handling_unit": "QLDT"},
    ),
    (
        ev.DossierDelayDeclared(**ENVELOPE, reason="Chờ ý kiến", days=5, due="2024-06-06"),
        "task:8",
        {"reason": "Chờ ý kiến", "days": 5, "due": "2024-06-06"},
    ),
    (
        ev.ApologyIssued(**ENVELOPE, code="C", letter_sha256="1" * 64, docx_sha256="2" * 64,
                         number="001/PXL-SO-TEST", missed_due="2024-06-06",
                         new_due="2024-06-13", extension=1, working_days=5, version=3,
                         rules="apology-2018", file="C-2024-06-06.html"),
        "task:8",
        {"code": "C", "letter_sha256": "1" * 64, "docx_sha256": "2" * 64,
         "number": "001/PXL-SO-TEST", "missed_due": "2024-06-06", "new_due": "2024-06-13",
         "extension": 1, "working_days": 5, "version": 3, "rules": "apology-2018",
         "file": "C-2024-06-06.html"},
    ),
    (
        ev.DossierEscalated(**ENVELOPE, code="C", missed_extended_due="2024-06-13",
                            working_days_late=2, to="leader", rules="apology-2018"),
        "task:8",
        {"code": "C", "missed_extended_due": "2024-06-13", "working_days_late": 2,
         "to": "leader", "rules": "apology-2018"},
    ),
    (
        ev.OrganisationLoaded(actor="operator:x", role="admin", organisation="SO-TEST",
                              content_hash="3" * 64, source="org.yaml", units=4, people=7,
                              created=True),
        "organisation:SO-TEST",
        {"content_hash": "3" * 64, "source": "org.yaml", "units": 4, "people": 7,
         "created": True},
    ),
    (
        ev.ProceduresLoaded(actor="operator:x", role="admin", organisation="SO-TEST",
                            file_sha256="4" * 64, source="p.yaml", changed=["P1"]),
        "procedures:SO-TEST",
        {"file_sha256": "4" * 64, "source": "p.yaml", "changed": ["P1"]},
    ),
    (
        ev.RulesLoaded(actor="operator:x", role="admin", rules="apology-2018",
                       file_sha256="5" * 64, spec_sha256="6" * 64, source="r.yaml",
                       effective_from="2018-07-01", verified=True),
        "rules:apology-2018",
        {"file_sha256": "5" * 64, "spec_sha256": "6" * 64, "source": "r.yaml",
         "effective_from": "2018-07-01", "verified": True},
    ),
    (
        ev.PlanLoaded(actor="operator:x", role="admin", organisation="SO-TEST", plan_id="p",
                      version=2, file_sha256="7" * 64, spec_sha256="8" * 64, source="p.yaml",
                      task_rows=3, tasks_created=1, rows_added=["4"], rows_removed=[],
                      lead_changes=[]),
        "plan:p@v2",
        {"version": 2, "file_sha256": "7" * 64, "spec_sha256": "8" * 64, "source": "p.yaml",
         "task_rows": 3, "tasks_created": 1, "rows_added": ["4"], "rows_removed": [],
         "lead_changes": []},
    ),
    (
        ev.InspectionDrawn(actor="so-test.an", role="inspector", unit="TTR",
                           organisation="SO-TEST", inspection=5, record={"seed": 1},
                           record_hash="9" * 64, revision=1, supersedes=None, reason=None,
                           tasks={"QLDT": 9}, withdrawn=[]),
        "inspection:5",
        {"record": {"seed": 1}, "record_hash": "9" * 64, "revision": 1, "supersedes": None,
         "reason": None, "tasks": {"QLDT": 9}, "withdrawn": []},
    ),
    (
        ev.InspectionConcluded(actor="flow:inspection", role="system", unit="TTR",
                               organisation="SO-TEST", task_id=9, notice="conclusion:9",
                               number="9/TB-TTR", record_hash="a" * 64, html_hash="b" * 64,
                               docx_hash="c" * 64, path="out/TB.html", fix_tasks=[10]),
        "task:9",
        {"notice": "conclusion:9", "number": "9/TB-TTR", "record_hash": "a" * 64,
         "html_hash": "b" * 64, "docx_hash": "c" * 64, "path": "out/TB.html",
         "fix_tasks": [10]},
    ),
    (
        ev.ReportSnapshotted(actor="flow:aggregate", role="system", organisation="SO-TEST",
                             snapshot=4, hash="d" * 64, period="2024Q2",
                             window={"rule": "calendar"}, revision=1, plans={"p": 2},
                             requested_by="operator:x"),
        "report:4",
        {"hash": "d" * 64, "period": "2024Q2", "window": {"rule": "calendar"}, "revision": 1,
         "plans": {"p": 2}, "requested_by": "operator:x"},
    ),
    (
        ev.DatabaseInitialised(actor="operator:root", role="admin", mode="production",
                               os_user="root"),
        "database",
        {"mode": "production", "os_user": "root"},
    ),
    (
        ev.RoleChanged(actor="so-test.admin", role="admin", organisation="SO-TEST",
                       person="so-test.lan", role_name="leader", granted=True, person_unit="QLDT",
                       before=["staff"], after=["leader", "staff"]),
        "person:so-test.lan",
        {"person": "so-test.lan", "role_name": "leader", "granted": True, "person_unit": "QLDT",
         "before": ["staff"], "after": ["leader", "staff"]},
    ),
    *(
        (
            cls(actor="so-test.admin", role="admin", organisation="SO-TEST",
                person="so-test.lan", **extra),
            "account:so-test.lan",
            {"person": "so-test.lan", **extra},
        )
        for cls, extra in (
            (ev.AccountInvited, {"expires_at": "2024-03-04T09:00:00+07:00"}),
            (ev.AccountActivated, {}),
            (ev.PasswordChanged, {}),
            (ev.AccountDisabled, {"detail": "Nghỉ hưu"}),
            (ev.AccountEnabled, {}),
            (ev.SessionsRevoked, {"detail": "password changed"}),
            (ev.SecondFactorEnabled, {}),
            (ev.AccountLocked, {"expires_at": "2024-03-01T09:15:00+07:00"}),
            (ev.SignedIn, {"credential_id": "session:ab12"}),
            (ev.SignedOut, {"credential_id": "session:ab12"}),
        )
    ),
    (
        ev.TokenCreated(actor="so-test.admin", role="admin", organisation="SO-TEST", token=3,
                        person="so-test.desk", label="Cổng dịch vụ công",
                        permissions=["dossiers:write"], expires_at="2025-03-01T00:00:00Z"),
        "token:3",
        {"person": "so-test.desk", "label": "Cổng dịch vụ công",
         "permissions": ["dossiers:write"], "expires_at": "2025-03-01T00:00:00Z"},
    ),
    (
        ev.TokenRevoked(actor="so-test.admin", role="admin", organisation="SO-TEST", token=3,
                        person="so-test.desk"),
        "token:3",
        {"person": "so-test.desk"},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("event", "subject", "data"), EXAMPLES, ids=lambda x: type(x).__name__)
def test_an_event_is_the_entry_the_log_holds_and_decodes_back(
    event: ev.Event, subject: str, data: dict[str, Any]
) -> None:
    record = event.to_record()
    assert (record.action, record.subject, record.data) == (event.action, subject, data)
    stored = {
        "seq": 1,
        "action": record.action,
        "subject": record.subject,
        **{name: getattr(record, name) for name in ev.ENVELOPE},
        "data": canonical_json(record.data),
    }
    assert ev.decode(stored, json.loads(stored["data"])) == event


def test_every_action_has_one_event_type_and_replay_handles_every_type() -> None:
    assert {type(e) for e, _, _ in EXAMPLES} == set(ev.EVENT_TYPES)
    assert set(replay.HANDLERS) == set(ev.EVENT_TYPES)
    assert set(ev.BY_ACTION) >= {m.value for m in Move}
    assert len(ev.BY_ACTION) == len(ev.EVENT_TYPES) - 1 + len(Move)


def test_an_unknown_action_is_refused_not_skipped() -> None:
    with pytest.raises(ev.UnknownAction):
        ev.decode({"action": "task.teleport", "actor": "x"}, {})
    entries = [
        {"seq": 1, "action": "task.create", "actor": "operator:op", "task_id": 1,
         "to_state": "assigned", "data": canonical_json({"lead_unit": "QLDT"})},
        {"seq": 2, "action": "task.teleport", "actor": "operator:op", "task_id": 1, "data": "{}"},
        {"seq": 3, "action": "report.shred", "actor": "operator:op", "task_id": None,
         "data": "{}"},
    ]  # fmt: skip
    report = replay.check(entries, [{"id": 1, "state": "assigned", "version": 1,
                                     "lead_unit": "QLDT", "submitted_by": None,
                                     "returned_count": 0}])  # fmt: skip
    assert [(p.seq, p.task, p.problem) for p in report.log_problems] == [
        (2, 1, "action 'task.teleport' is not an event this planflow knows"),
        (3, None, "action 'report.shred' is not an event this planflow knows"),
    ]
    assert str(report.log_problems[1]) == (
        "entry 3: action 'report.shred' is not an event this planflow knows"
    )
    assert not report.ok
