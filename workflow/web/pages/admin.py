"""Administration, for the administrators of an organisation (`accounts:admin`; validating a
definition file: `definitions:load`): the organisation's accounts (invite, reset, disable,
enable, end sessions), its API tokens (create, secret shown once; revoke), the organisation
and its plans as loaded (read-only), and an uploaded definition file validated, never loaded.

The same services as `planflow accounts|tokens ...`, the API's accounts and tokens routers
and `planflow plans validate`; the services decide who may and record every act in the
audit log. A one-time link or a token's secret is put in the page that answers the act,
once: never in a URL, never stored in clear.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from workflow.definitions.source import MAX_FILE_BYTES
from workflow.domain.access import Permission
from workflow.errors import NotFound, PermissionDenied, PlanflowError
from workflow.services import accounts, tokens
from workflow.services import organisations as org_service
from workflow.services import plans as plan_service
from workflow.web.auth import web_of
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
from workflow.web.pages.uploads import multipart

router = APIRouter(include_in_schema=False)
ADMIN = "/admin"
TOKENS = "/admin/tokens"
ORGANISATION = "/admin/organisation"
VALIDATE = "/admin/validate"
ACTIONS = ("invite", "reset", "disable", "enable", "revoke-sessions")
STATES = {
    "none": "Chưa có tài khoản",
    "invited": "Đã mời, chưa đăng ký",
    "active": "Đang hoạt động",
    "locked": "Tạm khóa (nhập sai mật khẩu)",
    "disabled": "Đã vô hiệu hóa",
}
TOKEN_STATES = {"active": "Còn hiệu lực", "expired": "Hết hạn", "revoked": "Đã thu hồi"}
PERMISSIONS = {
    "tasks:read": "Xem nhiệm vụ",
    "tasks:move": "Thực hiện thao tác trên nhiệm vụ",
    "audit:read": "Xem nhật ký kiểm toán",
    "dossiers:read": "Xem hồ sơ một cửa",
    "dossiers:write": "Tiếp nhận hồ sơ một cửa",
    "inspections:read": "Xem kiểm tra",
    "inspections:write": "Bốc thăm, ghi biên bản kiểm tra",
    "reports:read": "Xem báo cáo",
    "reports:write": "Lập báo cáo",
    "flows:run": "Chạy quy trình xin lỗi",
    "definitions:load": "Nạp tệp định nghĩa",
    "accounts:admin": "Quản trị tài khoản",
}
DONE = {
    "disabled": "Đã vô hiệu hóa tài khoản của {who}: mọi phiên đăng nhập đã kết thúc.",
    "enabled": "Đã mở lại tài khoản của {who}.",
    "revoked": "Đã kết thúc mọi phiên đăng nhập của {who}.",
    "token-revoked": "Đã thu hồi mã truy cập API số {who}.",
}
STALE_FORM = "Biểu mẫu đã cũ hoặc không đến từ trang này: hãy tải lại trang rồi thử lại."
MAX_DAYS = 366


# ----------------------------------------------------------------------------- gates


def _gate(
    request: Request, back: str, needs: Permission = Permission.ACCOUNTS_ADMIN
) -> Person | Response:
    """The signed-in administrator, or the response that answers instead: the sign-in, the
    second factor, the 403 page for a person whose roles do not carry `needs`."""
    person = person_or_redirect(request, back)
    if not isinstance(person, Person):
        return person
    try:
        person.who.access.require(needs, person.who.access.actor.organisation)
    except PermissionDenied:
        return _message(
            request,
            person,
            403,
            "Không có quyền quản trị",
            "Chỉ quản trị viên của cơ quan dùng được các trang quản trị.",
        )
    return person


def _message(request: Request, person: Person, status: int, title: str, text: str) -> Response:
    return message_page(request, person, status, title, text)


def _stale(request: Request, person: Person) -> Response:
    return _message(request, person, 403, "Không thực hiện được", STALE_FORM)


def _refused(request: Request, person: Person, exc: PlanflowError) -> Response | None:
    """A refusal that is not the form's fault: another organisation's person or token
    (403), one that does not exist (404). None: show the page again with the error."""
    if isinstance(exc, PermissionDenied):
        return _message(
            request,
            person,
            403,
            "Không có quyền",
            "Tài khoản hoặc mã truy cập này không thuộc cơ quan của bạn.",
        )
    if isinstance(exc, NotFound):
        return _message(
            request, person, 404, "Không tìm thấy", "Người hoặc mã truy cập này không tồn tại."
        )
    return None


def _org(person: Person) -> str:
    return person.who.access.actor.organisation


# ----------------------------------------------------------------------------- accounts


@router.get(ADMIN)
def accounts_page(request: Request) -> Response:
    found = _gate(request, here(request))
    if not isinstance(found, Person):
        return found
    return _accounts(request, found, redirected=True)


def _done(request: Request, shown: set[str]) -> str | None:
    """What the page says after a redirect, of a person or token it lists (a link made
    elsewhere cannot put another name in an administrator's notice)."""
    kind = request.query_params.get("done", "")
    who = request.query_params.get("who", "")
    return DONE[kind].format(who=who) if kind in DONE and who in shown else None


def _accounts(
    request: Request,
    person: Person,
    *,
    notice: str | None = None,
    redirected: bool = False,
    error: str | None = None,
    link: dict[str, Any] | None = None,
) -> Response:
    listed = accounts.list_accounts(person.ctx, None)
    if redirected:  # `?done=...`: what was just done
        notice = _done(request, {a["person"] for a in listed})
    return render(
        request,
        "admin_accounts.html",
        person,
        accounts=listed,
        states=STATES,
        notice=notice,
        error=error,
        link=link,
        org=_org(person),
    )


@router.post(ADMIN + "/accounts/{person_id}/{action}")
async def account_action(request: Request, person_id: str, action: str) -> Response:
    form = await read_form(request)
    found = await run_in_threadpool(_gate, request, ADMIN)
    if not isinstance(found, Person):
        return found
    if not csrf_ok(found, form):
        return _stale(request, found)
    if action not in ACTIONS or not 0 < len(person_id) <= 80:
        return _message(request, found, 404, "Không tìm thấy", "Thao tác này không tồn tại.")
    return await run_in_threadpool(_account_action, request, found, person_id, action, form)


def _account_action(
    request: Request, person: Person, target: str, action: str, form: dict[str, str]
) -> Response:
    ctx = person.ctx
    base = web_of(request).settings.public_url
    reason = form.get("reason", "").strip()[:1000]
    try:
        if action in ("invite", "reset"):
            made = (accounts.invite if action == "invite" else accounts.reset)(ctx, target, base)
            shown = {"person": made.person, "link": made.link, "expires_at": made.expires_at}
            return _accounts(request, person, link=shown)
        if action in ("disable", "revoke-sessions") and not reason:
            return _accounts(
                request, person, error=f"Hãy nhập lý do (được ghi vào nhật ký) cho {target}."
            )
        if action == "disable":
            accounts.disable(ctx, target, reason)
            done = "disabled"
        elif action == "enable":
            accounts.enable(ctx, target)
            done = "enabled"
        else:
            accounts.revoke_sessions(ctx, target, reason)
            done = "revoked"
    except PlanflowError as exc:
        refused = _refused(request, person, exc)
        return refused or _accounts(request, person, error=f"{target}: {words.error(exc)}")
    return redirect(f"{ADMIN}?done={done}&who={quote(target)}")


# ----------------------------------------------------------------------------- tokens


@router.get(TOKENS)
def tokens_page(request: Request) -> Response:
    found = _gate(request, here(request))
    if not isinstance(found, Person):
        return found
    return _tokens(request, found, redirected=True)


def _tokens(
    request: Request,
    person: Person,
    *,
    notice: str | None = None,
    redirected: bool = False,
    error: str | None = None,
    issued: tokens.IssuedToken | None = None,
    typed: dict[str, Any] | None = None,
) -> Response:
    ctx = person.ctx
    people = [a for a in accounts.list_accounts(ctx, None) if a["state"] != "none"]
    listed = tokens.list_tokens(ctx, None)
    if redirected:  # `?done=...`: what was just done
        notice = _done(request, {str(t["id"]) for t in listed})
    return render(
        request,
        "admin_tokens.html",
        person,
        tokens=listed,
        people=people,
        permissions=PERMISSIONS,
        token_states=TOKEN_STATES,
        notice=notice,
        error=error,
        issued=issued,
        typed=typed or {"person": "", "permissions": [], "days": "30", "label": ""},
        max_days=MAX_DAYS,
    )


@router.post(TOKENS)
async def create_token(request: Request) -> Response:
    body = await request.body()
    found = await run_in_threadpool(_gate, request, TOKENS)
    if not isinstance(found, Person):
        return found
    fields = _pairs(body)
    form = dict(fields)
    if not csrf_ok(found, form):
        return _stale(request, found)
    typed = {
        "person": form.get("person", "").strip()[:80],
        "permissions": [v for k, v in fields if k == "permission"][:20],
        "days": form.get("days", "").strip()[:4],
        "label": form.get("label", "").strip()[:200],
    }
    return await run_in_threadpool(_create_token, request, found, typed)


def _pairs(body: bytes) -> list[tuple[str, str]]:
    """A url-encoded form's fields in order, repeated names kept (the permission boxes)."""
    from urllib.parse import parse_qsl

    if len(body) > 64 * 1024:
        return []
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=60)
    except (UnicodeDecodeError, ValueError):
        return []


