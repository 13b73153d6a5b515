"""The one-stop desk (bộ phận một cửa), for people with `dossiers:write` (staff, unit heads,
the office): receive a dossier, seeing first the due date the working-day calendar gives it
and the days it skips ("Xem hạn": htmx swaps the preview in; without JavaScript the same
button posts the form and the page comes back with it); import a CSV of dossiers; declare a
delay; the organisation's dossiers; the apology letters issued, downloaded as stored.

The same services as `planflow dossiers receive|import|delay` and the API's dossiers router;
the calendar's computation is `services.calendar`'s, the one a receipt uses. No rule here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from workflow.domain.access import Permission
from workflow.errors import (
    ImportProblems,
    InvalidInput,
    MoveNotAllowed,
    NotFound,
    PermissionDenied,
    PlanflowError,
)
from workflow.services import desk_pages, documents
from workflow.services import dossiers as service
from workflow.services.dossier_input import MAX_IMPORT_BYTES
from workflow.web.pages import words
from workflow.web.pages.base import (
    Person,
    csrf_ok,
    here,
    message_page,
    person_or_redirect,
    read_form,
    redirect,
    render,
)
from workflow.web.pages.uploads import multipart, safe_name
from workflow.web.routers.dossiers import readable_dossier

router = APIRouter(include_in_schema=False)
DESK = "/desk"
FIELDS = ("procedure", "applicant", "address", "phone", "email")
LIMITS = {"procedure": 60, "applicant": 500, "address": 1000, "phone": 40, "email": 200}
MEDIA = {
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
# A dossier is a task: its states, in the desk's words.
DOSSIER_STATES = {
    "assigned": "Đã tiếp nhận, chuyển đơn vị giải quyết",
    "in_progress": "Đang giải quyết",
    "submitted": "Đã có kết quả, chờ duyệt",
    "verified": "Đã duyệt, chờ trả kết quả",
    "closed": "Đã trả kết quả",
}
STALE_FORM = "Biểu mẫu đã cũ hoặc không đến từ trang này: hãy tải lại trang rồi thử lại."


def _allowed(person: Person) -> bool:
    """Whether the person works at the desk of their organisation (`dossiers:write`)."""
    try:
        person.who.access.require(Permission.DOSSIERS_WRITE, person.who.access.actor.organisation)
    except PermissionDenied:
        return False
    return True


def _gate(request: Request, back: str) -> Person | Response:
    found = person_or_redirect(request, back)
    if isinstance(found, Person) and not _allowed(found):
        return denied(request, found)
    return found


def denied(request: Request, person: Person) -> Response:
    return message_page(
        request,
        person,
        403,
        "Không có quyền dùng bộ phận một cửa",
        "Chỉ chuyên viên, trưởng phòng và văn phòng tiếp nhận hồ sơ thủ tục hành chính.",
    )


def _stale(request: Request, person: Person) -> Response:
    return message_page(request, person, 403, "Không thực hiện được", STALE_FORM)


def _desk(
    request: Request,
    person: Person,
    *,
    typed: dict[str, str] | None = None,
    preview: desk_pages.DuePreview | None = None,
    preview_error: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    problems: list[str] | None = None,
    delay_error: tuple[int, str] | None = None,
) -> Response:
    ctx, org = person.ctx, person.who.access.actor.organisation
    procedures = desk_pages.procedures(ctx, org)
    return render(
        request,
        "desk.html",
        person,
        procedures=procedures,
        names={p["code"]: p["name"] for p in procedures},
        dossiers=desk_pages.recent_dossiers(ctx, org),
        letters=desk_pages.letters(ctx, org),
        typed=typed or dict.fromkeys(FIELDS, ""),
        preview=preview,
        preview_error=preview_error,
        notice=notice,
        error=error,
        problems=problems or [],
        delay_error=delay_error,
        now=ctx.clock.now(),
        max_delay=service.MAX_DELAY_DAYS,
        states=DOSSIER_STATES,
        day=iso_day,
    )


def iso_day(value: str | None) -> str:
    """An ISO date as the pages show dates, dd/mm/yyyy."""
    if not value:
        return ""
    try:
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


@router.get(DESK)
def desk(request: Request) -> Response:
    found = _gate(request, here(request))
    if not isinstance(found, Person):
        return found
    return _desk(request, found, notice=_done(request, found))


def _done(request: Request, person: Person) -> str | None:
    """What the page says after a redirect: a receipt, an import, a delay."""
    query = request.query_params
    raw = query.get("received", "")
    if raw.isdigit():
        try:
            got = readable_dossier(person.who, int(raw))
        except NotFound:
            return None
        due = dt.date.fromisoformat(got["due_date"]).strftime("%d/%m/%Y")
        return f"Đã tiếp nhận hồ sơ {got['code']}: hẹn trả kết quả ngày {due}."
    if query.get("imported", "").isdigit():
        return f"Đã tiếp nhận {int(query['imported'])} hồ sơ từ tệp."
    if query.get("delayed", "").isdigit():
        return "Đã khai báo trễ hạn: lý do sẽ được ghi trên phiếu xin lỗi."
    return None


def _typed(form: dict[str, str]) -> dict[str, str]:
    return {name: form.get(name, "").strip()[: LIMITS[name]] for name in FIELDS}


def _missing(typed: dict[str, str], known: set[str]) -> str | None:
    """The desk's own first checks, in words (the service checks the rest)."""
    if not typed["procedure"]:
        return "Hãy chọn thủ tục hành chính của hồ sơ."
    if typed["procedure"] not in known:
        return "Thủ tục đã chọn không thuộc danh mục của cơ quan: hãy chọn lại trong danh sách."
    if not typed["applicant"]:
        return "Hãy nhập tên người nộp hồ sơ (cá nhân hoặc tổ chức)."
    return None


