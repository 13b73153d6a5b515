"""The task pages: "Việc của tôi" (my unit's work), the inbox (the office's verifications,
the leaders' closings), a task's page, and the form every move is posted with.

A move goes through `services.tasks.move`, as the API's does, with the version the page
showed: a page left open while someone else moved the task is refused by the service's
compare-and-set, and answered with the fresh task and a message, never overwritten.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from workflow.clock import today_local
from workflow.domain.lifecycle import Move, MoveRequest, NotTheSubmitter, State
from workflow.domain.task_moves import MovesNow, refusal_of
from workflow.errors import Conflict, NotFound, OtherAgency, PermissionDenied, PlanflowError
from workflow.services import task_pages
from workflow.services import tasks as task_service
from workflow.web.auth import web_of
from workflow.web.pages import drafts, words
from workflow.web.pages.base import (
    Person,
    csrf_ok,
    here,
    message_page,
    person_or_redirect,
    read_form,
    redirect,
    render,
)

router = APIRouter(include_in_schema=False)
INBOX = "/inbox"
MY_WORK = "/my-work"


def explained(moves: MovesNow, submitter: str | None) -> list[str]:
    """The refusals worth saying on a page: those a person may not guess (four-eyes)."""
    return [
        words.refusal(r, submitter) for r in moves.refused if isinstance(r.guard, NotTheSubmitter)
    ]


@router.get(MY_WORK)
def my_work(request: Request) -> Response:
    found = person_or_redirect(request, here(request))
    if not isinstance(found, Person):
        return found
    query = request.query_params
    raw_state = query.get("state")
    state = State(raw_state) if raw_state in {s.value for s in State} else None
    today = today_local(web_of(request).settings.clock)
    try:
        work = task_pages.my_work(
            found.ctx,
            found.who.access,
            today,
            plan=query.get("plan") or None,
            state=state,
            period=query.get("period") or None,
        )
    except PermissionDenied:
        return _denied(request, found)
    return render(
        request,
        "my_work.html",
        found,
        work=work,
        chosen={
            "plan": work.plan or "",
            "state": work.state.value if work.state else "",
            "period": work.period or "",
        },
        states=list(State),
    )


@router.get(INBOX)
def inbox(request: Request) -> Response:
    found = person_or_redirect(request, here(request))
    if not isinstance(found, Person):
        return found
    try:
        return _inbox(request, found, _done(request), None)
    except PermissionDenied:
        return _denied(request, found)


def _inbox(request: Request, person: Person, notice: str | None, error: str | None) -> Response:
    box = task_pages.inbox(person.ctx, person.who.access)
    names = task_pages.people_names(person.ctx, person.who.access.actor.organisation)
    return render(
        request,
        "inbox.html",
        person,
        box=box,
        names=names,
        explained=explained,
        notice=notice,
        error=error,
    )


def _done(request: Request) -> str | None:
    move = request.query_params.get("done")
    return words.DONE.get(Move(move)) if move in {m.value for m in Move} else None


@router.get("/tasks/{task_id}")
def task(request: Request, task_id: str) -> Response:
    found = person_or_redirect(request, here(request))
    if not isinstance(found, Person):
        return found
    number = _task_id(task_id)
    if number is None:
        return _not_found(request, found)
    draft = drafts.take(request, number)
    if draft is None:
        return _task_page(request, found, number, notice=_done(request))
    kept = (
        "Nội dung bạn đã nhập trước khi phiên đăng nhập hết hạn vẫn được giữ trong biểu mẫu: "
        "hãy kiểm tra rồi gửi lại."
    )
    response = _task_page(request, found, number, notice=kept, typed=draft)
    drafts.forget(request, response)
    return response


def _task_page(
    request: Request,
    person: Person,
    task_id: int,
    *,
    notice: str | None = None,
    error: str | None = None,
    stale: str | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    today = today_local(web_of(request).settings.clock)
    try:
        page = task_pages.task_page(person.ctx, person.who.access, task_id, today)
    except NotFound:
        return _not_found(request, person)
    except PermissionDenied:
        return _denied(request, person)
    submitter = page.people.get(page.task.submitted_by or "", page.task.submitted_by)
    return render(
        request,
        "task.html",
        person,
        page=page,
        task=page.task,
        explanations=explained(page.moves, submitter),
        notice=notice,
        error=error,
        stale=stale,
        typed=typed or {},
    )


@router.post("/tasks/{task_id}/move")
async def move(request: Request, task_id: str) -> Response:
    form = await read_form(request)
    number = _task_id(task_id)
    back = INBOX if form.get("from") == "inbox" else f"/tasks/{number or ''}"
    found = await run_in_threadpool(person_or_redirect, request, back)
    if not isinstance(found, Person):
        if number is not None and back != INBOX:
            drafts.keep(request, found, number, form)  # put back after the sign-in
        return found
    if number is None:
        return _not_found(request, found)
    if not csrf_ok(found, form):
        return message_page(
            request,
            found,
            403,
            "Không thực hiện được",
            "Biểu mẫu đã cũ hoặc không đến từ trang này: hãy tải lại trang rồi thử lại.",
        )
    return await run_in_threadpool(_move, request, found, number, form, back)


def _move(request: Request, person: Person, task_id: int, form: dict[str, str], back: str) -> Any:
    raw_move, raw_version = form.get("move", ""), form.get("version", "")
    note = form.get("note", "").strip()[:4000] or None
    to_unit = form.get("to_unit", "").strip()[:40] or None
    typed = {"move": raw_move, "note": note or "", "to_unit": to_unit or ""}
    from_inbox = back == INBOX
    if raw_move not in {m.value for m in Move} or not raw_version.isdigit():
        return _refused(request, person, task_id, from_inbox, "Biểu mẫu không hợp lệ.", typed)
    which = Move(raw_move)
    try:
        task_service.move(
            person.ctx,
            task_id,
            which,
            person.who.person,
            note=note,
            to_unit=to_unit,
            expected_version=int(raw_version),
        )
    except (NotFound, OtherAgency):
        return _not_found(request, person)
    except Conflict:
        current = task_pages.task_page(
            person.ctx, person.who.access, task_id, today_local(person.ctx.clock)
        ).task
        stale = (
            f"Nhiệm vụ đã được người khác thay đổi trong lúc bạn xem trang (bạn xem phiên bản "
            f"{raw_version}, hiện là phiên bản {current.version}: "
            f"{words.STATES[current.state].lower()}). Thao tác «{words.MOVES[which]}» của bạn "
            "chưa được ghi. Dưới đây là trạng thái mới nhất: hãy xem lại rồi quyết định."
        )
        if from_inbox:
            return _inbox(request, person, None, stale)
        return _task_page(request, person, task_id, stale=stale, typed=typed)
    except PlanflowError as exc:
        why = _why(person, task_id, which, note, to_unit, exc)
        return _refused(request, person, task_id, from_inbox, why, typed)
    target = f"{INBOX}?done={which.value}" if from_inbox else f"/tasks/{task_id}?done={which.value}"
    return redirect(target)


def _why(
    person: Person,
    task_id: int,
    which: Move,
    note: str | None,
    to_unit: str | None,
    exc: PlanflowError,
) -> str:
    """A refused move in words: the guard that refuses it on the task as it now is."""
    try:
        current = task_service.get_task(person.ctx, task_id)
    except NotFound:
        return words.error(exc)
    found = refusal_of(
        current.facts(), person.who.access, MoveRequest(which, note, to_unit), judge_input=True
    )
    if found is None:
        return words.error(exc)
    names = task_pages.people_names(person.ctx, current.organisation)
    return words.refusal(found, names.get(current.submitted_by or "", current.submitted_by))


def _refused(
    request: Request,
    person: Person,
    task_id: int,
    from_inbox: bool,
    message: str,
    typed: dict[str, str],
) -> Response:
    if from_inbox:
        return _inbox(request, person, None, message)
    return _task_page(request, person, task_id, error=message, typed=typed)


def _task_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**62 else None


def _not_found(request: Request, person: Person) -> Response:
    return message_page(
        request,
        person,
        404,
        "Không tìm thấy nhiệm vụ",
        "Nhiệm vụ không tồn tại, hoặc bạn không có quyền xem.",
    )


def _denied(request: Request, person: Person) -> Response:
    """A person whose roles read no task (an administrator): said in words, as a page."""
    return message_page(
        request,
        person,
        403,
        "Không có quyền xem nhiệm vụ",
        "Vai trò của bạn không xem hay xử lý nhiệm vụ.",
    )