def _create_token(request: Request, person: Person, typed: dict[str, Any]) -> Response:
    def again(why: str) -> Response:
        return _tokens(request, person, error=why, typed=typed)

    if not typed["person"]:
        return again("Hãy chọn người chịu trách nhiệm về mã truy cập.")
    if not typed["permissions"]:
        return again("Hãy chọn ít nhất một quyền cho mã truy cập.")
    if not typed["days"].isdigit() or not 1 <= int(typed["days"]) <= MAX_DAYS:
        return again(f"Thời hạn phải là số ngày từ 1 đến {MAX_DAYS}.")
    if not typed["label"]:
        return again("Hãy ghi mã truy cập dùng để làm gì (được ghi vào nhật ký).")
    try:
        issued = tokens.create(
            person.ctx, typed["person"], typed["permissions"], int(typed["days"]), typed["label"]
        )
    except PermissionDenied as exc:
        if "does not hold" in str(exc) or "cannot give more" in str(exc):
            return again(
                "Quyền đã chọn rộng hơn vai trò của người này: chỉ chọn các quyền của vai trò "
                f"họ đang giữ ({exc})."
            )
        return _refused(request, person, exc) or again(words.error(exc))
    except PlanflowError as exc:
        return _refused(request, person, exc) or again(words.error(exc))
    return _tokens(request, person, issued=issued)


