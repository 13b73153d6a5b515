"""What every request goes through, outermost first (plain ASGI: no per-request task or
copy of the body, so HTTP adds little to a move):

- `Edge`: the security headers on every response, one `http.request` log event per
  request, and the last resort for a bug: 500 `internal_error`, its traceback logged on the
  server, never sent.
- the proxy headers (uvicorn's `ProxyHeadersMiddleware`, in `app.py`): X-Forwarded-For and
  X-Forwarded-Proto believed from the configured proxies only.
- `BodyLimit`: a request body over the limit is refused with 413 before it is read whole:
  at once from its Content-Length, else as soon as the bytes received pass the limit.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Mapping

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workflow.web import error_pages
from workflow.web.errors import BodyTooLarge, error_body, too_large

# No inline script or style, nothing from elsewhere, never framed.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: dict[bytes, bytes] = {
    b"content-security-policy": CSP.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"x-frame-options": b"DENY",
    b"cross-origin-opener-policy": b"same-origin",
    b"cross-origin-resource-policy": b"same-origin",
    # Answers name people and carry tokens: no cache keeps them.
    b"cache-control": b"no-store",
}
HSTS = (b"strict-transport-security", b"max-age=31536000")

log = structlog.get_logger("planflow.web")


class Edge:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})  # where the auth dependency names the principal
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = _secured(message.get("headers", []), scope)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:  # a bug below: answered here, so it never reaches the client
            log.error(
                "http.error",
                method=scope["method"],
                path=scope["path"],
                error=type(exc).__name__,
                # Where it failed (frames, source lines): no message nor local variable, which
                # may hold what the request carried (a password, a token).
                traceback="".join(traceback.format_tb(exc.__traceback__)),
            )
            if not response_started:
                if error_pages.wants_page(scope):
                    body = error_pages.page(500, None, error_pages.is_htmx(scope))
                    kind = b"text/html; charset=utf-8"
                else:
                    body = json.dumps(
                        error_body("internal_error", "internal error (a bug, please report it)")
                    ).encode()
                    kind = b"application/json"
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", kind),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        finally:
            log.info(
                "http.request",
                method=scope["method"],
                path=scope["path"],  # never the query string: it may carry a filter's values
                status=status,
                principal=state.get("principal"),
                ms=round((time.perf_counter() - started) * 1000, 2),
            )


def _secured(headers: list[tuple[bytes, bytes]], scope: Scope) -> list[tuple[bytes, bytes]]:
    """The response's headers with every security header it does not set itself (the docs
    page sets its own CSP, to load Swagger UI)."""
    present = {name.lower() for name, _ in headers}
    out = list(headers)
    out.extend((name, value) for name, value in SECURITY_HEADERS.items() if name not in present)
    if scope.get("scheme") == "https" and HSTS[0] not in present:
        out.append(HSTS)
    return out


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope["headers"])
        if declared is not None and declared > self.max_bytes:
            await _refuse(scope, send, self.max_bytes)  # nothing of the body is read
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI lets an HTTPException raised while it reads the body through
                    # as it is: its handler answers 413 (workflow.web.errors).
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before we see it
    return None


async def _refuse(scope: Scope, send: Send, max_bytes: int) -> None:
    if error_pages.wants_page(scope):
        body = error_pages.page(413, error_pages.too_large(max_bytes), error_pages.is_htmx(scope))
        kind = b"text/html; charset=utf-8"
    else:
        body = json.dumps(error_body("body_too_large", too_large(max_bytes))).encode()
        kind = b"application/json"
    headers: Mapping[bytes, bytes] = {
        b"content-type": kind,
        b"content-length": str(len(body)).encode(),
        b"connection": b"close",  # the unread body is not waited for
    }
    await send({"type": "http.response.start", "status": 413, "headers": list(headers.items())})
    await send({"type": "http.response.body", "body": body})
