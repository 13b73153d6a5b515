"""Dossiers (hồ sơ TTHC): receive one, import a CSV of them, declare a delay, list (the CLI's
filters, keyset paging by id), show.

Reads are fenced by organisation (`fence`): another agency's dossier answers 404 with the
words of one that does not exist. Receiving is for the principal's own organisation, by the
principal (the desk officer is who is signed in, never a field of the body); the receipt is
dated by the server's clock unless the body says when the desk received it, which may not
be later than now. A delay is declared by the handling unit, before the due date as the
server's clock says. A dossier is a task: its moves are the task's
(`POST /api/v1/tasks/{id}/moves/{move}`, with the version this answers in its ETag).
"""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from workflow.clock import today_local
from workflow.domain.access import Permission
from workflow.domain.lifecycle import State
from workflow.errors import InvalidInput, NotFound
from workflow.services import dossiers as service
from workflow.web.auth import Caller, Who
from workflow.web.errors import Refused
from workflow.web.routers import fence

router = APIRouter(prefix="/dossiers", tags=["dossiers"])

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
DossierId = Annotated[int, Path(ge=1, le=2**62, description="Dossier id (its task's id)")]
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
UPLOAD_FIELD = "file"
_UNSAFE_NAME = re.compile(r"[^\w.\- ]+")


class ReceiveBody(BaseModel):
    """A dossier as the desk receives it; who receives it is the principal, never a field."""

    model_config = ConfigDict(extra="forbid")
    procedure: Annotated[
        str, Field(min_length=1, max_length=60, description="Procedure code (GET /procedures)")
    ]
    applicant: Annotated[
        str, Field(min_length=1, max_length=500, description="The applicant (person or company)")
    ]
    address: Annotated[str | None, Field(max_length=1000)] = None
    phone: Annotated[str | None, Field(max_length=40)] = None
    email: Annotated[str | None, Field(max_length=200)] = None
    received_at: Annotated[
        dt.datetime | None,
        Field(
            description="When the desk received it (Vietnam time unless an offset is given); "
            "default: now, by the server's clock. Never later than now."
        ),
    ] = None


class DelayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
        Field(description="Why it will be late (printed on the apology letter)"),
    ]
    days: Annotated[
        int,
        Field(
            ge=1,
            le=service.MAX_DELAY_DAYS,
            description="Working days needed beyond the due date",
        ),
    ]


@router.post(
    "",
    status_code=201,
    summary="Receive a dossier: numbered, assigned to its handling unit, due on the calendar",
)
def receive(body: ReceiveBody, who: Caller, request: Request, response: Response) -> dict[str, Any]:
    fence.own_organisation(who, Permission.DOSSIERS_WRITE, None)
    received = (
        fence.instant(body.received_at, "received_at")
        if body.received_at is not None
        else who.ctx.clock.now()
    )
    new = service.NewDossier(
        body.procedure.strip(),
        service.Applicant(body.applicant, body.address, body.phone, body.email),
        received,
    )
    view = service.receive(who.ctx, new, who.person)
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{view['id']}"
    response.headers["ETag"] = fence.etag(view["version"])
    return view


async def _csv_body(request: Request) -> tuple[bytes, str]:
    """The CSV a request carries, and the name its bad rows are reported under: the body
    itself (text/csv), or the part named `file` of a multipart/form-data upload. Read only
    after the caller is known (the dependency comes after `Caller`), within the server's
    body limit (`BodyLimit` stops a larger one as it arrives)."""
    kind = request.headers.get("content-type", "")
    media = kind.split(";", 1)[0].strip().lower()
    if media in CSV_TYPES:
        return await request.body(), "body"
    if media == "multipart/form-data":
        return _uploaded(await request.body(), kind)
    raise Refused(
        415,
        "unsupported_media_type",
        "send the CSV as the body (Content-Type: text/csv) or as the field "
        f"`{UPLOAD_FIELD}` of a multipart/form-data upload",
    )


