"""Who a request is, as FastAPI dependencies: an API token (`Authorization: Bearer ...`) or
the session cookie, never a name the request gives. A cookie-authenticated write must also
carry the session's CSRF token (`X-CSRF-Token`); a bearer token needs none (a browser never
sends one by itself).

    def endpoint(who: Caller) -> ...:
        who.access.require(Permission.TASKS_READ)
        service.call(who.ctx, ...)       # the Context carries the principal

`Who.ctx` is the services' `Context` for this request: the app's database and clock (the
system's), and the authenticated principal, which every audit entry then records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from workflow.context import Context
from workflow.domain.access import Access
from workflow.domain.principals import Channel, Principal
from workflow.errors import NotAuthenticated
from workflow.services import sessions, tokens
from workflow.web.errors import Refused
from workflow.web.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

SESSION_COOKIE = "planflow_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Who an unauthenticated request (a sign-in, a sign-up) is, should a service ask: never an
# operator of the host, whom a simulation database lets administer.
ANONYMOUS = "web:anonymous"


@dataclass(frozen=True)
class Web:
    """What the app holds for every request (`app.state.web`)."""

    engine: Engine
    settings: Settings


def web_of(request: Request) -> Web:
    found: Web = request.app.state.web
    return found


def anonymous(request: Request) -> Context:
    """The services' context of a request nobody signed in to."""
    web = web_of(request)
    return Context(web.engine, clock=web.settings.clock, operator=ANONYMOUS)


@dataclass(frozen=True)
class Who:
    """An authenticated request: its principal, what they may do, and the context to call
    the services with. `session`: the cookie's secret, when it came with one."""

    principal: Principal
    access: Access
    ctx: Context
    session: str | None = None
    # Signed in with the password alone while their organisation requires a second factor
    # of them: until they set one up, `access` allows nothing else.
    needs_second_factor: bool = False

    @property
    def person(self) -> str:
        return self.principal.id

    @property
    def by_session(self) -> bool:
        return self.session is not None


# Declared for the OpenAPI document (the docs' "Authorize" button) only: `signed_in` reads
# the header and the cookie itself, to answer a malformed one in its own words.
BEARER = HTTPBearer(auto_error=False, description="An API token: `pft_...`")
COOKIE = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description="Set by POST /api/v1/session; writes also need the X-CSRF-Token header",
)


async def signed_in(
    request: Request,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
    _cookie: Annotated[str | None, Depends(COOKIE)],
) -> Who:
    """The request's principal, from its bearer token or its session cookie (CSRF checked
    on writes); NotAuthenticated (401) when it has neither, or one that is no longer good.

    Run on the event loop, not in a worker thread: a session or a token is a few reads by
    key that never wait for a lock, cheaper than a hop to a worker thread and back (the
    endpoint then runs in one hop: a move over HTTP costs ~0.3 ms less). The once-a-minute
    note of a session's activity is a write, which may wait for the database's write
    lock: it goes to a worker thread."""
    base = anonymous(request)
    header = request.headers.get("authorization")
    session: str | None = None
    if header is not None:
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise NotAuthenticated("the Authorization header must be 'Bearer <API token>'")
        found = tokens.authenticate_token(base, secret.strip(), Channel.API)
    else:
        session = request.cookies.get(SESSION_COOKIE)
        if not session:
            raise NotAuthenticated(
                "sign in first (POST /api/v1/session), or send an API token "
                "(Authorization: Bearer <token>)"
            )
        found, touch_due = sessions.check_session(base, session)
        if request.method not in SAFE_METHODS and not sessions.csrf_matches(
            found, request.headers.get(CSRF_HEADER)
        ):
            raise Refused(
                403,
                "csrf_failed",
                f"this change needs the {CSRF_HEADER} header with the token given at sign-in",
            )
        if touch_due:
            await anyio.to_thread.run_sync(sessions.touch_session, base, found.principal, session)
    request.state.principal = found.principal.id  # for the request's log event
    ctx = Context(base.engine, clock=base.clock, operator=ANONYMOUS, principal=found.principal)
    return Who(found.principal, found.access, ctx, session, found.needs_second_factor)


Caller = Annotated[Who, Depends(signed_in)]
