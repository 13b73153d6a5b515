"""Inspections: draw (what `planflow flows inspect` does, without Prefect), list, show,
explain, and an inspection task's record (its template, its submission).

A draw is made by the principal (an inspector; a redraw, a member of the office) for their
own organisation, on the server's clock, with a seed nobody chooses (derived from the
organisation, the period and the audit log's head: `sampling.SeedDerivation`): a seed a
client chose would let it pick which units are inspected, so the body has no `seed` (422).
Like the flow, it returns the period's stored draw when there is one, and then concludes
every verified inspection record of the organisation (the notices written under the
server's output folder, `inspections/`).

Reads are fenced by organisation: another agency's draw or task answers 404 with the words
of one that does not exist. A record is submitted by the principal (an inspector) on the
task's version it names (`If-Match`), as a move is.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from workflow.clock import today_local
from workflow.definitions.source import SourceError, SourceFile, parse_text
from workflow.domain.access import Permission
from workflow.domain.inspection import Loc
from workflow.errors import Conflict, InvalidInput, NotFound, RecordInvalid
from workflow.services import flow_runs
from workflow.services import inspection_records as records
from workflow.services import inspections as service
from workflow.services import tasks as task_service
from workflow.web.auth import Caller, Who
from workflow.web.errors import Refused, planflow_error_response
from workflow.web.routers import fence
from workflow.web.routers.tasks import readable_task

router = APIRouter(prefix="/inspections", tags=["inspections"])

InspectionId = Annotated[int, Path(ge=1, le=2**62, description="Inspection (draw) id")]
TaskId = Annotated[int, Path(ge=1, le=2**62, description="Inspection task id")]
CONCLUDE_BATCH = 50  # as the flow: two documents each, a short transaction per batch
JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
RECORD_NAME = "record"  # how a YAML record's problems name it: record:LINE:COLUMN


class DrawBody(BaseModel):
    """A draw asked for; who draws is the principal; the seed is derived, never given."""

    model_config = ConfigDict(extra="forbid")
    organisation: Annotated[
        str | None, Field(max_length=40, description="Default: your own (no other allowed)")
    ] = None
    period: Annotated[
        str,
        Field(min_length=4, max_length=10, description="2024 (a year), 2024H1 or 2024Q3"),
    ]
    ratio: Annotated[
        float | None,
        Field(
            gt=0, le=1, description="Share of units to inspect, at least 0.3; default: the file's"
        ),
    ] = None
    redraw: Annotated[
        bool, Field(description="Draw again, keeping the old draw (the office's, with a reason)")
    ] = False
    reason: Annotated[str | None, Field(max_length=1000, description="Why a redraw")] = None


@router.post(
    "",
    summary="Draw the period's units (or return its stored draw), then conclude every verified "
    "inspection record",
    responses={
        200: {"description": "The period's stored draw (`existing`: true), and conclusions"},
        201: {"description": "A new draw (or a redraw), and conclusions"},
    },
)
def draw(body: DrawBody, who: Caller, request: Request, response: Response) -> dict[str, Any]:
    org = fence.own_organisation(who, Permission.INSPECTIONS_WRITE, body.organisation)
    reason = (body.reason or "").strip() or None
    if body.redraw and reason is None:
        raise InvalidInput("a redraw needs `reason`: why the draw is redone")
    if reason is not None and not body.redraw:
        raise InvalidInput("`reason` goes with `redraw`; without it the stored draw is returned")
    period = body.period.strip()
    ctx = who.ctx
    # Every refusal the draw would make, before anything is written (the run included).
    service.preflight(ctx, org, period, who.person, ratio=body.ratio, redraw_reason=reason)
    folder = fence.output_folder(request, "inspections")
    flow_runs.record(ctx, "inspection", org, today_local(ctx.clock))
    drawn = service.draw(ctx, org, period, who.person, ratio=body.ratio, redraw_reason=reason)
    pending = records.pending_conclusions(ctx, org)
    conclusions: list[dict[str, Any]] = []
    for start in range(0, len(pending), CONCLUDE_BATCH):
        batch = pending[start : start + CONCLUDE_BATCH]
        conclusions += [c.as_json() for c in records.conclude(ctx, batch, folder)]
    response.status_code = 200 if drawn.existing else 201
    return {**drawn.as_json(), "conclusions": conclusions}


@router.get("", summary="Every draw (redraws included, superseded ones name their successor)")
def list_draws(
    who: Caller,
    org: Annotated[str | None, Query(max_length=40)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
) -> dict[str, Any]:
    readable = set(fence.organisations_read(who, Permission.INSPECTIONS_READ, org))
    found = service.list_draws(who.ctx, org, period)
    return {"inspections": [d for d in found if d["organisation"] in readable]}


@router.get("/{inspection_id}", summary="A draw with its units' tasks, checklists, conclusions")
def show(inspection_id: InspectionId, who: Caller) -> dict[str, Any]:
    who.access.require(Permission.INSPECTIONS_READ)
    _readable_draw(who, inspection_id)
    return service.show(who.ctx, inspection_id)


@router.get(
    "/{inspection_id}/explain",
    summary="Re-derive the draw from its audit entry alone: why each unit was (not) chosen",
    responses={409: {"description": "The recorded result does not follow from its inputs"}},
)
def explain(inspection_id: InspectionId, who: Caller) -> dict[str, Any]:
    who.access.require(Permission.INSPECTIONS_READ)
    _readable_draw(who, inspection_id)
    return service.explain(who.ctx, inspection_id)


@router.get(
    "/tasks/{task_id}/record/template",
    summary="A record to fill in (YAML) with the unit's checklist",
    response_class=Response,
    responses={200: {"content": {"application/yaml": {}}}},
)
def record_template(task_id: TaskId, who: Caller) -> Response:
    who.access.require(Permission.INSPECTIONS_READ)
    readable_task(who, task_id)
    text = records.template(who.ctx, task_id)
    return Response(text, media_type="application/yaml; charset=utf-8")


async def _record_body(request: Request) -> tuple[object, SourceFile | None]:
    """The record a request carries (read once the caller is known): JSON, or YAML as the
    template is (then its problems say where: `record:LINE:COLUMN`)."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    raw = await request.body()
    if media in JSON_TYPES:
        try:
            return json.loads(raw), None
        except (ValueError, RecursionError):  # not JSON, or nested past any record's depth
            raise InvalidInput("the record is not valid JSON") from None
    if media in YAML_TYPES:
        try:
            source = parse_text(raw.decode("utf-8"), RECORD_NAME)
        except UnicodeDecodeError:
            raise InvalidInput("the record is not UTF-8 text") from None
        except SourceError as exc:
            raise InvalidInput(str(exc.problems[0])) from None
        return source.data, source
    raise Refused(
        415,
        "unsupported_media_type",
        "send the record as JSON (application/json) or YAML (application/yaml)",
    )


