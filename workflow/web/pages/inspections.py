"""The inspection pages: the draws (and those a redraw superseded), a period's population
before a draw and the draw's re-derivation after it, the record form (Biên bản kiểm tra) of
an inspection task, the conclusion notices to download, and the office's redraw.

The same services as the API's router (`web/routers/inspections.py`): a draw is
`inspections.draw` on the server's clock with a seed nobody chooses, followed, as the API and
`flows inspect` do, by the conclusion of every verified record of the agency; a record is
`inspection_records.submit_record` on the version the page showed. Who may do what is the
services' and the access rules' to say; a refusal is said here in Vietnamese.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from workflow.clock import today_local
from workflow.documents.vietnamese import period_label
from workflow.domain.access import Permission
from workflow.domain.periods import parse_period
from workflow.domain.roles import Role
from workflow.errors import (
    Conflict,
    InvalidInput,
    MoveNotAllowed,
    NotFound,
    OtherAgency,
    PermissionDenied,
    PlanflowError,
    RecordInvalid,
)
from workflow.services import flow_runs
from workflow.services import inspection_pages as pages
from workflow.services import inspection_records as records
from workflow.services import inspections as service
from workflow.web.pages import words
from workflow.web.pages.base import (
    MAX_FORM_BYTES,
    Person,
    csrf_ok,
    here,
    message_page,
    person_or_redirect,
    redirect,
    render,
)
from workflow.web.routers import fence

router = APIRouter(include_in_schema=False)
HOME = "/inspections"
CONCLUDE_BATCH = 50  # as the API and the flow: a short transaction per batch
MAX_FIELDS = 1000  # a record form has five fields per checklist task
KINDS = {"year": "năm", "half": "nửa năm", "quarter": "quý"}
OUTLOOKS = {
    pages.SURE: "Được chọn (dù bốc thăm thế nào)",
    pages.DRAWN: "Do bốc thăm quyết định khi xác nhận",
    pages.OUT: "Không được chọn",
}
NEEDS_FIX = "Nhiệm vụ chưa đạt phải có nội dung khắc phục, kèm thời hạn khắc phục."
UNREMEDIED = re.compile(r"task (\d+) is not compliant but no fix names it")
DONE = {
    "drawn": "Đã bốc thăm đơn vị kiểm tra; nhiệm vụ kiểm tra đã được giao cho đoàn kiểm tra.",
    "existing": "Kỳ này đã bốc thăm: đây là kết quả đã lưu (không bốc thăm lại).",
    "redrawn": "Đã bốc thăm lại; lần bốc thăm trước được giữ lại và ghi rõ là đã bị thay thế.",
    "concluded": "Đã ban hành thông báo kết luận kiểm tra và giao nhiệm vụ khắc phục cho đơn vị.",
    "record": "Đã nộp biên bản kiểm tra; nhiệm vụ chờ văn phòng xác nhận.",
}


# ----------------------------------------------------------------------------- helpers


async def _form(request: Request) -> dict[str, str]:
    """The posted fields (the base's reader caps a form at 50 fields; a record has five per
    checklist task)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    try:
        return dict(
            parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
        )
    except (UnicodeDecodeError, ValueError):
        return {}


def _denied(request: Request, person: Person) -> Response:
    """A person whose roles do not read inspections."""
    return message_page(
        request, person, 403, "Không có quyền xem", "Vai trò của bạn không xem việc kiểm tra."
    )


def _not_found(request: Request, person: Person) -> Response:
    return message_page(
        request,
        person,
        404,
        "Không tìm thấy",
        "Đợt kiểm tra hoặc nhiệm vụ kiểm tra không tồn tại, hoặc bạn không có quyền xem.",
    )


def _stale_form(request: Request, person: Person) -> Response:
    return message_page(
        request,
        person,
        403,
        "Không thực hiện được",
        "Biểu mẫu đã cũ hoặc không đến từ trang này: hãy tải lại trang rồi thử lại.",
    )


