"""Every failure as the API answers it: an HTTP status and a body
`{"error": {"code": "<stable snake_case code>", "message": "<one line>"}}`.

planflow's errors map as the CLI's exit codes do (`STATUS`); the refusals only the web makes
(a CSRF token that does not match, a missing If-Match, a body too large) are `Refused`; a
request FastAPI cannot validate is 422 `invalid_request`; anything else is a bug: 500
`internal_error`, its traceback in the server's log only (`workflow.web.middleware`).
A page's request (a browser asking for HTML outside /api) gets the same status with a
Vietnamese page instead (`workflow.web.error_pages`), and a page whose session ended goes
to the sign-in page and back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from workflow.errors import (
    AuditVerificationFailed,
    Conflict,
    InvalidInput,
    ManyProblems,
    MoveNotAllowed,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PlanflowError,
    RecordInvalid,
    ServiceUnavailable,
    StoreUnavailable,
    TooManyAttempts,
)
from workflow.web import error_pages

# By error class, most specific first (looked up along the raised class's MRO).
STATUS: dict[type[PlanflowError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    RecordInvalid: (422, "invalid_input"),
    ManyProblems: (422, "invalid_input"),
    InvalidInput: (400, "invalid_input"),
    NotAuthenticated: (401, "not_authenticated"),
    TooManyAttempts: (429, "too_many_attempts"),
    PermissionDenied: (403, "permission_denied"),
    MoveNotAllowed: (409, "move_not_allowed"),
    Conflict: (409, "conflict"),
    AuditVerificationFailed: (409, "audit_verification_failed"),
    StoreUnavailable: (503, "store_unavailable"),
    ServiceUnavailable: (503, "service_unavailable"),
}
# Starlette's own refusals (an unknown path, a method the path does not take, ...).
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


class Refused(Exception):
    """A refusal only the web makes, with its own status and code: not a planflow error
    class (those are `workflow.errors`, one per exit code)."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = dict(headers or {})


class BodyTooLarge(HTTPException):
    """A request body over the server's limit (`workflow.web.middleware.BodyLimit`), found
    while it was read."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, too_large(max_bytes))
        self.max_bytes = max_bytes


def too_large(max_bytes: int) -> str:
    return f"the request body is larger than {max_bytes} bytes, the most this server takes"


def one_line(message: str) -> str:
    return " ".join(message.split())


def error_body(code: str, message: str, **more: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": one_line(message), **more}}


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    **more: Any,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, **more), status, headers=dict(headers or {}))


def status_of(exc: PlanflowError) -> tuple[int, str]:
    for kind in type(exc).__mro__:
        found = STATUS.get(kind)
        if found is not None:
            return found
    return 500, "internal_error"  # PlanflowError itself: never raised on purpose


def planflow_error_response(exc: PlanflowError, **more: Any) -> JSONResponse:
    status, code = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    problems = getattr(exc, "problems", None)
    if problems:
        more["problems"] = [_problem(p) for p in problems]
    return error_response(status, code, str(exc), headers, **more)


def _problem(problem: Any) -> Any:
    """One problem of a ManyProblems or a RecordInvalid, as JSON."""
    if isinstance(problem, tuple) and len(problem) == 2:
        where, what = problem
        return {"at": str(where), "message": one_line(str(what))}
    return one_line(str(problem))


def validation_message(errors: Sequence[Any]) -> tuple[str, list[str]]:
    """Each problem as `where: what`, never the value sent (it may be a password)."""
    problems = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] in ("body", "query", "path", "header", "cookie"):
            where = f"{location[0]} " + ".".join(location[1:]) if len(location) > 1 else location[0]
        else:
            where = ".".join(location) or "request"
        problems.append(f"{where}: {one_line(str(error.get('msg', 'invalid')))}")
    first = problems[0] if problems else "the request is not valid"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"invalid request: {first}{more}", problems


def install(app: FastAPI) -> None:
    """The handlers that turn every raised failure into its answer: JSON for the API, a
    page for a browser's page request."""

    async def planflow(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PlanflowError)
        if error_pages.wants_page(request.scope):
            status, _code = status_of(exc)
            if status == 401 and request.method == "GET":
                from urllib.parse import quote

                back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse("/sign-in?next=" + quote(back, safe="/"), 303)
            shown = str(exc) if status in (400, 422) else None
            return _page(request, status, shown)
        return planflow_error_response(exc)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        if error_pages.wants_page(request.scope):
            return _page(request, exc.status, None, exc.headers)
        return error_response(exc.status, exc.code, str(exc), exc.headers)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        message, problems = validation_message(exc.errors())
        if error_pages.wants_page(request.scope):
            return _page(request, 422, None)
        return error_response(422, "invalid_request", message, problems=problems)

    async def http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if error_pages.wants_page(request.scope):
            shown = error_pages.too_large(exc.max_bytes) if isinstance(exc, BodyTooLarge) else None
            return _page(request, exc.status_code, shown, exc.headers)
        return error_response(exc.status_code, code, detail, exc.headers)

    app.add_exception_handler(PlanflowError, planflow)
    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http)


def _page(
    request: Request, status: int, detail: str | None, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    body = error_pages.page(status, detail, error_pages.is_htmx(request.scope))
    return HTMLResponse(body, status, headers=dict(headers or {}))
