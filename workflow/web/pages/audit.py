"""The auditor's pages: the audit log searched (every filter of `audit query`, the words of
its notes with or without diacritics), paged by seq, exported as CSV, JSON lines or XLSX,
and the chain's status (verify, the anchor to copy, replay), run on request.

Everything here needs `audit:read`, and reads through the API's own fence (an
organisation's entries and those of the organisations it oversees); verify and replay speak
of the whole chain, so they are for whoever the API lets verify it (an organisation that
oversees all, or an administrator).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from workflow.documents import audit_export
from workflow.domain.filters import AuditFilter
from workflow.errors import InvalidInput, PermissionDenied
from workflow.services import audit_log, audit_pages
from workflow.web.pages.base import (
    Person,
    csrf_ok,
    here,
    message_page,
    person_or_redirect,
    read_form,
    render,
)
from workflow.web.routers import audit as audit_api

router = APIRouter(include_in_schema=False)
AUDIT = "/audit"
CHAIN = "/audit/chain"
FILTERS = ("task", "plan", "unit", "actor", "action", "since", "until", "text", "limit")
PAGE_SIZES = ("20", "50", "100", "200")
LIMITS = {"plan": 120, "unit": 40, "actor": 80, "action": 40, "since": 40, "until": 40}
LABELS = {
    "plan": "Kế hoạch",
    "unit": "Đơn vị",
    "actor": "Người thực hiện",
    "action": "Hành động",
    "since": "Từ ngày",
    "until": "Đến ngày",
}
MAX_TEXT = 200
EXPORTS = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_ROWS = 1_048_575  # a sheet's rows, less the header


class BadFilter(Exception):
    """A filter the page cannot use: said in Vietnamese, answered 400."""


@dataclass(frozen=True)
class Search:
    """The filters as typed (to show back and to carry into links) and as the store reads them."""

    typed: dict[str, str]
    where: AuditFilter
    text: str | None
    limit: int

    def link(self, path: str = AUDIT, **more: str | int) -> str:
        params = {k: v for k, v in self.typed.items() if v}
        params.update({k: str(v) for k, v in more.items()})
        return path + ("?" + urlencode(params) if params else "")


def _search(request: Request, person: Person) -> Search:
    """The query's filters, checked; the fence is the API's (PermissionDenied without
    `audit:read`)."""
    query = request.query_params
    typed = {name: query.get(name, "").strip() for name in FILTERS}
    fence = audit_api.audit_fence(person.who)
    for name, most in LIMITS.items():
        if len(typed[name]) > most:
            raise BadFilter(f"Ô «{LABELS[name]}» dài quá {most} ký tự.")
    if len(typed["text"]) > MAX_TEXT:
        raise BadFilter(f"Nội dung tìm dài quá {MAX_TEXT} ký tự.")
    task = typed["task"]
    if task and not (task.isascii() and task.isdigit() and 0 < int(task) < 2**62):
        raise BadFilter(f"Mã nhiệm vụ «{task[:20]}» không hợp lệ: hãy nhập một số, ví dụ 12.")
    after = query.get("after", "")
    if after and not (after.isascii() and after.isdigit() and int(after) < 2**62):
        raise BadFilter(f"Số thứ tự «{after[:20]}» không hợp lệ: hãy dùng liên kết «Trang sau».")
    limit = typed["limit"]
    if limit and limit not in PAGE_SIZES:
        raise BadFilter(f"Số mục mỗi trang phải là {', '.join(PAGE_SIZES)}.")
    where = AuditFilter(
        organisations=fence,
        task_id=int(task) if task else None,
        plan_id=typed["plan"] or None,
        unit=typed["unit"] or None,
        actor=typed["actor"] or None,
        action=typed["action"] or None,
        since=_bound(typed["since"], "Từ ngày", end=False),
        until=_bound(typed["until"], "Đến ngày", end=True),
        after_seq=int(after) if after else None,
    )
    size = int(limit) if limit else audit_pages.PAGE_SIZE
    return Search(typed, where, typed["text"] or None, size)


def _bound(raw: str, label: str, *, end: bool) -> dt.datetime | None:
    if not raw:
        return None
    try:
        return audit_api.day_bound(raw, label, end=end)
    except InvalidInput:
        raise BadFilter(
            f"«{label}» không đúng dạng ngày: «{raw[:40]}»; hãy nhập YYYY-MM-DD, "
            "ví dụ 2026-12-05, hoặc YYYY-MM-DDTHH:MM."
        ) from None


def _may_verify(person: Person) -> bool:
    try:
        audit_api.require_whole_chain(person.who)
    except PermissionDenied:
        return False
    return True


@router.get(AUDIT)
def search_page(request: Request) -> Response:
    found = person_or_redirect(request, here(request))
    if not isinstance(found, Person):
        return found
    try:
        search = _search(request, found)
    except PermissionDenied:
        return _denied(request, found)
    except BadFilter as exc:
        return _page(request, found, None, None, str(exc))
    page = audit_pages.search(found.ctx, search.where, search.text, search.limit)
    return _page(request, found, search, page, None)


def _page(
    request: Request,
    person: Person,
    search: Search | None,
    page: audit_pages.SearchPage | None,
    error: str | None,
) -> Response:
    typed = search.typed if search else {n: request.query_params.get(n, "") for n in FILTERS}
    return render(
        request,
        "audit.html",
        person,
        status=400 if error else 200,
        error=error,
        typed=typed,
        search=search,
        page=page,
        may_verify=_may_verify(person),
        notes_of=audit_pages.notes_of,
        page_sizes=PAGE_SIZES,
    )


@router.get(AUDIT + "/export")
def export(request: Request) -> Response:
    found = person_or_redirect(request, here(request))
    if not isinstance(found, Person):
        return found
    fmt = request.query_params.get("format", "")
    try:
        search = _search(request, found)
    except PermissionDenied:
        return _denied(request, found)
    except BadFilter as exc:
        return _page(request, found, None, None, str(exc))
    if fmt not in EXPORTS:
        return _page(request, found, search, None, "Định dạng xuất phải là CSV, JSONL hoặc XLSX.")
    batches = audit_pages.every_match(found.ctx, search.where, search.text)
    headers = {"Content-Disposition": f'attachment; filename="audit.{fmt}"'}
    if fmt == "xlsx":
        return Response(_xlsx(batches), media_type=EXPORTS[fmt], headers=headers)
    return StreamingResponse(_text(batches, fmt), media_type=EXPORTS[fmt], headers=headers)


def _text(batches: Iterator[list[dict[str, Any]]], fmt: str) -> Iterator[str]:
    """CSV (a byte-order mark, one header, cells neutralised) or JSON lines exactly as
    `planflow audit export` writes them, a batch at a time."""
    first = True
    for batch in batches:
        stored = [audit_api.as_stored(entry) for entry in batch]
        out = io.StringIO()
        if fmt == "csv":
            audit_export.csv(stored, out)
            text = out.getvalue()
            yield text if first else text.split("\n", 1)[1]
        else:
            audit_export.jsonl(stored, out)
            yield out.getvalue()
        first = False
    if first and fmt == "csv":  # nothing matched: the header alone
        out = io.StringIO()
        audit_export.csv([], out)
        yield out.getvalue()


def _xlsx(batches: Iterator[list[dict[str, Any]]]) -> bytes:
    """One sheet: the CSV's columns, text cells typed as text (never a formula), the same
    bytes for the same entries (`audit_export.xlsx`)."""
    entries = (audit_api.as_stored(e) for batch in batches for e in batch)
    return audit_export.xlsx(islice(entries, XLSX_ROWS))[0]


@router.get(CHAIN)
def chain_page(request: Request) -> Response:
    found = person_or_redirect(request, here(request))
    if not isinstance(found, Person):
        return found
    if not _may_verify(found):
        return _chain_denied(request, found)
    return render(request, "audit_chain.html", found, verification=None, replay=None, anchor="")


@router.post(CHAIN)
async def run_check(request: Request) -> Response:
    form = await read_form(request)
    found = await run_in_threadpool(person_or_redirect, request, CHAIN)
    if not isinstance(found, Person):
        return found
    if not csrf_ok(found, form):
        return message_page(
            request,
            found,
            403,
            "Không thực hiện được",
            "Biểu mẫu đã cũ hoặc không đến từ trang này: hãy tải lại trang rồi thử lại.",
        )
    return await run_in_threadpool(_run_check, request, found, form)


def _run_check(request: Request, person: Person, form: dict[str, str]) -> Response:
    if not _may_verify(person):
        return _chain_denied(request, person)
    raw_anchor = form.get("anchor", "").strip()[:100]
    if form.get("run") == "replay":
        report = audit_log.replay(person.ctx)
        return render(
            request, "audit_chain.html", person, verification=None, replay=report, anchor=""
        )
    try:
        checked = audit_log.parse_anchor(raw_anchor) if raw_anchor else None
    except InvalidInput:
        return render(
            request,
            "audit_chain.html",
            person,
            status=400,
            error=(
                f"Mốc «{raw_anchor[:40]}» không đúng dạng SEQ:HASH: hãy dán mốc đã lưu, "
                "ví dụ 1042: rồi 64 chữ số hệ mười sáu."
            ),
            verification=None,
            replay=None,
            anchor=raw_anchor,
        )
    result = audit_log.verify(person.ctx, checked, workers=1)
    return render(
        request,
        "audit_chain.html",
        person,
        verification=result,
        replay=None,
        anchor=raw_anchor,
    )


def _denied(request: Request, person: Person) -> Response:
    return message_page(
        request,
        person,
        403,
        "Không có quyền xem nhật ký",
        "Vai trò của bạn không được xem nhật ký kiểm toán (cần quyền audit:read).",
    )


def _chain_denied(request: Request, person: Person) -> Response:
    return render(
        request,
        "message.html",
        person,
        status=403,
        title="Không có quyền kiểm tra toàn bộ chuỗi",
        message=(
            "Kiểm tra chuỗi và phát lại nói về toàn bộ nhật ký, nên chỉ dành cho người của cơ "
            "quan giám sát mọi cơ quan (oversees: all) hoặc quản trị viên."
        ),
    )