def _refusal(exc: PlanflowError, *, drawing: bool = False) -> str:
    """A draw's, a redraw's or a record's refusal in Vietnamese (`drawing`: a role that
    writes no inspection at all was asking for a draw)."""
    text = str(exc)
    if isinstance(exc, PermissionDenied):
        if "redraw needs" in text:
            return "Chỉ văn phòng mới được bốc thăm lại."
        if "draw needs the inspector role" in text:
            return "Chỉ thanh tra viên mới được bốc thăm đơn vị kiểm tra."
        if "submitted by an inspector" in text:
            return "Chỉ thanh tra viên mới được nộp biên bản kiểm tra."
        if drawing:
            return "Chỉ thanh tra viên mới được bốc thăm đơn vị kiểm tra."
        return "Bạn không có quyền thực hiện thao tác này."
    if isinstance(exc, MoveNotAllowed) and "cannot redraw" in text:
        return (
            "Không bốc thăm lại được: đã có biên bản kiểm tra được nộp cho một đơn vị của lần "
            "bốc thăm này."
        )
    if isinstance(exc, InvalidInput):
        if "inspects every" in text or "is not a year" in text:
            return "Kỳ kiểm tra không hợp lệ: hãy chọn một kỳ trong danh sách."
        if "no `inspection:` section" in text:
            return "Tệp tổ chức của cơ quan chưa có mục kiểm tra (inspection): chưa bốc thăm được."
        if "redraw needs" in text:
            return "Hãy ghi lý do bốc thăm lại."
    return words.error(exc)


def _status(exc: PlanflowError) -> int:
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, (NotFound, OtherAgency)):
        return 404
    if isinstance(exc, (Conflict, MoveNotAllowed)):
        return 409
    return 400


def periods_around(current: str, before: int = 4, after: int = 1) -> list[str]:
    """The periods of `current`'s kind offered to draw: a few past ones, this one, the next."""
    now = parse_period(current)
    keys = []
    for year in range(now.year - 2, now.year + 2):
        if now.granularity == "year":
            keys.append(str(year))
        elif now.granularity == "half":
            keys += [f"{year}H1", f"{year}H2"]
        else:
            keys += [f"{year}Q{q}" for q in range(1, 5)]
    at = keys.index(now.key)
    return keys[max(0, at - before) : at + after + 1]


def why(ranked: dict[str, Any], count: int) -> str:
    """Why a unit was (not) chosen, in Vietnamese, from the re-derived ranking's facts."""
    rank = ranked["rank"]
    parts = [
        f"Được chọn: xếp thứ {rank} trong {count} đơn vị cần chọn"
        if ranked["chosen"]
        else f"Không được chọn: xếp thứ {rank}, chỉ cần {count} đơn vị"
    ]
    since = ranked["periods_since_inspection"]
    if since is None:
        parts.append("chưa từng được kiểm tra")
    elif since == 0:
        parts.append(f"đã được kiểm tra trong kỳ này ({ranked['last_inspected']})")
    else:
        parts.append(f"{since} kỳ chưa được kiểm tra (lần gần nhất: {ranked['last_inspected']})")
    parts.append(
        f"mức rủi ro {ranked['risk']} ({ranked['overdue_tasks']} nhiệm vụ quá hạn, "
        f"{ranked['returned_submissions']} lần bị trả lại, {ranked['late_dossiers']} hồ sơ "
        "trễ hạn)"
    )
    if ranked["tied_with"]:
        parts.append(
            f"bằng điểm với {ranked['tied_with']} đơn vị khác; thứ tự giữa các đơn vị này do "
            "bốc thăm theo hạt giống"
        )
    return "; ".join(parts) + "."


def state_name(value: str) -> str:
    known = {s.value: name for s, name in words.STATES.items()}
    return known.get(value, "Đã rút" if value == "withdrawn" else value)


def _label(key: str) -> str:
    try:
        return period_label(key)
    except ValueError:
        return key


# ----------------------------------------------------------------------------- the list


@router.get(HOME)
def overview(request: Request) -> Response:
    found = person_or_redirect(request, here(request))
    if not isinstance(found, Person):
        return found
    today = today_local(found.ctx.clock)
    try:
        seen = pages.overview(found.ctx, found.who.access, today)
    except PermissionDenied:
        return _denied(request, found)
    # Only whom the draw service accepts is offered the form (it still refuses anyone else).
    can_draw = seen.current is not None and found.has(Role.INSPECTOR)
    return render(
        request,
        "inspections.html",
        found,
        seen=seen,
        can_draw=can_draw,
        periods=periods_around(seen.current) if seen.current else [],
        kind=KINDS.get(seen.every or "", ""),
        label=_label,
    )


