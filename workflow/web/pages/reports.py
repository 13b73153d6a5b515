"""The reports' pages: the organisation's stored reports (every revision), one report shown
in the page, its downloads (JSON, CSV, HTML: the API's renderings of the stored snapshot;
XLSX: its CSV's table as a workbook), generating one for a period (office, leaders: what
the API's `POST /reports` does, without Prefect), and two revisions' totals side by side.

A report is shown in the page as its own HTML's body, not in a frame: that HTML is ours
(`documents.report`, autoescaped, its charts inline SVG with presentation attributes, no
script, no style attribute), so its body needs nothing the page's CSP refuses; its one
inline `<style>` (in its head, for printing) is left out and the page's style sheet lays
it out instead. A frame would have needed the CSP loosened for it (`frame-ancestors`,
`X-Frame-Options`, an inline style) and would hide the report from the page's axe check.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from workflow.clock import today_local
from workflow.documents import report as document
from workflow.domain.access import Permission
from workflow.errors import (
    AuditVerificationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PlanflowError,
)
from workflow.services import desk_pages, flow_runs
from workflow.services import reports as service
from workflow.services.document_formats import report_file
from workflow.web.pages import words
from workflow.web.pages.base import (
    Person,
    csrf_ok,
    here,
    person_or_redirect,
    read_form,
    redirect,
    render,
)
from workflow.web.routers import fence

router = APIRouter(include_in_schema=False)
REPORTS = "/reports"
FORMATS = ("csv", "xlsx", "pdf", "json", "html")
MEDIA: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
# The API's renderings of the stored snapshot, and its table as a workbook.
RENDER: dict[str, Callable[[dict[str, Any]], str | bytes]] = {
    "json": document.render_json,
    "csv": document.render_csv,
    "html": document.render_html,
    "xlsx": desk_pages.report_xlsx,
    "pdf": lambda report: report_file(report, "pdf"),
}
WINDOWS = {
    "reporting": "Kỳ chốt số liệu (ngày 15 đến ngày 14, Nghị định 09/2019/NĐ-CP)",
    "calendar": "Theo lịch dương (quý, nửa năm, năm)",
}
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.DOTALL)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _person(request: Request, back: str, needed: Permission) -> Person | Response:
    person = person_or_redirect(request, back)
    if not isinstance(person, Person):
        return person
    try:
        person.who.access.require(needed)
    except PermissionDenied:
        return _denied(request, person, needed)
    return person


def _denied(request: Request, person: Person, needed: Permission) -> Response:
    title, message = (
        ("Không có quyền lập báo cáo", "Chỉ văn phòng và lãnh đạo lập báo cáo định kỳ.")
        if needed is Permission.REPORTS_WRITE
        else ("Không có quyền xem báo cáo", "Vai trò của bạn không xem báo cáo định kỳ.")
    )
    return render(request, "message.html", person, status=403, title=title, message=message)


def _not_found(request: Request, person: Person) -> Response:
    return render(
        request,
        "message.html",
        person,
        status=404,
        title="Không tìm thấy báo cáo",
        message="Báo cáo không tồn tại, hoặc bạn không có quyền xem.",
    )


def _altered(request: Request, person: Person) -> Response:
    """A stored report that no longer matches its hash or its audit entry: said, not shown."""
    return render(
        request,
        "message.html",
        person,
        status=409,
        title="Báo cáo đã bị thay đổi",
        message="Bản lưu của báo cáo không còn khớp mã băm hoặc nhật ký kiểm toán: không hiển "
        "thị. Hãy báo quản trị viên kiểm tra (planflow audit verify).",
    )


def _readable(person: Person) -> list[dict[str, Any]]:
    """The stored reports this person reads, newest first (the API's list, fenced alike)."""
    found = service.list_snapshots(person.ctx)
    return [s for s in reversed(found) if person.who.access.can_read(s["organisation"])]


def _may_generate(person: Person) -> bool:
    try:
        person.who.access.require(Permission.REPORTS_WRITE, person.who.access.actor.organisation)
    except PermissionDenied:
        return False
    return True


def _list(
    request: Request,
    person: Person,
    *,
    notice: str | None = None,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "reports.html",
        person,
        reports=_readable(person),
        may_generate=_may_generate(person),
        windows=WINDOWS,
        typed=typed or {"period": "", "window": "reporting", "reason": "", "revise": ""},
        notice=notice,
        error=error,
    )


@router.get(REPORTS)
def reports(request: Request) -> Response:
    found = _person(request, here(request), Permission.REPORTS_READ)
    if not isinstance(found, Person):
        return found
    return _list(request, found)


@router.post(REPORTS + "/generate")
async def generate(request: Request) -> Response:
    form = await read_form(request)
    found = await run_in_threadpool(_person, request, REPORTS, Permission.REPORTS_WRITE)
    if not isinstance(found, Person):
        return found
    if not csrf_ok(found, form):
        return render(
            request,
            "message.html",
            found,
            status=403,
            title="Không thực hiện được",
            message="Biểu mẫu đã cũ hoặc không đến từ trang này: hãy tải lại trang rồi thử lại.",
        )
    if not _may_generate(found):
        return _denied(request, found, Permission.REPORTS_WRITE)
    return await run_in_threadpool(_generate, request, found, form)


def _generate(request: Request, person: Person, form: dict[str, str]) -> Response:
    typed = {
        "period": form.get("period", "").strip()[:10],
        "window": form.get("window", "reporting"),
        "reason": form.get("reason", "").strip()[: service.MAX_REASON],
        "revise": "1" if form.get("revise") else "",
    }
    if not typed["period"]:
        return _list(request, person, typed=typed, error="Hãy nhập kỳ báo cáo, ví dụ 2026Q3.")
    if typed["window"] not in WINDOWS:
        return _list(request, person, typed=typed, error="Hãy chọn cách tính kỳ trong danh sách.")
    revise = bool(typed["revise"])
    if revise and not typed["reason"]:
        why = "Lập lại báo cáo (bản sửa đổi) cần ghi lý do."
        return _list(request, person, typed=typed, error=why)
    ctx = person.ctx
    org = person.who.access.actor.organisation
    asked = service.Request(
        org,
        typed["period"],
        typed["window"],
        revise,
        typed["reason"] if revise else None,
        person.who.person,
    )
    try:
        service.check(ctx, asked)  # every refusal before anything is written, as the API
        folder = fence.output_folder(request, "reports")
        flow_runs.record(ctx, "aggregate", org, today_local(ctx.clock))
        outcome = service.generate(ctx, asked, folder)
        service.write_files(outcome.report, folder, outcome.documents)
    except InvalidInput as exc:
        why = (
            f"Chưa lập được báo cáo kỳ «{typed['period']}»: kỳ phải là quý (2026Q3), nửa năm "
            f"(2026H1) hoặc năm (2026) đã bắt đầu. Chi tiết: {exc}"
        )
        return _list(request, person, typed=typed, error=why)
    except AuditVerificationFailed:
        return _altered(request, person)
    except PlanflowError as exc:
        return _list(request, person, typed=typed, error=words.error(exc))
    snapshot = outcome.report["snapshot"]
    return redirect(f"{REPORTS}/{snapshot}?{'created' if outcome.created else 'stored'}=1")


def _number(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 2**62 else None


def _report(person: Person, report_id: int) -> dict[str, Any] | None:
    """The stored report if this person reads its organisation (asked of the list first,
    as the API does: another agency's report, sound or altered, answers alike)."""
    if not any(s["id"] == report_id for s in _readable(person)):
        return None
    try:
        return service.show(person.ctx, report_id)
    except NotFound:
        return None


@router.get(REPORTS + "/compare")
def compare(request: Request) -> Response:
    found = _person(request, here(request), Permission.REPORTS_READ)
    if not isinstance(found, Person):
        return found
    first_id, second_id = (_number(request.query_params.get(k)) for k in ("a", "b"))
    readable = _readable(found)
    try:
        first = _report(found, first_id) if first_id else None
        second = _report(found, second_id) if second_id else None
    except AuditVerificationFailed:
        return _altered(request, found)
    if (first_id and first is None) or (second_id and second is None):
        return _not_found(request, found)
    rows = desk_pages.compare_totals(first, second) if first and second else []
    return render(
        request,
        "report_compare.html",
        found,
        reports=readable,
        first=first,
        second=second,
        rows=rows,
        chosen={"a": first_id or 0, "b": second_id or 0},
    )


@router.get(REPORTS + "/{report_id}")
def show(request: Request, report_id: str) -> Response:
    found = _person(request, here(request), Permission.REPORTS_READ)
    if not isinstance(found, Person):
        return found
    number = _number(report_id)
    try:
        report = _report(found, number) if number else None
    except AuditVerificationFailed:
        return _altered(request, found)
    if report is None:
        return _not_found(request, found)
    match = _BODY.search(document.render_html(report))
    # Our own report, rendered by `documents.report` with autoescape on: safe as it stands.
    body = Markup(match.group(1)) if match else Markup("")
    revisions = [
        s
        for s in _readable(found)
        if s["organisation"] == report["organisation"]["code"]
        and s["period"] == report["period"]
        and s["window"] == report["window"]["rule"]
    ]
    notice = None
    if request.query_params.get("created"):
        notice = "Đã lập báo cáo; các tệp JSON, CSV, HTML đã được ghi."
    elif request.query_params.get("stored"):
        notice = (
            "Báo cáo của kỳ này đã có: đây là bản đã lưu. Muốn lập lại, hãy chọn «lập bản sửa "
            "đổi» và ghi lý do."
        )
    return render(
        request,
        "report.html",
        found,
        report=report,
        body=body,
        formats=FORMATS,
        revisions=revisions,
        notice=notice,
    )


@router.get(REPORTS + "/{report_id}/download")
def download(request: Request, report_id: str) -> Response:
    found = _person(request, here(request), Permission.REPORTS_READ)
    if not isinstance(found, Person):
        return found
    number = _number(report_id)
    try:
        report = _report(found, number) if number else None
    except AuditVerificationFailed:
        return _altered(request, found)
    kind = request.query_params.get("format", "json")
    if report is None or kind not in RENDER:
        return _not_found(request, found)
    name = _UNSAFE.sub(
        "-",
        f"{report['organisation']['code']}-{report['period']}-{report['window']['rule']}"
        f"-r{report['revision']}",
    )
    return Response(
        RENDER[kind](report),
        media_type=MEDIA[kind],
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'},
    )