@router.post(TOKENS + "/{token_id}/revoke")
async def revoke_token(request: Request, token_id: str) -> Response:
    form = await read_form(request)
    found = await run_in_threadpool(_gate, request, TOKENS)
    if not isinstance(found, Person):
        return found
    if not csrf_ok(found, form):
        return _stale(request, found)
    if not token_id.isdigit() or not 0 < int(token_id) < 2**62:
        return _message(request, found, 404, "Không tìm thấy", "Mã truy cập này không tồn tại.")
    return await run_in_threadpool(_revoke, request, found, int(token_id))


def _revoke(request: Request, person: Person, token_id: int) -> Response:
    try:
        tokens.revoke(person.ctx, token_id)
    except PlanflowError as exc:
        return _refused(request, person, exc) or _tokens(request, person, error=words.error(exc))
    return redirect(f"{TOKENS}?done=token-revoked&who={token_id}")


# ----------------------------------------------------------------------------- organisation


@router.get(ORGANISATION)
def organisation_page(request: Request) -> Response:
    found = _gate(request, here(request))
    if not isinstance(found, Person):
        return found
    org = _org(found)
    detail = org_service.show_organisation(found.ctx, org)
    plans = [p for p in plan_service.list_plans(found.ctx) if p["organisation"] == org]
    units = {u["code"]: u["name"] for u in detail["units"]}
    return render(request, "admin_organisation.html", found, org=detail, plans=plans, units=units)