# ----------------------------------------------------------------------------- the draw


@router.get(f"{HOME}/draw")
def draw_preview(request: Request) -> Response:
    found = person_or_redirect(request, here(request))
    if not isinstance(found, Person):
        return found
    period = request.query_params.get("period", "").strip()[:10]
    try:
        seen = pages.preview(found.ctx, found.who.access, period)
    except PlanflowError as exc:
        why_not = _refusal(exc, drawing=True)
        return message_page(request, found, _status(exc), "Không bốc thăm được", why_not)
    if seen.existing is not None:
        return redirect(f"{HOME}/{seen.existing}?done=existing")
    return render(
        request,
        "inspection_draw.html",
        found,
        seen=seen,
        label=_label(seen.period),
        outlooks=OUTLOOKS,
    )


@router.post(f"{HOME}/draw")
async def draw(request: Request) -> Response:
    form = await _form(request)
    found = await run_in_threadpool(person_or_redirect, request, HOME)
    if not isinstance(found, Person):
        return found
    if not csrf_ok(found, form):
        return _stale_form(request, found)
    period = form.get("period", "").strip()[:10]
    return await run_in_threadpool(_draw, request, found, period, None, None)


@router.post(HOME + "/{inspection_id}/redraw")
async def redraw(request: Request, inspection_id: str) -> Response:
    form = await _form(request)
    number = _number(inspection_id)
    found = await run_in_threadpool(person_or_redirect, request, f"{HOME}/{number or ''}")
    if not isinstance(found, Person):
        return found
    if number is None:
        return _not_found(request, found)
    if not csrf_ok(found, form):
        return _stale_form(request, found)
    reason = form.get("reason", "").strip()[:1000]
    return await run_in_threadpool(_redraw, request, found, number, reason)


def _redraw(request: Request, person: Person, number: int, reason: str) -> Response:
    try:
        row = pages.readable_draw(person.ctx, person.who.access, number)
    except PlanflowError:
        return _not_found(request, person)
    if not reason:
        return _draw_page(request, person, number, error="Hãy ghi lý do bốc thăm lại.")
    return _draw(request, person, row["period"], reason, number)


def _draw(
    request: Request, person: Person, period: str, reason: str | None, page: int | None
) -> Response:
    """What the API's draw does: every refusal first, then the draw (or the stored one),
    then the conclusion of every verified record of the agency."""
    who = person.who
    ctx = who.ctx
    try:
        org = fence.own_organisation(who, Permission.INSPECTIONS_WRITE, None)
        service.preflight(ctx, org, period, who.person, redraw_reason=reason)
        folder = fence.output_folder(request, "inspections")
        flow_runs.record(ctx, "inspection", org, today_local(ctx.clock))
        drawn = service.draw(ctx, org, period, who.person, redraw_reason=reason)
        pending = records.pending_conclusions(ctx, org)
        concluded = 0
        for start in range(0, len(pending), CONCLUDE_BATCH):
            concluded += len(records.conclude(ctx, pending[start : start + CONCLUDE_BATCH], folder))
    except PlanflowError as exc:
        if page is not None and not isinstance(exc, PermissionDenied):
            return _draw_page(request, person, page, error=_refusal(exc))
        why_not = _refusal(exc, drawing=reason is None)
        return message_page(request, person, _status(exc), "Không bốc thăm được", why_not)
    done = "redrawn" if reason else "drawn" if not drawn.existing else "existing"
    if drawn.existing and concluded:
        done = "concluded"
    return redirect(f"{HOME}/{drawn.inspection}?done={done}")


@router.get(HOME + "/{inspection_id}")
def draw_page(request: Request, inspection_id: str) -> Response:
    found = person_or_redirect(request, here(request))
    if not isinstance(found, Person):
        return found
    number = _number(inspection_id)
    if number is None:
        return _not_found(request, found)
    done = request.query_params.get("done", "")
    return _draw_page(request, found, number, notice=DONE.get(done))


