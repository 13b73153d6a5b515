"""The administrative procedures (TTHC) of the organisations the principal reads: their
legal processing time in working days, the unit that handles them (the CLI's `procedures
list`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from workflow.domain.access import Permission
from workflow.services import dossiers as dossier_service
from workflow.web.auth import Caller
from workflow.web.routers import fence

router = APIRouter(prefix="/procedures", tags=["procedures"])


@router.get("", summary="Procedures, by organisation and code")
def list_procedures(
    who: Caller, org: Annotated[str | None, Query(max_length=40)] = None
) -> dict[str, Any]:
    readable = set(fence.organisations_read(who, Permission.TASKS_READ, org))
    found = dossier_service.list_procedures(who.ctx, org)
    return {"procedures": [p for p in found if p["organisation"] in readable]}
