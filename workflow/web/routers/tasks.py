"""Tasks: list (the CLI's filters, keyset paging by id), show, history, and the moves.

Every read is fenced by organisation: a task of an organisation the principal may not read
answers 404 with the same words as a task that does not exist. A move names the version the
client saw (`If-Match: <version>`, as `GET /tasks/{id}` answers in its ETag): of several
clients moving the same version, exactly one wins; the others get 409 `conflict` with the
task's current version, and nothing of theirs is written. Who moves is always the principal.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from workflow.clock import today_local
from workflow.domain.access import Permission
from workflow.domain.filters import TaskFilter
from workflow.domain.lifecycle import Move, State
from workflow.domain.tasks import TaskView
from workflow.errors import Conflict, NotFound, OtherAgency, PermissionDenied
from workflow.services import tasks as task_service
from workflow.web.auth import Caller, Who
from workflow.web.errors import planflow_error_response
from workflow.web.json import Json, answer
from workflow.web.routers import fence

router = APIRouter(prefix="/tasks", tags=["tasks"])

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
TaskId = Annotated[int, Path(ge=1, le=2**62, description="Task id")]


class MoveBody(BaseModel):
    """What a move carries besides who makes it (the principal, never a field here)."""

    model_config = ConfigDict(extra="forbid")
    note: Annotated[
        str | None,
        Field(
            max_length=4000,
            description="What was delivered (submit), the reason (return, reassign, withdraw)",
        ),
    ] = None
    to_unit: Annotated[
        str | None, Field(max_length=40, description="The new lead unit (reassign)")
    ] = None


@router.get(
    "",
    summary="Tasks matching every filter, by id; `next` is the cursor to page on",
    response_class=Json,
)
def list_tasks(
    who: Caller,
    org: Annotated[str | None, Query(max_length=40)] = None,
    plan: Annotated[str | None, Query(max_length=120)] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    state: State | None = None,
    overdue: Annotated[bool, Query(description="Past their due date, not verified")] = False,
    as_of: Annotated[dt.date | None, Query(description="Judge `overdue` as of this date")] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Tasks after this id")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Json:
    who.access.require(Permission.TASKS_READ)
    if org is not None and not who.access.can_read(org):
        raise PermissionDenied(f"{who.person} may not read the tasks of {org}")
    overdue_on = (as_of or today_local(who.ctx.clock)) if overdue else None
    found = task_service.list_tasks(
        who.ctx,
        TaskFilter(
            organisation=org,
            organisations=who.access.readable,
            plan=plan,
            unit=unit,
            state=state,
            overdue_on=overdue_on,
            after_id=after,
            limit=limit,
        ),
    )
    return answer(
        {
            "tasks": [task.as_json() for task in found],
            "next": found[-1].id if len(found) == limit else None,
        }
    )


@router.get(
    "/{task_id}", summary="One task, every field; its version in the ETag", response_class=Json
)
def show(task_id: TaskId, who: Caller) -> Json:
    who.access.require(Permission.TASKS_READ)
    task = readable_task(who, task_id)
    return answer(task.as_json(), headers={"ETag": _etag(task)})


@router.get("/{task_id}/history", summary="The task's audit entries, oldest first")
def history(task_id: TaskId, who: Caller) -> dict[str, Any]:
    who.access.require(Permission.TASKS_READ)
    readable_task(who, task_id)
    return {"task": task_id, "entries": task_service.history(who.ctx, task_id)}


@router.post(
    "/{task_id}/moves/{move}",
    summary="Move the task (start, submit, return, verify, close, reassign, withdraw)",
    responses={
        409: {"description": "The task changed since that version, or the move is not allowed"},
        428: {"description": "No If-Match header"},
    },
)
def make_move(
    task_id: TaskId,
    move: Move,
    who: Caller,
    if_match: Annotated[
        str | None,
        Header(description="The version of the task the move is made on (its ETag)"),
    ] = None,
    body: MoveBody | None = None,
) -> Any:
    expected = fence.expected_version(if_match, "a move")
    who.access.require(Permission.TASKS_MOVE)
    body = body or MoveBody()
    try:
        moved = task_service.move(
            who.ctx,
            task_id,
            move,
            who.person,
            note=body.note,
            to_unit=body.to_unit,
            expected_version=expected,
        )
    except OtherAgency as exc:
        # The move's own read found the task in another agency (writes are for one's own):
        # to whoever may not read that agency, as if it did not exist.
        if not who.access.can_read(exc.organisation):
            raise NotFound(f"task {task_id} does not exist") from None
        raise
    except Conflict as exc:
        current = task_service.get_task(who.ctx, task_id)
        stale: JSONResponse = planflow_error_response(
            exc, task=task_id, version=current.version, state=str(current.state)
        )
        stale.headers["ETag"] = _etag(current)
        return stale
    return answer(moved.as_json(), headers={"ETag": _etag(moved)})


def readable_task(who: Who, task_id: int) -> TaskView:
    """The task, if the principal may read its organisation; else, as if it did not exist."""
    try:
        task = task_service.get_task(who.ctx, task_id)
    except NotFound:
        task = None
    if task is None or not who.access.can_read(task.organisation):
        raise NotFound(f"task {task_id} does not exist")
    return task


def _etag(task: TaskView) -> str:
    return fence.etag(task.version)