def _draw_page(
    request: Request,
    person: Person,
    number: int,
    *,
    notice: str | None = None,
    error: str | None = None,
) -> Response:
    try:
        seen = pages.draw_page(person.ctx, person.who.access, number)
    except PermissionDenied:
        return _denied(request, person)
    except NotFound:
        return _not_found(request, person)
    writes = Permission.INSPECTIONS_WRITE in person.who.access.permissions
    own = seen.draw["organisation"] == person.who.access.actor.organisation
    return render(
        request,
        "inspection.html",
        person,
        seen=seen,
        d=seen.draw,
        label=_label(seen.draw["period"]),
        may_act=writes and own,
        why=why,
        state_name=state_name,
        notice=notice,
        error=error,
    )


# ----------------------------------------------------------------------------- the record


@router.get(HOME + "/tasks/{task_id}/record")
def record_page(request: Request, task_id: str) -> Response:
    found = person_or_redirect(request, here(request))
    if not isinstance(found, Person):
        return found
    number = _number(task_id)
    if number is None:
        return _not_found(request, found)
    return _record_page(request, found, number, {}, {}, None)


def _record_page(
    request: Request,
    person: Person,
    task_id: int,
    typed: dict[str, str],
    problems: dict[str, str],
    error: str | None,
) -> Response:
    try:
        form = pages.record_form(person.ctx, person.who.access, task_id)
    except PermissionDenied:
        return _denied(request, person)
    except NotFound:
        return _not_found(request, person)
    today = today_local(person.ctx.clock)
    return render(
        request,
        "inspection_record.html",
        person,
        form=form,
        typed=typed,
        problems=problems,
        error=error,
        default_day=today.isoformat(),
        state_name=state_name,
        label=_label(form.task.period or ""),
    )


@router.post(HOME + "/tasks/{task_id}/record")
async def record_submit(request: Request, task_id: str) -> Response:
    form = await _form(request)
    number = _number(task_id)
    back = f"{HOME}/tasks/{number or ''}/record"
    found = await run_in_threadpool(person_or_redirect, request, back)
    if not isinstance(found, Person):
        return found
    if number is None:
        return _not_found(request, found)
    if not csrf_ok(found, form):
        return _stale_form(request, found)
    return await run_in_threadpool(_submit, request, found, number, form)


def _submit(request: Request, person: Person, task_id: int, form: dict[str, str]) -> Response:
    try:
        shown = pages.record_form(person.ctx, person.who.access, task_id)
        person.who.access.require(Permission.INSPECTIONS_WRITE, shown.task.organisation)
    except NotFound:
        return _not_found(request, person)
    except PermissionDenied as exc:
        return message_page(request, person, 403, "Không nộp được biên bản", _refusal(exc))
    raw, fix_tasks = record_of(form, [item.task for item in shown.checklist])
    version = form.get("version", "")
    try:
        records.submit_record(
            person.ctx,
            task_id,
            person.who.person,
            raw,
            expected_version=int(version) if version.isdigit() else -1,
        )
    except RecordInvalid as exc:
        checklist = [item.task for item in shown.checklist]
        problems, general = placed(exc.problems, checklist, fix_tasks)
        error = general or "Biên bản chưa đầy đủ: xem các ô được đánh dấu bên dưới."
        return _record_page(request, person, task_id, form, problems, error)
    except Conflict:
        stale = (
            "Nhiệm vụ kiểm tra đã được người khác thay đổi trong lúc bạn điền biên bản: biên "
            "bản chưa được nộp. Hãy xem trạng thái mới nhất rồi nộp lại."
        )
        return _record_page(request, person, task_id, form, {}, stale)
    except PermissionDenied as exc:
        return message_page(request, person, 403, "Không nộp được biên bản", _refusal(exc))
    except PlanflowError as exc:
        why_not = _refusal(exc)
        if isinstance(exc, MoveNotAllowed):
            why_not = (
                "Trạng thái hiện tại của nhiệm vụ kiểm tra không cho nộp biên bản (nhiệm vụ "
                "phải đang thực hiện: bấm «Bắt đầu thực hiện» ở trang nhiệm vụ)."
            )
        return _record_page(request, person, task_id, form, {}, why_not)
    return redirect(f"{HOME}/{shown.inspection}?done=record")


