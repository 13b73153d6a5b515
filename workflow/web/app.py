"""The application: `create_app(settings)` builds the FastAPI app `planflow web` serves.

    /api/v1/...          the JSON API (the routers of `ROUTERS`)
    /api/openapi.json    its OpenAPI document
    /api/docs            the interactive docs (Swagger UI)
    /, /sign-in, ...     the web pages people use (`workflow.web.pages`), /static their files

Adding a router: a module under `workflow/web/routers/` defining `router`, and its line in
`ROUTERS`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from workflow.services import database
from workflow.store.engine import open_engine
from workflow.web import errors
from workflow.web.auth import Web, anonymous
from workflow.web.middleware import CSP, BodyLimit, Edge
from workflow.web.pages import install as install_pages
from workflow.web.routers import (
    accounts,
    audit,
    calendar,
    dossiers,
    inspections,
    procedures,
    reports,
    session,
    tasks,
    tokens,
)
from workflow.web.settings import Settings

API = "/api/v1"
OPENAPI_URL = "/api/openapi.json"
DOCS_URL = "/api/docs"

# Each module's `router`, under /api/v1, in this order in the docs.
ROUTERS: tuple[ModuleType, ...] = (
    session,
    tasks,
    audit,
    accounts,
    tokens,
    dossiers,
    inspections,
    reports,
    calendar,
    procedures,
)


def create_app(settings: Settings) -> FastAPI:
    engine = open_engine(settings.database_url, pool_size=settings.pool_size)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Few worker threads: more than the cores only make them contend for the GIL (with
        # forty, ten clients at once cost twice the CPU a request; with four, 1.5 times),
        # and a few keep a long request (a year's report) from holding up the others.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield
        engine.dispose()

    app = FastAPI(
        title="planflow",
        summary="Auditable workflow engine for provincial reform plans: the HTTP API",
        version="1",
        openapi_url=OPENAPI_URL,
        docs_url=None,  # served below, under our own CSP (no inline script)
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.web = Web(engine, settings)
    errors.install(app)
    app.add_api_route(API + "/health", health, methods=["GET"], tags=["health"])
    # Each router straight on the app: a router nested in another is one more layer of
    # matching for every request.
    for module in ROUTERS:
        router: APIRouter = module.router
        app.include_router(router, prefix=API)
    app.add_api_route(DOCS_URL, docs, methods=["GET"], include_in_schema=False)
    app.add_api_route(DOCS_URL + "/init.js", docs_script, methods=["GET"], include_in_schema=False)
    install_pages(app)
    # Outermost last: Edge sees every answer, the proxy headers are read before the limit.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.forwarded_allow_ips))
    app.add_middleware(Edge)
    return app


def health(request: Request) -> dict[str, Any]:
    """Whether the server reaches its database (503 `store_unavailable` when not), and what
    the database is: production or simulation."""
    mode = database.mode(anonymous(request))
    return {"status": "ok", "database": mode or "simulation"}


# Swagger UI, pinned, from its CDN with subresource integrity (the exact files of
# swagger-ui-dist 5.35.0 on npm); its start-up script is ours, served from here.
SWAGGER = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0"
SWAGGER_JS_SRI = "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9"
SWAGGER_CSS_SRI = "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I"
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' https://cdn.jsdelivr.net").replace(
    "style-src 'self'", "style-src 'self' https://cdn.jsdelivr.net"
)
DOCS_HTML = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>planflow API</title>
<link rel="stylesheet" href="{SWAGGER}/swagger-ui.css" integrity="{SWAGGER_CSS_SRI}"
 crossorigin="anonymous">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{SWAGGER}/swagger-ui-bundle.js" integrity="{SWAGGER_JS_SRI}"
 crossorigin="anonymous"></script>
<script src="{DOCS_URL}/init.js"></script>
</body>
</html>
"""
DOCS_SCRIPT = f"""window.addEventListener("load", function () {{
  window.ui = SwaggerUIBundle({{
    url: "{OPENAPI_URL}",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
  }});
}});
"""


def docs() -> HTMLResponse:
    return HTMLResponse(DOCS_HTML, headers={"Content-Security-Policy": DOCS_CSP})


def docs_script() -> Response:
    return Response(DOCS_SCRIPT, media_type="text/javascript")