@router.post(f"{DESK}/preview")
async def preview(request: Request) -> Response:
    form = await read_form(request)
    found = await run_in_threadpool(_gate, request, DESK)
    if not isinstance(found, Person):
        return found
    if not csrf_ok(found, form):
        return _stale(request, found)
    return await run_in_threadpool(_preview, request, found, _typed(form))


def _preview(request: Request, person: Person, typed: dict[str, str]) -> Response:
    org = person.who.access.actor.organisation
    known = {p["code"] for p in desk_pages.procedures(person.ctx, org)}
    problem = _missing(typed, known)
    if problem is not None and typed["procedure"] not in known:
        # Said inside the preview: the part "Xem hạn" swaps in when htmx posts it.
        return _desk(request, person, typed=typed, preview_error=problem)
    shown = desk_pages.preview_due(person.ctx, org, typed["procedure"], person.ctx.clock.now())
    return _desk(request, person, typed=typed, preview=shown)


@router.post(f"{DESK}/receive")
async def receive(request: Request) -> Response:
    form = await read_form(request)
    found = await run_in_threadpool(_gate, request, DESK)
    if not isinstance(found, Person):
        return found
    if not csrf_ok(found, form):
        return _stale(request, found)
    return await run_in_threadpool(_receive, request, found, _typed(form))


def _receive(request: Request, person: Person, typed: dict[str, str]) -> Response:
    org = person.who.access.actor.organisation
    known = {p["code"] for p in desk_pages.procedures(person.ctx, org)}
    problem = _missing(typed, known)
    if problem is not None:
        return _desk(request, person, typed=typed, error=problem)
    new = service.NewDossier(
        typed["procedure"],
        service.Applicant(
            typed["applicant"],
            typed["address"] or None,
            typed["phone"] or None,
            typed["email"] or None,
        ),
        person.ctx.clock.now(),
    )
    try:
        view = service.receive(person.ctx, new, person.who.person)
    except PlanflowError as exc:
        shown = desk_pages.preview_due(person.ctx, org, typed["procedure"], person.ctx.clock.now())
        return _desk(request, person, typed=typed, preview=shown, error=words.error(exc))
    return redirect(f"{DESK}?received={view['id']}#dossiers")


@router.post(f"{DESK}/import")
async def import_file(request: Request) -> Response:
    found = await run_in_threadpool(_gate, request, DESK)
    if not isinstance(found, Person):
        return found
    body = await request.body()
    parts = multipart(body, request.headers.get("content-type", ""), "upload.csv")
    if not csrf_ok(found, {"csrf": parts.get("csrf", (b"", ""))[0].decode("utf-8", "replace")}):
        return _stale(request, found)
    upload = parts.get("file")
    if upload is None or not upload[0]:
        return await run_in_threadpool(
            lambda: _desk(request, found, error="Hãy chọn tệp CSV hồ sơ cần nhập.")
        )
    if len(upload[0]) > MAX_IMPORT_BYTES:
        return await run_in_threadpool(
            lambda: _desk(request, found, error="Tệp quá lớn: tối đa 50 MB mỗi lần nhập.")
        )
    return await run_in_threadpool(_import, request, found, upload[0], upload[1])


