"""Dossiers and the apology rules through the services, on SQLite and PostgreSQL.

Dates are June 2024, plain weeks: Mon 3/6 to Fri 7/6, Mon 10/6 to Fri 14/6.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pytest

from workflow.clock import LOCAL_TZ
from workflow.definitions.checks import validate
from workflow.domain.audit_chain import content_hash
from workflow.domain.filters import AuditFilter
from workflow.domain.lifecycle import Move, State
from workflow.errors import ImportProblems, InvalidInput, MoveNotAllowed, PermissionDenied
from workflow.services import Context, apology
from workflow.services import audit_log as audit_service
from workflow.services import dossiers as svc
from workflow.services import plans as plan_service
from workflow.services import tasks as task_service

DEFINITIONS = Path(__file__).resolve().parents[2] / "definitions"
DESK = "lsn.dkkd.be-thi-huong"  # staff of Phòng Đăng ký kinh doanh (handles SKHDT-DN-01)
HEAD = "lsn.dkkd.ly-van-duc"
OFFICE_A, OFFICE_B = "lsn.vp.luong-thi-thu", "lsn.vp.hoang-van-nam"


def at(day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 6, day, hour, minute, tzinfo=LOCAL_TZ)


@pytest.fixture
def loaded(ctx: Context) -> Context:
    found, problems = validate([DEFINITIONS])
    assert problems == []
    plan_service.load(ctx, found)
    ctx.clock.set(at(3, 8))  # type: ignore[attr-defined]
    return ctx


def receive(
    ctx: Context, when: dt.datetime, name: str = "Công ty TNHH Hoa Sen", proc: str = "SKHDT-DN-01"
) -> dict[str, object]:
    if ctx.clock.now() < when:
        ctx.clock.set(when)  # type: ignore[attr-defined]  # the desk receives it as it arrives
    return svc.receive(
        ctx,
        svc.NewDossier(proc, svc.Applicant(name, "12 Lê Lợi, TP Lạng Sơn", "0912 345 678"), when),
        DESK,
    )


def test_receiving_numbers_the_dossier_and_sets_its_due_date(loaded: Context) -> None:
    first = receive(loaded, at(3, 10))  # 3 working days, the day of receipt not counted
    assert (first["code"], first["due_date"], first["lead_unit"]) == (
        "LSN-SKHDT-240603-0001",
        "2024-06-06",
        "DKKD",
    )
    late_in_day = receive(loaded, at(3, 16, 30))  # after the 16:00 cut-off: counts from Tuesday
    assert (late_in_day["code"], late_in_day["due_date"]) == ("LSN-SKHDT-240603-0002", "2024-06-07")
    friday = receive(loaded, at(7, 9))  # skips the weekend
    assert friday["due_date"] == "2024-06-12"
    task = task_service.get_task(loaded, int(first["id"]))  # type: ignore[call-overload]
    assert (task.kind, task.state, task.due_date) == (
        "dossier",
        State.ASSIGNED,
        dt.date(2024, 6, 6),
    )
    history = task_service.history(loaded, task.id)
    assert [h["action"] for h in history] == ["task.create", "dossier.receive"]
    assert history[1]["data"]["counted_from"] == "2024-06-03"


def test_receiving_refuses_bad_input(loaded: Context) -> None:
    with pytest.raises(
        InvalidInput, match="unknown procedure 'SKHDT-DN-1'; did you mean 'SKHDT-DN-01'"
    ):
        receive(loaded, at(3), proc="SKHDT-DN-1")
    with pytest.raises(InvalidInput, match="is in the future"):
        svc.receive(loaded, svc.NewDossier("SKHDT-DN-01", svc.Applicant("X"), at(20)), DESK)
    with pytest.raises(PermissionDenied, match=r"cannot receive dossiers: it needs the staff"):
        svc.receive(
            loaded, svc.NewDossier("SKHDT-DN-01", svc.Applicant("X"), at(3)), "lsn.vp.chu-thi-hanh"
        )


def test_csv_import_is_all_or_nothing_with_line_numbers(loaded: Context, tmp_path: Path) -> None:
    loaded.clock.set(at(3, 17))  # type: ignore[attr-defined]  # imported at the end of the day
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "procedure,applicant,received_at,phone\n"
        "SKHDT-DN-01,Công ty A,2024-06-03 09:00,0912345678\n"
        "SKHDT-DN-1,Công ty B,2024-06-03 09:30,\n"
        "SKHDT-DN-02,,2024-06-03 10:00,\n"
        "SKHDT-DN-02,Công ty D,3/6/2024,\n"
        "SKHDT-DN-02,Công ty E,2024-06-03 10:00,abc\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportProblems) as refused:
        svc.import_csv(loaded, bad, DESK)
    lines = refused.value.problems
    assert lines == [
        f"{bad}:3: unknown procedure 'SKHDT-DN-1'; did you mean 'SKHDT-DN-01'?",
        f"{bad}:4: the applicant's name is empty",
        f"{bad}:5: received_at '3/6/2024' is not a date and time; expected YYYY-MM-DD HH:MM",
        f"{bad}:6: phone 'abc' is not a phone number (digits, spaces, + . - ( ))",
    ]
    assert svc.list_dossiers(loaded) == []
    good = tmp_path / "good.csv"
    good.write_text(
        "procedure,applicant,received_at,email\n"
        "SKHDT-DN-01,Công ty A,2024-06-03 09:00,a@example.vn\n"
        "SKHDT-DT-01,Công ty B,2024-06-03 09:30,\n",
        encoding="utf-8",
    )
    imported = svc.import_csv(loaded, good, DESK)
    assert [(d["code"], d["lead_unit"]) for d in imported] == [
        ("LSN-SKHDT-240603-0001", "DKKD"),
        ("LSN-SKHDT-240603-0002", "QLDTNNS"),
    ]


def test_declaring_a_delay(loaded: Context) -> None:
    dossier = receive(loaded, at(3))
    dossier_id = int(dossier["id"])  # type: ignore[call-overload]
    with pytest.raises(PermissionDenied, match="only the handling unit DKKD"):
        svc.delay(loaded, dossier_id, "Cần xác minh", 2, OFFICE_A)
    with pytest.raises(InvalidInput, match="needs --reason"):
        svc.delay(loaded, dossier_id, " ", 2, HEAD)
    declared = svc.delay(loaded, dossier_id, "Cần xác minh thông tin chủ sở hữu", 2, HEAD)
    assert svc.show_dossier(loaded, dossier_id)["due_date"] == "2024-06-06"  # a letter moves it
    assert (declared["delay_days"], declared["delay_reason"]) == (
        2,
        "Cần xác minh thông tin chủ sở hữu",
    )
    loaded.clock.set(at(6, 9))  # type: ignore[attr-defined]
    with pytest.raises(MoveNotAllowed, match="declared before the due date"):
        svc.delay(loaded, dossier_id, "muộn", 1, HEAD)


def run_apology(ctx: Context, day: int, out: Path) -> apology.BatchResult:
    as_of = dt.date(2024, 6, day)
    ctx.clock.set(at(day, 7))  # type: ignore[attr-defined]
    work = apology.find_work(ctx, as_of)
    letters = apology.process_dossiers(ctx, as_of, work.dossiers, out)
    reminders = apology.process_reminders(ctx, as_of, work.reminders)
    letters.reminders = reminders.reminders
    return letters


def test_one_letter_per_missed_due_date_then_one_escalation(
    loaded: Context, tmp_path: Path
) -> None:
    dossier = receive(loaded, at(3))  # due Thu 6/6
    dossier_id = int(dossier["id"])  # type: ignore[call-overload]
    svc.delay(loaded, dossier_id, "Cần xác minh thông tin chủ sở hữu", 2, HEAD)
    assert run_apology(loaded, 4, tmp_path).letters == []  # Tue: not yet in the 1-day window
    first = run_apology(loaded, 5, tmp_path)  # Wed: due tomorrow, not verified: apologise today
    [letter] = first.letters
    assert (letter["dossier"], letter["missed_due"], letter["new_due"], letter["late"]) == (
        dossier_id,
        "2024-06-06",
        "2024-06-10",
        False,
    )  # 2 declared working days after Thu
    html = Path(letter["path"]).read_text(encoding="utf-8")
    for field in (
        "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ",
        "Mẫu số 04",
        "Công ty TNHH Hoa Sen",
        "LSN-SKHDT-240603-0001",
        "Đăng ký thành lập doanh nghiệp tư nhân",
        "10 giờ 00 phút, ngày 03 tháng 6 năm 2024",
        "06/06/2024",
        "10/06/2024",
        "Cần xác minh thông tin chủ sở hữu",
        "Sở Kế hoạch và Đầu tư tỉnh Lạng Sơn",
        "Lạng Sơn, ngày 05 tháng 6 năm 2024",
        "01/PXL-SKHĐT",
        "UBND TỈNH LẠNG SƠN",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "Hoàng Thị Lan",
    ):
        assert field in html, field
    words = [
        p.text for p in docx.Document(io.BytesIO(Path(letter["docx"]).read_bytes())).paragraphs
    ]
    assert "Thời gian hẹn lại trả kết quả: 10/06/2024" in words
    shown = svc.show_dossier(loaded, dossier_id)
    assert (shown["due_date"], shown["original_due"], shown["extension_count"]) == (
        "2024-06-10",
        "2024-06-06",
        1,
    )
    assert task_service.get_task(loaded, dossier_id).due_date == dt.date(2024, 6, 10)
    [entry] = audit_service.query(loaded, AuditFilter(task_id=dossier_id, action="dossier.apology"))
    assert entry["data"]["letter_sha256"] == content_hash(Path(letter["path"]).read_bytes())
    assert run_apology(loaded, 5, tmp_path).letters == []  # the same day again: nothing new
    assert run_apology(loaded, 7, tmp_path).letters == []  # re-set once: no second letter
    with pytest.raises(MoveNotAllowed, match="re-set once"):
        svc.delay(loaded, dossier_id, "thêm", 1, HEAD)
    assert run_apology(loaded, 10, tmp_path).escalations == []  # due today: not missed yet
    escalated = run_apology(loaded, 11, tmp_path)  # missed the extended date: to leadership
    assert [(e["dossier"], e["missed_due"]) for e in escalated.escalations] == [
        (dossier_id, "2024-06-10")
    ]
    assert svc.show_dossier(loaded, dossier_id)["escalated"] is True
    assert run_apology(loaded, 12, tmp_path).escalations == []  # once only
    assert audit_service.verify(loaded).ok


def test_an_already_late_dossier_gets_its_date_from_today(loaded: Context, tmp_path: Path) -> None:
    dossier = receive(loaded, at(3))  # due Thu 6/6
    loaded.clock.set(at(4, 9))  # type: ignore[attr-defined]
    svc.delay(loaded, int(dossier["id"]), "Chờ ý kiến cơ quan thuế", 3, HEAD)  # type: ignore[call-overload]
    [letter] = run_apology(loaded, 12, tmp_path).letters  # the flow first runs on Wed 12/6
    assert (letter["dossier"], letter["missed_due"], letter["late"]) == (
        dossier["id"],
        "2024-06-06",
        True,
    )
    assert letter["new_due"] == "2024-06-17"  # the 3 declared working days, counted from today


def test_a_letter_needs_the_reason_the_unit_declared(loaded: Context, tmp_path: Path) -> None:
    dossier_id = int(receive(loaded, at(3))["id"])  # type: ignore[call-overload]  # due 6/6
    refused = run_apology(loaded, 5, tmp_path)  # due tomorrow, and no delay declared
    assert refused.letters == []
    [problem] = refused.refused
    assert (problem["dossier"], problem["due"], problem["unit"]) == (
        dossier_id,
        "2024-06-06",
        "DKKD",
    )
    assert problem["problem"] == (
        f"dossier {dossier_id} (LSN-SKHDT-240603-0001): no apology letter without the reason "
        "for the delay; the handling unit DKKD declares it with "
        f"`planflow dossiers delay {dossier_id} --reason TEXT --days N`"
    )
    assert audit_service.query(loaded, AuditFilter(action="dossier.apology")) == []
    assert not (tmp_path / "letters").exists()  # nothing written, no number taken
    loaded.clock.set(at(5, 9))  # type: ignore[attr-defined]
    svc.delay(loaded, dossier_id, "Chờ kết quả xác minh của Công an tỉnh", 2, HEAD)
    as_of = dt.date(2024, 6, 5)  # the same day, later: the flow runs again
    again = apology.process_dossiers(
        loaded, as_of, apology.find_work(loaded, as_of).dossiers, tmp_path
    )
    [letter] = again.letters
    assert letter["number"] == "01/PXL-SKHĐT"  # the first of the year: nothing was skipped
    html = Path(letter["path"]).read_text(encoding="utf-8")
    assert "Chờ kết quả xác minh của Công an tỉnh" in html
    assert "chưa được giải quyết xong trong thời hạn quy định" not in html


def test_a_verified_dossier_needs_no_letter(loaded: Context, tmp_path: Path) -> None:
    dossier_id = int(receive(loaded, at(3))["id"])  # type: ignore[call-overload]
    task_service.move(loaded, dossier_id, Move.START, DESK)
    task_service.move(loaded, dossier_id, Move.SUBMIT, DESK, note="Dự thảo giấy chứng nhận")
    task_service.move(loaded, dossier_id, Move.VERIFY, OFFICE_B)
    assert run_apology(loaded, 5, tmp_path).letters == []
    assert run_apology(loaded, 12, tmp_path).letters == []


def test_overdue_plan_tasks_get_one_reminder_per_due_date(loaded: Context, tmp_path: Path) -> None:
    first = run_apology(loaded, 5, tmp_path).reminders
    overdue = {(r["plan"], r["code"]) for r in first}
    assert ("qna-bqlkkt-papi-2023", "1.1") in overdue  # due 31/12/2023, still assigned
    assert ("lsn-skhdt-papi-2024", "III.2") not in overdue  # the H1 report is due 30/6/2024
    assert all(r["days_overdue"] > 0 for r in first)
    assert run_apology(loaded, 5, tmp_path).reminders == []
    assert run_apology(loaded, 6, tmp_path).reminders == []  # once per task and due date
    loaded.clock.set(dt.datetime(2024, 7, 2, 7, tzinfo=LOCAL_TZ))  # type: ignore[attr-defined]
    as_of = dt.date(2024, 7, 2)
    work = apology.find_work(loaded, as_of)
    later = apology.process_reminders(loaded, as_of, work.reminders).reminders
    assert {(r["code"], r["period"]) for r in later} == {("III.2", "2024H1")}


def test_no_rules_in_force_is_a_clear_error(ctx: Context, agency: object) -> None:
    with pytest.raises(InvalidInput, match="no apology rules are in force on 2024-06-05"):
        apology.find_work(ctx, dt.date(2024, 6, 5))


def test_rule_sets_follow_the_effective_date(loaded: Context) -> None:
    rules = apology.load_rules(loaded)
    from workflow.domain.apology import rules_in_force

    assert rules_in_force(rules, dt.date(2024, 6, 5)).id == "nd61-2018"  # type: ignore[union-attr]
    newer = rules_in_force(rules, dt.date(2025, 7, 1))
    assert newer is not None and newer.id == "nd118-2025" and newer.verified is False
    assert rules_in_force(rules, dt.date(2018, 1, 1)) is None
