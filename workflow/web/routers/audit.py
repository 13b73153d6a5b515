"""The audit log: query (keyset paging by seq), verify, anchor, export (streamed).

Everything here needs the `audit:read` permission. Query and export are fenced to the
organisations the principal may read (entries of no organisation, such as the database's
own, only for whoever may read every organisation loaded).

Verify and anchor speak of the whole chain (its length, its head, the first broken entry,
whoever's it is), so they are for those who answer for the whole of it: a person whose
organisation oversees every organisation loaded (the province's auditors, `oversees: all`),
or an administrator. Anyone else with `audit:read` gets 403.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from workflow.clock import LOCAL_TZ
from workflow.documents import audit_export, workbook
from workflow.domain.access import Permission
from workflow.domain.audit_chain import FIELDS, canonical_json
from workflow.domain.filters import AuditFilter
from workflow.domain.roles import Role
from workflow.errors import AuditVerificationFailed, InvalidInput, PermissionDenied
from workflow.services import audit_log, organisations
from workflow.web.auth import Caller, Who

router = APIRouter(prefix="/audit", tags=["audit"])

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
EXPORT_BATCH = 5000


@router.get("", summary="Entries matching every filter, oldest first; `next` pages on")
def query(
    who: Caller,
    task: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    plan: Annotated[str | None, Query(max_length=120)] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    actor: Annotated[str | None, Query(max_length=80)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    since: Annotated[
        str | None, Query(description="From this date or time (Vietnam time unless given)")
    ] = None,
    until: Annotated[
        str | None, Query(description="Up to this date (inclusive) or time (exclusive)")
    ] = None,
    after: Annotated[
        int | None, Query(ge=0, le=2**62, description="Entries after this seq")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict[str, Any]:
    fence = audit_fence(who)
    entries = audit_log.query(
        who.ctx,
        AuditFilter(
            organisations=fence,
            task_id=task,
            plan_id=plan,
            unit=unit,
            actor=actor,
            action=action,
            since=day_bound(since, "since", end=False),
            until=day_bound(until, "until", end=True),
            after_seq=after,
            limit=limit,
        ),
    )
    return {"entries": entries, "next": entries[-1]["seq"] if len(entries) == limit else None}


@router.get("/verify", summary="Recompute the whole hash chain (optionally against an anchor)")
def verify(
    who: Caller,
    anchor: Annotated[
        str | None, Query(max_length=100, description="SEQ:HASH from an earlier anchor")
    ] = None,
) -> dict[str, Any]:
    require_whole_chain(who)
    checked = audit_log.parse_anchor(anchor) if anchor else None
    # One pass in this process: a web server's thread does not fork workers.
    return audit_log.verify(who.ctx, checked, workers=1).as_json()


@router.get("/anchor", summary="The chain's head (SEQ:HASH), verified first")
def anchor(who: Caller) -> dict[str, Any]:
    require_whole_chain(who)
    result = audit_log.verify(who.ctx, workers=1)
    if not result.ok:
        raise AuditVerificationFailed(f"the audit log is broken: {result.problem}; no anchor")
    if not result.head_seq:
        raise InvalidInput("the audit log is empty: there is nothing to anchor yet")
    return {
        "ok": True,
        "seq": result.head_seq,
        "hash": result.head_hash,
        "anchor": f"{result.head_seq}:{result.head_hash}",
    }


@router.get(
    "/export",
    summary="Every readable entry, oldest first: JSON lines exactly as hashed, or CSV or XLSX "
    "to read",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {
                "application/x-ndjson": {},
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
def export(who: Caller, format: Literal["jsonl", "csv", "xlsx"] = "jsonl") -> Response:
    fence = audit_fence(who)
    if format == "xlsx":  # a workbook is one zip: built whole, then sent
        return Response(
            audit_export.xlsx(as_stored(e) for page in _pages(who, fence) for e in page)[0],
            media_type=workbook.MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="audit.xlsx"'},
        )
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        _exported(who, fence, format),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit.{format}"'},
    )


def _exported(who: Who, fence: frozenset[str] | None, fmt: str) -> Iterator[str]:
    """The entries a page at a time (each its own short read: an append-only log pages by
    seq without holding one transaction open for the whole download)."""
    after = 0
    first = True
    while True:
        page = audit_log.query(
            who.ctx, AuditFilter(organisations=fence, after_seq=after, limit=EXPORT_BATCH)
        )
        if not page and not first:
            return
        stored = [as_stored(entry) for entry in page]
        out = io.StringIO()
        if fmt == "csv":
            audit_export.csv(stored, out)
            text = out.getvalue()
            yield text if first else text.split("\n", 1)[1]  # one header, on the first page
        else:
            audit_export.jsonl(stored, out)
            yield out.getvalue()
        first = False
        if len(page) < EXPORT_BATCH:
            return
        after = page[-1]["seq"]


def as_stored(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as the query decodes it, back as stored: `data` its canonical JSON text
    (which decoding and encoding again gives back byte for byte)."""
    row = {name: entry[name] for name in FIELDS}
    row["data"] = canonical_json(entry["data"])
    return row


def audit_fence(who: Who) -> frozenset[str] | None:
    """The organisations whose entries the principal may read; None: every entry."""
    who.access.require(Permission.AUDIT_READ)
    if _reads_everything(who):
        return None
    return who.access.readable


def _reads_everything(who: Who) -> bool:
    loaded = {row["code"] for row in organisations.list_organisations(who.ctx)}
    return loaded <= who.access.readable


def require_whole_chain(who: Who) -> None:
    who.access.require(Permission.AUDIT_READ)
    if Role.ADMIN in who.access.actor.roles or _reads_everything(who):
        return
    raise PermissionDenied(
        f"{who.person} may not verify the whole audit log: it is for an organisation that "
        "oversees every organisation (oversees: all) or an administrator"
    )


def day_bound(raw: str | None, what: str, *, end: bool) -> dt.datetime | None:
    """A date means the whole day in Vietnam time: `since` its start, `until` its end."""
    if raw is None:
        return None
    text = raw.strip()
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"{what} {text[:40]!r} is not a date or time; expected YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    value = value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
    if end and len(text) == 10:  # YYYY-MM-DD: include that whole day
        value += dt.timedelta(days=1)
    return value


def _pages(who: Who, fence: frozenset[str] | None) -> Iterator[list[dict[str, Any]]]:
    """The readable entries a page at a time, as `_exported` reads them."""
    after = 0
    while True:
        page = audit_log.query(
            who.ctx, AuditFilter(organisations=fence, after_seq=after, limit=EXPORT_BATCH)
        )
        if page:
            yield page
        if len(page) < EXPORT_BATCH:
            return
        after = page[-1]["seq"]
