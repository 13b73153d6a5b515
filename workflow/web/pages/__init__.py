"""The web pages people use (server-rendered, Vietnamese): sign-in and the account pages,
"Việc của tôi", the inbox, a task's page. An adapter like the API's routers: the same
services, the same session cookie; no rule decided here.

Static files (the style sheet, htmx 2.0.11 from npm, 0BSD licence) are served from
the package under /static: nothing from a CDN, nothing inline (the CSP allows neither).
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from workflow.web.pages import account, tasks
from workflow.web.pages import admin as admin_pages
from workflow.web.pages import audit as audit_pages
from workflow.web.pages import desk as desk_pages
from workflow.web.pages import inspections as inspection_pages
from workflow.web.pages import reports as report_pages

STATIC = "/static"


def install(app: FastAPI) -> None:
    app.include_router(account.router)
    app.include_router(tasks.router)
    app.include_router(audit_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(inspection_pages.router)
    app.include_router(desk_pages.router)
    app.include_router(report_pages.router)
    app.mount(STATIC, StaticFiles(packages=[("workflow.web", "static")]), name="static")
