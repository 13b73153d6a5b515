"""What every page shares: who is signed in (the API's session cookie), the CSRF token of
the forms, the templates, the redirects to sign-in and back.

The session is the API's (`planflow_session`); its CSRF token, which the API answers once
at sign-in, is kept by a page sign-in in a second cookie (`planflow_csrf`, HttpOnly) from
which the pages write it into every form. A form post is taken only when the token it
carries matches the session's (its digest, stored with the session): another site can
make a browser send the cookies, never read the token out of a page.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from workflow.clock import LOCAL_TZ, today_local
from workflow.context import Context
from workflow.domain.roles import Role
from workflow.errors import NotAuthenticated
from workflow.services import sessions
from workflow.services.sessions import Authenticated
from workflow.web.auth import SESSION_COOKIE, Who, anonymous, web_of
from workflow.web.pages import words

CSRF_COOKIE = "planflow_csrf"
SIGN_IN = "/sign-in"
SECOND_FACTOR = "/second-factor"
HOME = "/my-work"
MAX_FORM_BYTES = 64 * 1024


@dataclass(frozen=True)
class Person:
    """A signed-in person as the pages see them: the API's `Who`, the session's CSRF token
    (from its cookie, checked), and their name."""

    who: Who
    csrf: str
    name: str

    @property
    def ctx(self) -> Context:
        return self.who.ctx

    def has(self, role: Role) -> bool:
        return role in self.who.access.actor.roles


def signed_in(request: Request) -> Person | None:
    """The person of the request's session, or None when there is none, it has ended, or
    its CSRF cookie is not the session's (a session opened through the API: the pages
    cannot post without the token, so they ask for a sign-in of their own)."""
    session = request.cookies.get(SESSION_COOKIE)
    csrf = request.cookies.get(CSRF_COOKIE)
    if not session or not csrf:
        return None
    base = anonymous(request)
    try:
        found, touch_due = sessions.check_session(base, session)
    except NotAuthenticated:
        return None
    if not sessions.csrf_matches(found, csrf):
        return None
    if touch_due:
        sessions.touch_session(base, found.principal, session)
    request.state.principal = found.principal.id  # for the request's log event
    ctx = Context(base.engine, clock=base.clock, operator=base.operator, principal=found.principal)
    who = Who(found.principal, found.access, ctx, session, found.needs_second_factor)
    return Person(who, csrf, _name(ctx, found))


def _name(ctx: Context, found: Authenticated) -> str:
    from workflow.services.task_pages import people_names

    actor = found.access.actor
    return people_names(ctx, actor.organisation).get(actor.id, actor.id)


def csrf_ok(person: Person, form: dict[str, str]) -> bool:
    """Whether the form carries its session's CSRF token (the cookie's copy was checked
    against the session's digest when the person was read), compared in constant time."""
    sent = form.get("csrf", "")
    return bool(sent) and hmac.compare_digest(sent.encode(), person.csrf.encode())


def same_origin(request: Request) -> bool:
    """Whether a form posted with no session yet (a sign-in, a sign-up) came from a page of
    this site: a browser names the page's origin in `Origin`; another site's form, posted to
    sign a victim in to the attacker's account, names its own. No header (an old browser,
    a script) is let through: what protects those posts is the password or the link."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = {f"{request.url.scheme}://{request.url.netloc}", web_of(request).settings.public_url}
    return origin.rstrip("/") in own


async def read_form(request: Request) -> dict[str, str]:
    """An url-encoded form's fields (the last value of each): the pages' forms are small,
    and need no multipart parser."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=50))


def local_path(target: str | None, default: str = HOME) -> str:
    """`target` if it is a path of this site (`/...`, never `//host` nor `scheme:`), else
    `default`: a sign-in's `next` never sends anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target


def here(request: Request) -> str:
    """The path and query of the request, to come back to after a sign-in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def to_sign_in(request: Request, back: str) -> Response:
    """To the sign-in page, and from there back to `back` (saying the session ended when
    the request came with one). An htmx request is told to go there as a whole page
    (`HX-Redirect`), not to paste the sign-in form into a list."""
    target = SIGN_IN + "?next=" + quote(local_path(back), safe="/")
    if request.cookies.get(SESSION_COOKIE):
        target += "&ended=1"
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def person_or_redirect(request: Request, back: str) -> Person | Response:
    """The signed-in person, or where they must go first: the sign-in page (then back to
    `back`), or the second factor their organisation requires."""
    person = signed_in(request)
    if person is None:
        return to_sign_in(request, back)
    if person.who.needs_second_factor:
        return redirect(f"{SECOND_FACTOR}?next={quote(back, safe='/')}")
    return person


def redirect(target: str) -> RedirectResponse:
    return RedirectResponse(local_path(target), status_code=303)


# ----------------------------------------------------------------------------- templates


def vn_time(value: Any) -> str:
    """An instant in Vietnam time, `dd/mm/yyyy HH:MM`."""
    if value is None or value == "":
        return ""
    when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return str(when.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M"))


def vn_date(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value is not None else ""


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("workflow.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vn_time"] = vn_time
    env.filters["vn_date"] = vn_date
    env.globals["words"] = words
    env.globals["Role"] = Role
    return env


def render(
    request: Request,
    template: str,
    person: Person | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page. A form shown again with what was wrong (a refused sign-in or move, a stale
    page) is answered 200, as the page the person asked for: an error status would only
    add a "failed to load" line to the browser's console, and keep htmx from showing it."""
    context.setdefault("notice", None)
    context.setdefault("error", None)
    page = environment().get_template(template)
    html = page.render(
        person=person,
        path=request.url.path,
        today=today_local(web_of(request).settings.clock),
        **context,
    )
    return HTMLResponse(html, status_code=status)


def message_page(
    request: Request, person: Person | None, status: int, title: str, message: str
) -> HTMLResponse:
    """A page that only says something (a refusal, a record not found), with its status."""
    return render(request, "message.html", person, status=status, title=title, message=message)


def set_session_cookies(
    request: Request, response: Response, session: str, csrf: str, max_age: int
) -> None:
    secure = secure_cookie(request)
    for name, value in ((SESSION_COOKIE, session), (CSRF_COOKIE, csrf)):
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=secure,
            httponly=True,
            samesite="lax",
        )


def forget_session_cookies(request: Request, response: Response) -> None:
    secure = secure_cookie(request)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")


def secure_cookie(request: Request) -> bool:
    setting = web_of(request).settings.secure_cookies
    return request.url.scheme == "https" if setting is None else setting
