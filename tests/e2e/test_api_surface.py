"""The web surface, safe by default: security headers on every answer, errors in one shape
and never a traceback, a request body limit enforced before the body is read, no data
without a credential, the OpenAPI document and the docs page without inline script."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog.testing
from fastapi import Request
from fastapi.testclient import TestClient

from tests.e2e.test_api_support import (
    API,
    PASSWORD,
    SECURITY_HEADERS,
    Bearer,
    Browser,
    World,
    error,
    worlds,
)
from workflow.web.app import create_app
from workflow.web.settings import Settings


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from worlds(db_url)


def assert_secured(answer: object) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    missing = SECURITY_HEADERS - {name.lower() for name in headers}
    assert not missing, (answer, missing)
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"


def test_every_answer_carries_the_security_headers_and_errors_have_one_shape(
    world: World,
) -> None:
    app = world.app()

    def boom(request: Request) -> None:  # a bug that puts what the request carried in its message
        raise RuntimeError(f"a bug: {request.headers.get('x-secret')}")

    app.add_api_route(API + "/boom", boom, methods=["GET"])  # a bug, to see how one is answered
    world.account("so-a.lan")
    anonymous = TestClient(app, raise_server_exceptions=False)
    lan = Browser(app, raise_server_exceptions=False).sign_in("so-a.lan")

    ok = anonymous.get(API + "/health")
    assert ok.status_code == 200 and ok.json() == {"status": "ok", "database": "simulation"}
    assert_secured(ok)
    assert_secured(lan.get("/me"))

    cases = [
        (anonymous.get(API + "/tasks"), 401, "not_authenticated"),
        (anonymous.get(API + "/no-such-thing"), 404, "not_found"),
        (anonymous.put(API + "/session"), 405, "method_not_allowed"),
        (lan.get("/tasks", params={"limit": "many"}), 422, "invalid_request"),
        (lan.get("/tasks/999999"), 404, "not_found"),
        (lan.get("/audit"), 403, "permission_denied"),
        (lan.get("/audit", params={"since": "yesterday"}), 403, "permission_denied"),
        (lan.move(world.tasks["SO-A"][0], "start", None), 428, "precondition_required"),
        (lan.get("/boom"), 500, "internal_error"),
    ]
    for answer, status, code in cases:
        error(answer, status, code)
        assert_secured(answer)
    with structlog.testing.capture_logs() as logged:
        bug = lan.get("/boom", headers={"X-Secret": "hunter2"})
    assert "hunter2" not in bug.text and "RuntimeError" not in bug.text
    [logged_bug] = [e for e in logged if e["event"] == "http.error"]
    assert logged_bug["error"] == "RuntimeError" and "boom" in logged_bug["traceback"]
    assert "hunter2" not in str(logged)
    assert bug.json()["error"]["message"] == "internal error (a bug, please report it)"
    assert anonymous.get(API + "/tasks").headers["www-authenticate"] == "Bearer"


def test_a_request_that_does_not_validate_is_named_without_echoing_its_values(
    world: World,
) -> None:
    http = TestClient(world.app())
    answer = http.post(
        API + "/session",
        json={"login": "so-a.lan", "password": "mật-khẩu-bí-mật-123", "actor": "so-a.office1"},
    )
    message = error(answer, 422, "invalid_request")
    assert "actor" in message and "mật-khẩu-bí-mật-123" not in answer.text
    assert answer.json()["error"]["problems"] == ["body actor: Extra inputs are not permitted"]
    not_json = http.post(
        API + "/session", content=b"{not json", headers={"content-type": "application/json"}
    )
    error(not_json, 422, "invalid_request")


def test_a_body_over_the_limit_is_refused_before_it_is_read(world: World) -> None:
    app = world.app(max_body_bytes=4096)
    http = TestClient(app)
    big = {"login": "so-a.lan", "password": "x" * 5000}
    declared = http.post(API + "/session", json=big)
    assert "larger than 4096 bytes" in error(declared, 413, "body_too_large")
    assert_secured(declared)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
        yield b'{"login": "so-a.lan", "password": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    streamed = http.post(
        API + "/session", content=chunks(), headers={"content-type": "application/json"}
    )
    error(streamed, 413, "body_too_large")
    # Under the limit, the same request is read and answered on its merits.
    small = http.post(API + "/session", json={"login": "so-a.lan", "password": "y" * 100})
    error(small, 401, "not_authenticated")


def test_the_default_limit_is_one_megabyte(world: World) -> None:
    http = TestClient(world.app())
    answer = http.post(
        API + "/signup",
        content=b'{"token": "' + b"z" * (1024 * 1024) + b'", "password": "p"}',
        headers={"content-type": "application/json"},
    )
    assert "larger than 1048576 bytes" in error(answer, 413, "body_too_large")


def test_no_endpoint_answers_without_a_credential_but_signing_in_and_up(world: World) -> None:
    app = world.app()
    http = TestClient(app)
    open_paths = {
        ("POST", API + "/session"),
        ("POST", API + "/signup"),
        ("GET", API + "/health"),
    }
    checked = 0
    for route, operations in http.get("/api/openapi.json").json()["paths"].items():
        for method in operations:
            if (method.upper(), route) in open_paths:
                continue
            path = re.sub(r"\{[^}]+\}", "1", route).replace("/moves/1", "/moves/start")
            answer = http.request(method, path, headers={"If-Match": "1"}, json={})
            error(answer, 401, "not_authenticated")
            checked += 1
    assert checked >= 20
    bad_scheme = http.get(API + "/me", headers={"Authorization": "Basic c28tYS5sYW46eA=="})
    assert "Bearer" in error(bad_scheme, 401, "not_authenticated")
    unknown = Bearer(app, "pft_1_" + "A" * 43).get("/me")
    error(unknown, 401, "not_authenticated")


def test_the_openapi_document_and_the_docs_page(world: World) -> None:
    http = TestClient(world.app())
    document = http.get("/api/openapi.json")
    assert document.status_code == 200
    paths = document.json()["paths"]
    for path in (
        "/api/v1/session",
        "/api/v1/me",
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}/moves/{move}",
        "/api/v1/audit",
        "/api/v1/audit/export",
        "/api/v1/tokens",
        "/api/v1/accounts/{person}/invite",
    ):
        assert path in paths, path
    schemes = document.json()["components"]["securitySchemes"]
    assert {"HTTPBearer", "APIKeyCookie"} <= set(schemes)

    page = http.get("/api/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert all("integrity=" in attrs for attrs, _ in scripts if "https://" in attrs)
    csp = page.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    init = http.get("/api/docs/init.js")
    assert init.status_code == 200 and "/api/openapi.json" in init.text


def test_one_log_event_per_request_and_per_sign_in_attempt(world: World) -> None:
    world.account("so-a.lan")
    app = world.app()
    with structlog.testing.capture_logs() as logged:
        lan = Browser(app).sign_in("so-a.lan")
        lan.get("/tasks", params={"org": "SO-A"})
        TestClient(app).post(API + "/session", json={"login": "so-a.lan", "password": "sai" * 5})
    requests = [e for e in logged if e["event"] == "http.request"]
    assert [(e["method"], e["path"], e["status"], e["principal"]) for e in requests] == [
        ("POST", "/api/v1/session", 200, "so-a.lan"),
        ("GET", "/api/v1/tasks", 200, "so-a.lan"),
        ("POST", "/api/v1/session", 401, None),
    ]
    assert all(isinstance(e["ms"], float) and e["ms"] >= 0 for e in requests)
    attempts = [(e["login"], e["outcome"]) for e in logged if e["event"] == "sign_in"]
    assert attempts == [("so-a.lan", "success"), ("so-a.lan", "failure")]
    text = str(logged)
    assert PASSWORD not in text and "sai" * 5 not in text and lan.session not in text
    assert lan.csrf is not None and lan.csrf not in text


def test_a_database_the_server_cannot_use_answers_503(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path}/no-schema.db"))
    try:
        http = TestClient(app)
        message = error(http.get(API + "/health"), 503, "store_unavailable")
        assert "planflow init" in message
        signing_in = http.post(API + "/session", json={"login": "so-a.lan", "password": PASSWORD})
        error(signing_in, 503, "store_unavailable")
    finally:
        app.state.web.engine.dispose()
