"""Signing in (with the second factor the organisation requires), signing out, changing
one's password, setting up the second factor, and accepting an invitation (the sign-up
link `accounts invite` prints: `/signup?token=...`). The same services as the API's
`/api/v1/session` routes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from workflow.errors import PlanflowError
from workflow.services import accounts, sessions
from workflow.web.auth import anonymous, web_of
from workflow.web.pages import drafts, words
from workflow.web.pages.base import (
    HOME,
    SECOND_FACTOR,
    SIGN_IN,
    Person,
    csrf_ok,
    forget_session_cookies,
    here,
    local_path,
    message_page,
    read_form,
    redirect,
    render,
    same_origin,
    set_session_cookies,
    signed_in,
    to_sign_in,
)

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request) -> Response:
    return redirect(HOME)


@router.get(SIGN_IN)
def sign_in_page(request: Request) -> Response:
    target = local_path(request.query_params.get("next"))
    person = signed_in(request)
    if person is not None:
        return redirect(target)
    notice = None
    if request.query_params.get("ended"):
        notice = "Phiên làm việc đã hết hạn hoặc đã kết thúc: hãy đăng nhập lại để tiếp tục."
    elif request.query_params.get("signed_out"):
        notice = "Bạn đã đăng xuất."
    elif request.query_params.get("password_changed"):
        notice = "Đã đổi mật khẩu: hãy đăng nhập bằng mật khẩu mới."
    elif request.query_params.get("activated"):
        notice = "Đã tạo mật khẩu: hãy đăng nhập."
    return render(
        request, "sign_in.html", None, next=target, notice=notice, error=None, login="", code=False
    )


@router.post(SIGN_IN)
async def sign_in(request: Request) -> Response:
    if not same_origin(request):
        return _other_site(request)
    form = await read_form(request)
    target = local_path(form.get("next"))
    login = form.get("login", "").strip()[:200]
    code = form.get("code", "").strip()[:16] or None
    address = request.client.host if request.client else "unknown"
    try:
        signed = await run_in_threadpool(
            sessions.sign_in, anonymous(request), login, form.get("password", ""), code, address
        )
    except PlanflowError as exc:
        message = words.error(exc)
        asks_code = code is not None or str(exc).startswith(sessions.CODE_NEEDED)
        return render(
            request,
            "sign_in.html",
            None,
            next=target,
            notice=None,
            error=message,
            login=login,
            code=asks_code or str(exc).startswith(sessions.CODE_WRONG),
        )
    request.state.principal = signed.person
    clock = web_of(request).settings.clock
    lifetime = max(0, int((signed.expires_at - clock.now()).total_seconds()))
    response = redirect(target)
    set_session_cookies(request, response, signed.session, signed.csrf, lifetime)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    form = await read_form(request)
    person = await run_in_threadpool(signed_in, request)
    response: Response = RedirectResponse(SIGN_IN + "?signed_out=1", status_code=303)
    drafts.forget(request, response)
    if person is not None and csrf_ok(person, form) and person.who.session is not None:
        await run_in_threadpool(sessions.sign_out, person.ctx, person.who.session)
        forget_session_cookies(request, response)
    elif person is None:
        forget_session_cookies(request, response)
    else:  # a post from elsewhere: nothing ended
        response = redirect(HOME)
    return response


# ----------------------------------------------------------------------------- password


@router.get("/password")
def password_page(request: Request) -> Response:
    person = signed_in(request)
    if person is None:
        return to_sign_in(request, here(request))
    return render(request, "password.html", person, error=None)


@router.post("/password")
async def change_password(request: Request) -> Response:
    form = await read_form(request)
    person = await run_in_threadpool(signed_in, request)
    if person is None:
        return to_sign_in(request, "/password")
    if not csrf_ok(person, form):
        return _forbidden(request, person)
    new = form.get("new", "")
    if new != form.get("repeat", ""):
        return render(
            request, "password.html", person, error="Hai lần nhập mật khẩu mới khác nhau."
        )
    address = request.client.host if request.client else "unknown"
    try:
        await run_in_threadpool(
            accounts.change_password,
            person.ctx,
            person.who.person,
            form.get("current", ""),
            new,
            address=address,
        )
    except PlanflowError as exc:
        return render(request, "password.html", person, error=words.error(exc))
    response = RedirectResponse(SIGN_IN + "?password_changed=1", status_code=303)
    forget_session_cookies(request, response)  # every session of theirs ended
    return response


# ----------------------------------------------------------------------------- second factor


@router.get(SECOND_FACTOR)
def second_factor_page(request: Request) -> Response:
    person = signed_in(request)
    if person is None:
        return to_sign_in(request, here(request))
    target = local_path(request.query_params.get("next"))
    return render(
        request,
        "second_factor.html",
        person,
        next=target,
        secret=None,
        uri=None,
        error=None,
        confirming=False,
    )


@router.post(SECOND_FACTOR)
async def second_factor(request: Request) -> Response:
    """`step=start`: a new secret, shown with its confirmation form; `step=confirm`: the
    code that turns it on."""
    form = await read_form(request)
    target = local_path(form.get("next"))
    person = await run_in_threadpool(signed_in, request)
    if person is None:
        return to_sign_in(request, SECOND_FACTOR)
    if not csrf_ok(person, form):
        return _forbidden(request, person)
    secret = uri = error = None
    confirming = form.get("step") == "confirm"
    try:
        if confirming:
            code = form.get("code", "").strip()[:16]
            await run_in_threadpool(
                accounts.confirm_second_factor, person.ctx, person.who.person, code
            )
            return redirect(target)
        secret, uri = await run_in_threadpool(
            accounts.start_second_factor, person.ctx, person.who.person
        )
    except PlanflowError as exc:
        error = words.error(exc)
        if "has a second factor already" in str(exc):
            error = "Tài khoản đã có xác thực hai lớp."
            confirming = False
    return render(
        request,
        "second_factor.html",
        person,
        next=target,
        secret=secret,
        uri=uri,
        error=error,
        confirming=confirming or secret is not None,
    )


# ----------------------------------------------------------------------------- sign-up


@router.get("/signup")
def signup_page(request: Request) -> Response:
    token = request.query_params.get("token", "")[:1024]
    return render(request, "signup.html", None, token=token, error=None)


@router.post("/signup")
async def signup(request: Request) -> Response:
    """Choose a password with the link's secret. No session yet, hence no CSRF token: the
    secret itself, which only the link's holder knows, is what another site cannot forge."""
    if not same_origin(request):
        return _other_site(request)
    form = await read_form(request)
    token = form.get("token", "")[:1024]
    password = form.get("password", "")
    if password != form.get("repeat", ""):
        return render(
            request,
            "signup.html",
            None,
            token=token,
            error="Hai lần nhập mật khẩu khác nhau.",
        )
    try:
        person = await run_in_threadpool(accounts.activate, anonymous(request), token, password)
    except PlanflowError as exc:
        return render(request, "signup.html", None, token=token, error=words.error(exc))
    request.state.principal = person
    return RedirectResponse(SIGN_IN + "?activated=1", status_code=303)


def _forbidden(request: Request, person: Person) -> HTMLResponse:
    return message_page(
        request,
        person,
        403,
        "Không thực hiện được",
        "Biểu mẫu đã cũ hoặc không đến từ trang này: hãy tải lại trang rồi thử lại.",
    )


def _other_site(request: Request) -> HTMLResponse:
    return message_page(
        request,
        None,
        403,
        "Không thực hiện được",
        "Biểu mẫu này không được gửi từ trang của hệ thống: hãy mở trang đăng nhập.",
    )
