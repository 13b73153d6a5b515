"""API tokens: create (its secret answered once, only its hash kept), list, revoke.

An administrator creates tokens for the people of their organisation, a person for
themselves (the services decide); the permissions asked must be among those of the person's
roles, for 1 to 366 days.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from workflow.services import tokens
from workflow.web.auth import Caller

router = APIRouter(prefix="/tokens", tags=["tokens"])


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person: Annotated[
        str | None,
        Field(max_length=80, description="Who answers for the token (default: yourself)"),
    ] = None
    permissions: Annotated[
        list[Annotated[str, Field(max_length=40)]],
        Field(min_length=1, max_length=20, description="e.g. tasks:read, reports:read"),
    ]
    days: Annotated[int, Field(ge=1, le=366, description="Valid for this many days")] = 30
    label: Annotated[str, Field(min_length=1, max_length=200, description="What it is for")]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Issue a token (shown once)")
def create(body: TokenBody, who: Caller) -> dict[str, Any]:
    issued = tokens.create(
        who.ctx, body.person or who.person, list(body.permissions), body.days, body.label
    )
    return {
        "id": issued.id,
        "secret": issued.secret,
        "person": issued.person,
        "organisation": issued.organisation,
        "permissions": list(issued.permissions),
        "expires_at": issued.expires_at.astimezone(dt.UTC).isoformat(),
    }


@router.get("", summary="Tokens of an organisation (never their secrets)")
def list_tokens(
    who: Caller, org: Annotated[str | None, Query(max_length=40)] = None
) -> dict[str, Any]:
    return {"tokens": tokens.list_tokens(who.ctx, org)}


@router.delete(
    "/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a token at once"
)
def revoke(token_id: Annotated[int, Path(ge=1, le=2**62)], who: Caller) -> None:
    tokens.revoke(who.ctx, token_id)