def record_of(form: dict[str, str], checklist: list[int]) -> tuple[dict[str, Any], list[int]]:
    """The record a form says, as the template's YAML would (the service checks it), and
    the checklist task each of its fixes names, in order."""
    findings = []
    fixes = []
    fix_tasks = []
    for task in checklist:
        said = form.get(f"c{task}", "")
        compliant = True if said == "1" else False if said == "0" else None
        findings.append({"task": task, "compliant": compliant, "note": form.get(f"n{task}", "")})
        title, due = form.get(f"ft{task}", "").strip(), form.get(f"fd{task}", "").strip()
        if title or due:
            fixes.append({"title": title, "due": due or None, "task": task})
            fix_tasks.append(task)
    raw: dict[str, Any] = {
        "findings": findings,
        "strengths": _lines(form.get("strengths", "")),
        "shortcomings": _lines(form.get("shortcomings", "")),
        "fixes": fixes,
    }
    day = form.get("inspected_on", "").strip()
    if day:
        raw["inspected_on"] = day
    return raw, fix_tasks


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def placed(
    problems: list[tuple[tuple[str | int, ...], str]], checklist: list[int], fix_tasks: list[int]
) -> tuple[dict[str, str], str | None]:
    """Each problem of a refused record next to its field (the form's field name), in
    Vietnamese; what belongs to no field, as one line."""
    out: dict[str, str] = {}
    general: str | None = None
    for loc, said in problems:
        unremedied = UNREMEDIED.match(said)
        if unremedied is not None and int(unremedied.group(1)) in checklist:
            # Placed by the finding's task: the service counts these among the findings it read.
            out.setdefault(f"ft{unremedied.group(1)}", NEEDS_FIX)
            continue
        field, text = _field(loc, checklist, fix_tasks)
        if field is None:
            general = general or text
        else:
            out.setdefault(field, text)
    return out, general


def _field(
    loc: tuple[str | int, ...], checklist: list[int], fix_tasks: list[int]
) -> tuple[str | None, str]:
    head = loc[0] if loc else ""
    if head == "inspected_on":
        return "inspected_on", "Ngày kiểm tra phải là một ngày hợp lệ, không ở tương lai."
    index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    if head == "findings" and index is not None and index < len(checklist):
        task = checklist[index]
        key = loc[2] if len(loc) > 2 else None
        if key == "note":
            return f"n{task}", "Nhiệm vụ chưa đạt: phải ghi rõ lý do vào ghi chú."
        if key == "compliant":
            return f"c{task}", "Hãy chọn Đạt hoặc Chưa đạt."
        return f"ft{task}", NEEDS_FIX
    if head == "fixes" and index is not None and index < len(fix_tasks):
        task = fix_tasks[index]
        key = loc[2] if len(loc) > 2 else None
        if key == "due":
            return f"fd{task}", "Thời hạn khắc phục phải là một ngày sau ngày kiểm tra."
        return f"ft{task}", "Hãy ghi nội dung phải khắc phục."
    if head == "findings":
        return None, "Mỗi nhiệm vụ trong danh mục cần một kết quả (đạt hoặc chưa đạt)."
    return None, "Biên bản chưa hợp lệ: hãy kiểm tra lại các nội dung đã điền."


# ----------------------------------------------------------------------------- notices


@router.get(HOME + "/tasks/{task_id}/notice/{ext}")
def notice(request: Request, task_id: str, ext: str) -> Response:
    found = person_or_redirect(request, here(request))
    if not isinstance(found, Person):
        return found
    number = _number(task_id)
    if number is None:
        return _not_found(request, found)
    try:
        name, content = pages.notice_file(found.ctx, found.who.access, number, ext)
    except PermissionDenied:
        return _denied(request, found)
    except NotFound:
        return _not_found(request, found)
    disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return Response(
        content,
        media_type=pages.NOTICE_TYPES[ext],
        headers={"Content-Disposition": disposition},
    )


def _number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**62 else None