def _import(request: Request, person: Person, data: bytes, name: str) -> Response:
    try:
        rows = service.import_csv_bytes(person.ctx, data, name, person.who.person)
    except ImportProblems as exc:
        return _desk(
            request,
            person,
            error="Tệp có dòng chưa hợp lệ: chưa hồ sơ nào được tiếp nhận. Hãy sửa các dòng "
            "dưới đây rồi nhập lại.",
            problems=list(exc.problems),
        )
    except PlanflowError as exc:
        return _desk(request, person, error=words.error(exc))
    return redirect(f"{DESK}?imported={len(rows)}#dossiers")


@router.post(DESK + "/dossiers/{dossier_id}/delay")
async def delay(request: Request, dossier_id: str) -> Response:
    form = await read_form(request)
    found = await run_in_threadpool(_gate, request, DESK)
    if not isinstance(found, Person):
        return found
    if not csrf_ok(found, form):
        return _stale(request, found)
    return await run_in_threadpool(_delay, request, found, dossier_id, form)


def _delay(request: Request, person: Person, raw_id: str, form: dict[str, str]) -> Response:
    number = int(raw_id) if raw_id.isdigit() and 0 < int(raw_id) < 2**62 else None
    if number is None:
        return _not_found(request, person)
    try:
        dossier = readable_dossier(person.who, number)
    except NotFound:
        return _not_found(request, person)
    if dossier["organisation"] != person.who.access.actor.organisation:
        return _not_found(request, person)  # read (an overseer), not theirs to delay
    reason = form.get("reason", "").strip()[:2000]
    raw_days = form.get("days", "").strip()
    if not reason:
        return _desk(request, person, delay_error=(number, "Hãy nhập lý do hồ sơ bị trễ hạn."))
    if not raw_days.isdigit() or not 1 <= int(raw_days) <= service.MAX_DELAY_DAYS:
        why = f"Số ngày làm việc cần thêm phải từ 1 đến {service.MAX_DELAY_DAYS}."
        return _desk(request, person, delay_error=(number, why))
    try:
        service.delay(person.ctx, number, reason, int(raw_days), person.who.person)
    except PlanflowError as exc:
        return _desk(request, person, delay_error=(number, _delay_refusal(exc, dossier)))
    return redirect(f"{DESK}?delayed={number}#dossier-{number}")


def _delay_refusal(exc: PlanflowError, dossier: dict[str, Any]) -> str:
    text = str(exc)
    if isinstance(exc, PermissionDenied):
        return f"Chỉ đơn vị giải quyết hồ sơ ({dossier['lead_unit']}) mới khai báo trễ hạn."
    if isinstance(exc, MoveNotAllowed):
        if "once" in text:
            return "Hạn trả của hồ sơ đã được gia hạn một lần: pháp luật chỉ cho phép một lần."
        if "before the due" in text:
            return "Chỉ khai báo trễ hạn trước ngày hẹn trả kết quả."
        return "Hồ sơ đã giải quyết xong: không còn gì để khai báo trễ hạn."
    if isinstance(exc, InvalidInput):
        return words.error(exc)
    return words.error(exc)


@router.get(DESK + "/letters/{letter_id}")
def letter(request: Request, letter_id: str) -> Response:
    found = _gate(request, here(request))
    if not isinstance(found, Person):
        return found
    number = int(letter_id) if letter_id.isdigit() and 0 < int(letter_id) < 2**62 else None
    org = found.who.access.actor.organisation
    doc = desk_pages.letter_file(found.ctx, org, number) if number is not None else None
    if doc is None:
        return message_page(
            request,
            found,
            404,
            "Không tìm thấy phiếu",
            "Phiếu xin lỗi không tồn tại, hoặc bạn không có quyền xem.",
        )
    name = safe_name(doc.path.rsplit("/", 1)[-1], f"thu-xin-loi-{number}")
    kind = name.rsplit(".", 1)[-1].lower()
    content = doc.content
    if request.query_params.get("format") == "pdf" and kind == "html":  # made on demand
        content = documents.letter_pdf(found.ctx, org, doc.id) or b""
        name, kind = name.rsplit(".", 1)[0] + ".pdf", "pdf"
    return Response(
        content,
        media_type=MEDIA.get(kind, "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _not_found(request: Request, person: Person) -> Response:
    return message_page(
        request,
        person,
        404,
        "Không tìm thấy hồ sơ",
        "Hồ sơ không tồn tại, hoặc bạn không có quyền xem.",
    )