RecordBody = Annotated[tuple[object, SourceFile | None], Depends(_record_body)]


@router.post(
    "/tasks/{task_id}/record",
    summary="Submit an inspection task with its record (Biên bản kiểm tra), on its version",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The record, as the template's YAML or as JSON",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/yaml": {"schema": {"type": "string"}},
            },
        }
    },
    responses={
        409: {"description": "The task changed since that version, or cannot be submitted"},
        415: {"description": "Neither JSON nor YAML"},
        428: {"description": "No If-Match header"},
    },
)
def submit_record(
    task_id: TaskId,
    who: Caller,
    response: Response,
    record: RecordBody,
    if_match: Annotated[
        str | None, Header(description="The version of the task the record is submitted on")
    ] = None,
) -> Any:
    expected = fence.expected_version(if_match, "a record")
    who.access.require(Permission.INSPECTIONS_WRITE)
    task = readable_task(who, task_id)
    who.access.require(Permission.INSPECTIONS_WRITE, task.organisation)
    raw, source = record
    try:
        result = records.submit_record(who.ctx, task_id, who.person, raw, expected_version=expected)
    except RecordInvalid as exc:
        raise _located(exc, source) from None
    except Conflict as exc:
        current = task_service.get_task(who.ctx, task_id)
        answer: JSONResponse = planflow_error_response(
            exc, task=task_id, version=current.version, state=str(current.state)
        )
        answer.headers["ETag"] = fence.etag(current.version)
        return answer
    response.headers["ETag"] = fence.etag(result["task"]["version"])
    return result


def _located(exc: RecordInvalid, source: SourceFile | None) -> RecordInvalid:
    """The record's problems, each where it is: `record:LINE:COLUMN` in a YAML record, the
    path to it (`findings[2].note`) in a JSON one."""
    located = [
        (_place(loc) if source is None else _position(source, loc), message)
        for loc, message in exc.problems
    ]
    first_at, first = located[0]
    more = f" (and {len(located) - 1} more)" if len(located) > 1 else ""
    return RecordInvalid(located, f"{first_at}: {first}{more}")


def _position(source: SourceFile, loc: Loc) -> str:
    line, column = source.where(tuple(loc))
    return f"{RECORD_NAME}:{line}:{column}"


def _place(loc: Loc) -> str:
    """findings[2].note: a place in the record, counted from 1 as people count."""
    if not loc:
        return RECORD_NAME
    text = str(loc[0])
    for part in loc[1:]:
        text += f"[{part + 1}]" if isinstance(part, int) else f".{part}"
    return text


def _readable_draw(who: Who, inspection_id: int) -> str:
    """The draw's organisation, if the principal reads it; else, as if it did not exist.
    Asked of the draws' list (a few a year per agency), before anything of the draw itself
    is read: another agency's draw, sound or broken, answers alike."""
    for found in service.list_draws(who.ctx):
        if found["inspection"] == inspection_id and who.access.can_read(found["organisation"]):
            return str(found["organisation"])
    raise NotFound(f"inspection {inspection_id} does not exist")
