"""Signing in and out, signing up, and what a person does to their own account.

`POST /session` sets the session cookie (`planflow_session`: HttpOnly, SameSite=Lax, Path=/,
Secure over HTTPS) and answers the CSRF token, which every later cookie-authenticated write
sends back in `X-CSRF-Token`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from workflow.errors import InvalidInput, PermissionDenied
from workflow.services import accounts, sessions
from workflow.web.auth import SESSION_COOKIE, Caller, Who, anonymous, web_of

router = APIRouter(tags=["session"])

Secret = Annotated[str, Field(min_length=1, max_length=1024)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a field we do not take is refused, by name


class SignInBody(Body):
    login: Annotated[str, Field(min_length=1, max_length=200)]
    password: Secret
    code: Annotated[str | None, Field(max_length=16, description="TOTP code, if required")] = None


class SignUpBody(Body):
    token: Secret = Field(description="The secret of the sign-up (or reset) link")
    password: Secret


class PasswordBody(Body):
    current: Secret
    new: Secret


class CodeBody(Body):
    code: Annotated[str, Field(min_length=1, max_length=16)]


@router.post("/session", summary="Sign in: sets the session cookie, answers the CSRF token")
def sign_in(body: SignInBody, request: Request, response: Response) -> dict[str, Any]:
    ctx = anonymous(request)
    address = request.client.host if request.client else "unknown"
    signed = sessions.sign_in(ctx, body.login, body.password, body.code, address)
    request.state.principal = signed.person
    web = web_of(request)
    secure = web.settings.secure_cookies
    lifetime = max(0, int((signed.expires_at - web.settings.clock.now()).total_seconds()))
    response.set_cookie(
        SESSION_COOKIE,
        signed.session,
        max_age=lifetime,
        path="/",
        secure=request.url.scheme == "https" if secure is None else secure,
        httponly=True,
        samesite="lax",
    )
    return {
        "person": signed.person,
        "csrf_token": signed.csrf,
        "expires_at": _iso(signed.expires_at),
    }


@router.delete(
    "/session", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out (ends the session)"
)
def sign_out(who: Caller, request: Request, response: Response) -> None:
    if who.session is None:
        raise InvalidInput(
            "signing out ends a session; an API token is revoked with DELETE /api/v1/tokens/ID"
        )
    sessions.sign_out(who.ctx, who.session)
    _forget_cookie(response, request)


@router.get("/me", summary="Who is signed in: person, roles, organisation, permissions")
def me(who: Caller) -> dict[str, Any]:
    actor = who.access.actor
    return {
        "person": actor.id,
        "organisation": actor.organisation,
        "unit": actor.unit,
        "roles": sorted(actor.roles),
        "permissions": sorted(who.access.permissions),
        "readable_organisations": sorted(who.access.readable),
        "channel": who.principal.channel.value,
        "needs_second_factor": who.needs_second_factor,
    }


@router.post("/signup", summary="Sign up (or set a new password) with a link's secret")
def sign_up(body: SignUpBody, request: Request) -> dict[str, Any]:
    person = accounts.activate(anonymous(request), body.token, body.password)
    request.state.principal = person
    return {"person": person, "activated": True}


@router.post("/me/password", summary="Change your password (ends every session of yours)")
def change_password(
    body: PasswordBody, who: Caller, request: Request, response: Response
) -> dict[str, Any]:
    _own_session(who, "change a password")
    address = request.client.host if request.client else "unknown"
    accounts.change_password(who.ctx, who.person, body.current, body.new, address=address)
    _forget_cookie(response, request)  # every session ended, this one too
    return {"person": who.person, "password_changed": True, "signed_out": True}


@router.post("/me/second-factor", summary="Start enrolling a second factor (TOTP)")
def start_second_factor(who: Caller) -> dict[str, Any]:
    _own_session(who, "enrol a second factor")
    secret, uri = accounts.start_second_factor(who.ctx, who.person)
    return {"person": who.person, "secret": secret, "otpauth_uri": uri}


@router.post("/me/second-factor/confirm", summary="Confirm the second factor with a code")
def confirm_second_factor(body: CodeBody, who: Caller) -> dict[str, Any]:
    _own_session(who, "enrol a second factor")
    accounts.confirm_second_factor(who.ctx, who.person, body.code)
    return {"person": who.person, "second_factor": True}


def _own_session(who: Who, what: str) -> None:
    """What a person does to their own account is done signed in: an API token (a system's,
    or a copy someone took) may not change how its owner signs in."""
    if not who.by_session:
        raise PermissionDenied(f"only a signed-in person may {what}, not an API token")


def _forget_cookie(response: Response, request: Request) -> None:
    secure = web_of(request).settings.secure_cookies
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=request.url.scheme == "https" if secure is None else secure,
        httponly=True,
        samesite="lax",
    )


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat()
