"""Account administration, for administrators of the person's organisation: invite, list,
disable, enable, reset, revoke sessions. The services decide who may (an administrator of
the same organisation); here the credential must at least carry `accounts:admin`, so that a
token scoped to reading reports administers nothing.

An invitation's (or a reset's) link holds its secret: it is answered once, to the
administrator who asked, never stored or logged in clear.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from workflow.domain.access import Permission
from workflow.services import accounts
from workflow.services.accounts import Invitation
from workflow.web.auth import Caller, web_of

router = APIRouter(prefix="/accounts", tags=["accounts"])

PersonId = Annotated[str, Path(min_length=1, max_length=80, description="Person id")]


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=1000, description="Why, for the log")]


@router.get("", summary="Accounts of the people of an organisation")
def list_accounts(
    who: Caller, org: Annotated[str | None, Query(max_length=40)] = None
) -> dict[str, Any]:
    who.access.require(Permission.ACCOUNTS_ADMIN)
    return {"accounts": accounts.list_accounts(who.ctx, org)}


@router.post("/{person}/invite", status_code=201, summary="A one-time sign-up link (72 h)")
def invite(person: PersonId, who: Caller, request: Request) -> dict[str, Any]:
    who.access.require(Permission.ACCOUNTS_ADMIN)
    return _invitation(accounts.invite(who.ctx, person, web_of(request).settings.public_url))


@router.post("/{person}/reset", status_code=201, summary="A one-time link to set a new password")
def reset(person: PersonId, who: Caller, request: Request) -> dict[str, Any]:
    who.access.require(Permission.ACCOUNTS_ADMIN)
    return _invitation(accounts.reset(who.ctx, person, web_of(request).settings.public_url))


@router.post("/{person}/disable", summary="Disable the account (ends its sessions)")
def disable(person: PersonId, body: ReasonBody, who: Caller) -> dict[str, Any]:
    who.access.require(Permission.ACCOUNTS_ADMIN)
    accounts.disable(who.ctx, person, body.reason)
    return {"person": person, "disabled": True}


@router.post("/{person}/enable", summary="Enable a disabled account")
def enable(person: PersonId, who: Caller) -> dict[str, Any]:
    who.access.require(Permission.ACCOUNTS_ADMIN)
    accounts.enable(who.ctx, person)
    return {"person": person, "disabled": False}


@router.post("/{person}/revoke-sessions", summary="End every session of the person")
def revoke_sessions(person: PersonId, body: ReasonBody, who: Caller) -> dict[str, Any]:
    who.access.require(Permission.ACCOUNTS_ADMIN)
    ended = accounts.revoke_sessions(who.ctx, person, body.reason)
    return {"person": person, "sessions_revoked": ended}


def _invitation(found: Invitation) -> dict[str, Any]:
    return {
        "person": found.person,
        "link": found.link,
        "expires_at": found.expires_at.astimezone(dt.UTC).isoformat(),
    }