# ----------------------------------------------------------------------------- validation


@router.get(VALIDATE)
def validate_page(request: Request) -> Response:
    found = _gate(request, here(request), Permission.DEFINITIONS_LOAD)
    if not isinstance(found, Person):
        return found
    return _validate(request, found)


def _validate(
    request: Request,
    person: Person,
    *,
    error: str | None = None,
    name: str | None = None,
    problems: list[Any] | None = None,
    summary: str | None = None,
) -> Response:
    return render(
        request,
        "admin_validate.html",
        person,
        error=error,
        name=name,
        problems=problems or [],
        notice=summary,
        max_mb=MAX_FILE_BYTES // (1024 * 1024),
    )


@router.post(VALIDATE)
async def validate_upload(request: Request) -> Response:
    found = await run_in_threadpool(_gate, request, VALIDATE, Permission.DEFINITIONS_LOAD)
    if not isinstance(found, Person):
        return found
    body = await request.body()
    parts = multipart(body, request.headers.get("content-type", ""), "definitions.yaml")
    sent = parts.get("csrf", (b"", ""))[0].decode("utf-8", "replace")
    if not csrf_ok(found, {"csrf": sent}):
        return _stale(request, found)
    upload = parts.get("file")
    if upload is None or not upload[0]:
        return _validate(request, found, error="Hãy chọn tệp định nghĩa (.yaml) cần kiểm tra.")
    if len(upload[0]) > MAX_FILE_BYTES:
        return _validate(
            request,
            found,
            error=f"Tệp quá lớn: một tệp định nghĩa tối đa {MAX_FILE_BYTES // (1024 * 1024)} MB "
            "(hãy chia kế hoạch lớn thành nhiều kế hoạch).",
        )
    return await run_in_threadpool(_check, request, found, upload[0], upload[1])


def _check(request: Request, person: Person, data: bytes, name: str) -> Response:
    """`planflow plans validate` on the uploaded file alone, in one pass, against the
    organisations as loaded (a plan names its organisation, loaded before it): every
    problem with its line and column. Read-only: nothing is loaded."""
    from workflow.definitions.checks import validate  # pydantic: when a file is checked

    if not name.lower().endswith((".yaml", ".yml")):
        name += ".yaml"
    known = org_service.known_organisations(person.ctx)
    with tempfile.TemporaryDirectory(prefix="planflow-validate-") as folder:
        # Deep enough that the search for a plan's organisation file (its folder and three
        # parents, `discover_organisation`) sees only this empty folder, never the host's.
        inner = Path(folder, "a", "b", "c")
        inner.mkdir(parents=True)
        path = inner / name
        path.write_bytes(data)
        found, problems = validate([path], known)
        shown = [str(path), str(path.resolve())]
    rows = [
        {"line": p.line, "column": p.column, "message": _named(p.message, shown, name)}
        for p in problems
    ]
    if rows:
        return _validate(
            request,
            person,
            name=name,
            problems=rows,
            error=f"Tệp {name} có {len(rows)} lỗi: chưa nạp được. Hãy sửa các lỗi dưới đây.",
        )
    summary = (
        f"Tệp {name} hợp lệ: {len(found.organisations)} cơ quan, {len(found.plans)} kế hoạch, "
        f"{len(found.procedures)} danh mục thủ tục, {len(found.rules)} tệp quy tắc, "
        f"{found.task_rows} dòng nhiệm vụ. Trang này chỉ kiểm tra, không nạp tệp."
    )
    return _validate(request, person, name=name, summary=summary)


def _named(message: str, paths: list[str], name: str) -> str:
    """The message with the upload's name where it names the file's temporary path."""
    for path in paths:
        message = message.replace(path, name)
    return message
