"""Reports: list the stored snapshots, show one (checked against its hash and its audit
entry), generate one (what `planflow flows aggregate` does, without Prefect), download one
as JSON, CSV or HTML; the province roll-up (`GET /reports/province`, for whoever reads every
organisation).

Generating is for the principal's own organisation, requested by the principal, as of
today by the server's clock; its JSON, CSV and HTML are written under the server's output
folder (`reports/`), as the flow writes them. A download is rendered from the stored
snapshot alone (the same bytes each time). Reads are fenced by organisation: another
agency's report answers 404 with the words of one that does not exist.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from workflow.clock import today_local
from workflow.documents import report as document
from workflow.domain.access import Permission
from workflow.errors import InvalidInput, NotFound
from workflow.services import document_formats as formats
from workflow.services import flow_runs
from workflow.services import reports as service
from workflow.web.auth import Caller, Who
from workflow.web.routers import fence

router = APIRouter(prefix="/reports", tags=["reports"])

ReportId = Annotated[int, Path(ge=1, le=2**62, description="Report (snapshot) id")]
Format = Literal["json", "csv", "html", "pdf", "xlsx"]
MEDIA: dict[str, str] = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
RENDER = {"json": document.render_json, "csv": document.render_csv, "html": document.render_html}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class GenerateBody(BaseModel):
    """A report asked for; who asks is the principal, the day the server's."""

    model_config = ConfigDict(extra="forbid")
    organisation: Annotated[
        str | None, Field(max_length=40, description="Default: your own (no other allowed)")
    ] = None
    period: Annotated[
        str, Field(min_length=4, max_length=10, description="A quarter 2024Q2, 2024H1 or 2024")
    ]
    window: Annotated[
        Literal["reporting", "calendar"],
        Field(description="reporting: 15th to 14th (Decree 09/2019/NĐ-CP); calendar: quarters"),
    ] = "reporting"
    revise: Annotated[
        bool, Field(description="Make a new revision (keeps the old one); needs a reason")
    ] = False
    reason: Annotated[
        str | None, Field(max_length=service.MAX_REASON, description="Why it is made again")
    ] = None


@router.get("", summary="Stored reports, every revision, oldest first")
def list_reports(
    who: Caller,
    org: Annotated[str | None, Query(max_length=40)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
) -> dict[str, Any]:
    readable = set(fence.organisations_read(who, Permission.REPORTS_READ, org))
    found = service.list_snapshots(who.ctx, org, period)
    return {"reports": [s for s in found if s["organisation"] in readable]}


@router.get(
    "/province",
    summary="The province roll-up: every organisation's tasks of the period, ranked by "
    "on-time rate",
    responses={403: {"description": "The caller does not read every organisation"}},
)
def province(
    who: Caller,
    period: Annotated[str, Query(min_length=4, max_length=10, description="2024Q2, 2024H1, 2024")],
    window: Annotated[
        Literal["reporting", "calendar"],
        Query(description="reporting: 15th to 14th (Decree 09/2019/NĐ-CP); calendar: quarters"),
    ] = "reporting",
) -> dict[str, Any]:
    """Computed now, as of the server's clock, stored nowhere: for whoever reads every
    organisation loaded (their organisation's file `oversees: all`)."""
    who.access.require(Permission.REPORTS_READ)
    return service.province(who.ctx, period.strip(), window, who.access)


@router.post(
    "",
    summary="The organisation's report for a period: the stored snapshot, or a new one",
    responses={
        200: {"description": "The stored snapshot (`created`: false)"},
        201: {"description": "A new snapshot (or revision), its files written"},
        409: {"description": "The stored snapshot no longer matches its hash"},
    },
)
def generate(
    body: GenerateBody, who: Caller, request: Request, response: Response
) -> dict[str, Any]:
    org = fence.own_organisation(who, Permission.REPORTS_WRITE, body.organisation)
    reason = (body.reason or "").strip() or None
    if body.revise and reason is None:
        raise InvalidInput("a revision needs `reason`: why the report is made again")
    if reason is not None and not body.revise:
        raise InvalidInput("`reason` goes with `revise` (a first report needs no reason)")
    ctx = who.ctx
    asked = service.Request(org, body.period.strip(), body.window, body.revise, reason, who.person)
    service.check(ctx, asked)  # every refusal, before anything is written (the run included)
    folder = fence.output_folder(request, "reports")
    flow_runs.record(ctx, "aggregate", org, today_local(ctx.clock))
    outcome = service.generate(ctx, asked, folder)
    files = service.write_files(outcome.report, folder, outcome.documents)
    snapshot = outcome.report["snapshot"]
    response.status_code = 201 if outcome.created else 200
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{snapshot}"
    return {
        **outcome.report,
        "created": outcome.created,
        "files": files,
        "download": {kind: _download_path(request, snapshot, kind) for kind in MEDIA},
    }


@router.get(
    "/{report_id}",
    summary="One stored report, whole, checked against its hash and its audit entry",
    responses={409: {"description": "The snapshot or its audit entry was altered"}},
)
def show(report_id: ReportId, who: Caller) -> dict[str, Any]:
    who.access.require(Permission.REPORTS_READ)
    _readable_report(who, report_id)
    return service.show(who.ctx, report_id)


@router.get(
    "/{report_id}/download",
    summary="A stored report as a file: JSON, CSV, HTML, PDF or XLSX, rendered from its snapshot",
    response_class=Response,
    responses={
        200: {
            "content": {m.split(";")[0]: {} for m in MEDIA.values()},
        },
        409: {"description": "The snapshot or its audit entry was altered"},
    },
)
def download(report_id: ReportId, who: Caller, format: Format = "json") -> Response:
    who.access.require(Permission.REPORTS_READ)
    _readable_report(who, report_id)
    report = service.show(who.ctx, report_id)
    name = _UNSAFE.sub(
        "-",
        f"{report['organisation']['code']}-{report['period']}-{report['window']['rule']}"
        f"-r{report['revision']}",
    )
    body = RENDER[format](report) if format in RENDER else formats.report_file(report, format)
    return Response(
        body,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )


def _readable_report(who: Who, report_id: int) -> None:
    """Refuse, as if it did not exist, a report of an organisation the principal does not
    read. Asked of the list of snapshots before the snapshot itself is read and checked:
    another agency's report, sound or altered, answers alike."""
    for found in service.list_snapshots(who.ctx):
        if found["id"] == report_id and who.access.can_read(found["organisation"]):
            return
    raise NotFound(f"report {report_id} does not exist")


def _download_path(request: Request, snapshot: int, kind: str) -> str:
    return f"{request.url.path.rstrip('/')}/{snapshot}/download?format={kind}"