def _uploaded(body: bytes, content_type: str) -> tuple[bytes, str]:
    """The `file` part of a multipart/form-data body, and its file name (made safe to
    print). Read with the standard library's MIME parser: the upload is one small part,
    and the server takes no multipart dependency for it."""
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    parts = (
        [p for p in message.iter_parts() if isinstance(p, EmailMessage)]
        if isinstance(message, EmailMessage) and message.is_multipart()
        else []
    )
    for part in parts:
        if part.get_param("name", header="content-disposition") == UPLOAD_FIELD:
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                break
            return payload, _safe_name(part.get_filename())
    raise InvalidInput(
        f"the multipart/form-data body has no part named `{UPLOAD_FIELD}` holding the CSV"
    )


def _safe_name(raw: str | None) -> str:
    """The uploaded file's own name (no folder), as the problems name it: letters, digits,
    dots, dashes, spaces; whatever else a client sent is dropped."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("", name).strip()[:100]
    return name or "upload.csv"


CsvBody = Annotated[tuple[bytes, str], Depends(_csv_body)]


@router.post(
    "/import",
    status_code=201,
    summary="Receive many dossiers from a CSV: all rows or none, bad rows named by line",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "procedure,applicant,received_at[,address,phone,email], UTF-8",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {UPLOAD_FIELD: {"type": "string", "format": "binary"}},
                        "required": [UPLOAD_FIELD],
                    }
                },
            },
        }
    },
    responses={
        415: {"description": "Neither text/csv nor multipart/form-data"},
        422: {"description": "Bad rows (`problems`: each `name:line: what`); none was stored"},
    },
)
def import_dossiers(who: Caller, upload: CsvBody) -> dict[str, Any]:
    fence.own_organisation(who, Permission.DOSSIERS_WRITE, None)
    data, name = upload
    rows = service.import_csv_bytes(who.ctx, data, name, who.person)
    return {"count": len(rows), "dossiers": rows}


@router.post(
    "/{dossier_id}/delay",
    summary="The handling unit declares, before the due date, that the dossier will be late",
)
def delay(dossier_id: DossierId, body: DelayBody, who: Caller) -> dict[str, Any]:
    who.access.require(Permission.DOSSIERS_WRITE)
    found = readable_dossier(who, dossier_id)
    who.access.require(Permission.DOSSIERS_WRITE, found["organisation"])
    return service.delay(who.ctx, dossier_id, body.reason, body.days, who.person)


@router.get("", summary="Dossiers matching every filter, by id; `next` is the cursor to page on")
def list_dossiers(
    who: Caller,
    org: Annotated[str | None, Query(max_length=40)] = None,
    state: State | None = None,
    late: Annotated[bool, Query(description="Past their due date, not yet done")] = False,
    as_of: Annotated[dt.date | None, Query(description="Judge `late` as of this date")] = None,
    after: Annotated[
        int | None, Query(ge=0, le=2**62, description="Dossiers after this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict[str, Any]:
    organisations = fence.organisations_read(who, Permission.DOSSIERS_READ, org)
    late_on = None
    if late:
        late_on = fence.day(as_of, "as_of") if as_of else today_local(who.ctx.clock)
    found = service.list_dossiers(
        who.ctx,
        state=state,
        late_on=late_on,
        organisations=organisations,
        after_id=after,
        limit=limit,
    )
    return {"dossiers": found, "next": found[-1]["id"] if len(found) == limit else None}


@router.get(
    "/{dossier_id}", summary="One dossier: applicant, due dates, extension; version in ETag"
)
def show(dossier_id: DossierId, who: Caller, response: Response) -> dict[str, Any]:
    who.access.require(Permission.DOSSIERS_READ)
    found = readable_dossier(who, dossier_id)
    response.headers["ETag"] = fence.etag(found["version"])
    return found


def readable_dossier(who: Who, dossier_id: int) -> dict[str, Any]:
    """The dossier, if the principal reads its organisation; else, as if it did not exist."""
    try:
        found = service.show_dossier(who.ctx, dossier_id)
    except NotFound:
        found = None
    if found is None or not who.access.can_read(found["organisation"]):
        raise NotFound(f"dossier {dossier_id} does not exist")
    return found
