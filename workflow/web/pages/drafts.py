"""What a person typed into a move's form when their session had ended: kept for a few
minutes in a cookie of their browser, and put back into the form once they have signed in
again and are back on the task's page (then forgotten). Signing out forgets it too."""

from __future__ import annotations

import base64
import binascii
import json

from fastapi import Request
from fastapi.responses import Response

from workflow.web.pages.base import secure_cookie

DRAFT_COOKIE = "planflow_draft"
KEEP_SECONDS = 15 * 60
MAX_NOTE = 1500  # a cookie holds about 4 kB; a longer note is kept in part


def keep(request: Request, response: Response, task_id: int, form: dict[str, str]) -> None:
    note = form.get("note", "").strip()
    if not note:
        return
    draft = {"task": task_id, "move": form.get("move", "")[:20], "note": note[:MAX_NOTE]}
    value = base64.urlsafe_b64encode(json.dumps(draft, ensure_ascii=False).encode()).decode()
    response.set_cookie(
        DRAFT_COOKIE,
        value,
        max_age=KEEP_SECONDS,
        path="/",
        secure=secure_cookie(request),
        httponly=True,
        samesite="lax",
    )


def take(request: Request, task_id: int) -> dict[str, str] | None:
    """The draft kept for this task, if any: its move and note."""
    raw = request.cookies.get(DRAFT_COOKIE)
    if not raw:
        return None
    try:
        draft = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(draft, dict) or draft.get("task") != task_id:
        return None
    return {"move": str(draft.get("move", "")), "note": str(draft.get("note", ""))}


def forget(request: Request, response: Response) -> None:
    if request.cookies.get(DRAFT_COOKIE):
        response.delete_cookie(
            DRAFT_COOKIE, path="/", secure=secure_cookie(request), httponly=True, samesite="lax"
        )
