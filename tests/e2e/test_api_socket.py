"""`planflow web` as it runs: a real process serving uvicorn on a loopback socket, reached
over HTTP by real clients (on SQLite and PostgreSQL). Stopped with Ctrl-C after each test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Cli
from tests.e2e.test_api_support import PASSWORD, World, at_once, error, worlds

HOST = "127.0.0.1"


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from worlds(db_url)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(url: str, *options: str) -> Iterator[str]:
    """`planflow web` on a free loopback port until the block ends; its base URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PLANFLOW_DB", "PLANFLOW_NOW")}
    process = subprocess.Popen(
        [sys.executable, "-m", "workflow.cli", "--db", url, "web", "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"planflow web exited: {process.communicate()}")
            try:
                if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "planflow web did not start in 60 s"
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            _out, err = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _out, err = process.communicate()
        assert "Traceback" not in err, err
        assert process.returncode == 0, (process.returncode, err)
        assert "planflow web stopped" in err


def sign_in(base: str, login: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base + "/api/v1", timeout=30)
    answer = client.post("/session", json={"login": login, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return client, str(answer.json()["csrf_token"])


def test_over_a_real_socket_sessions_moves_and_eight_clients_at_once(world: World) -> None:
    world.account("so-a.lan")
    world.account("so-a.hung")
    task = world.tasks["SO-A"][0]
    with served(world.url) as base:
        health = httpx.get(base + "/api/v1/health")
        assert health.json() == {"status": "ok", "database": "simulation"}
        for name in ("content-security-policy", "x-frame-options", "x-content-type-options"):
            assert name in health.headers
        assert "server" not in health.headers  # uvicorn does not name itself

        lan, csrf = sign_in(base, "so-a.lan")
        cookie = lan.cookies.jar
        assert [c.name for c in cookie] == ["planflow_session"]
        assert lan.get("/me").json()["channel"] == "web"
        error(lan.post(f"/tasks/{task}/moves/start", headers={"If-Match": "1"}), 403, "csrf_failed")

        clients = [sign_in(base, "so-a.lan" if i % 2 else "so-a.hung") for i in range(8)]
        answers = at_once(
            8,
            lambda i: clients[i][0].post(
                f"/tasks/{task}/moves/start",
                headers={"If-Match": "1", "X-CSRF-Token": clients[i][1]},
            ),
        )
        assert sorted(a.status_code for a in answers) == [200] + [409] * 7
        assert all("Traceback" not in a.text for a in answers)
        assert [e["action"] for e in world.entries(task_id=task)] == ["task.create", "start"]
        entry = world.entries(task_id=task)[-1]
        assert entry["channel"] == "web" and entry["credential"].startswith("session:")

        out = lan.delete("/session", headers={"X-CSRF-Token": csrf})
        assert out.status_code == 204
        error(lan.get("/me"), 401, "not_authenticated")
        for client, _ in [*clients, (lan, csrf)]:
            client.close()


def test_over_a_real_socket_the_body_limit_and_the_proxy(world: World) -> None:
    world.account("so-a.lan")
    with served(world.url, "--forwarded-allow-ips", HOST, "--max-body", "2048") as base:
        port = int(base.rsplit(":", 1)[1])
        # Declared larger than the limit: answered at once, before a byte of it is sent.
        with socket.create_connection((HOST, port), timeout=10) as raw:
            raw.sendall(
                b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 10000000\r\n\r\n"
            )
            received = b""
            while chunk := raw.recv(65536):  # the server closes: it waits for no body
                received += chunk
            head = received.decode("latin-1")
        assert head.startswith("HTTP/1.1 413"), head
        assert '"code":"body_too_large"' in head.replace(" ", "")
        assert "content-security-policy" in head.lower()

        streamed = httpx.post(
            base + "/api/v1/session",
            content=iter([b'{"login":"so-a.lan","password":"', b"x" * 4096, b'"}']),
            headers={"content-type": "application/json"},
        )
        error(streamed, 413, "body_too_large")

        # From the configured proxy, X-Forwarded-Proto says the client came over HTTPS.
        proxied = httpx.post(
            base + "/api/v1/session",
            json={"login": "so-a.lan", "password": PASSWORD},
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
        )
        assert proxied.status_code == 200
        assert "secure" in proxied.headers["set-cookie"].lower()
        attempt = world.entries(action="session.start")[-1]
        assert "203.0.113.9" in attempt["data"]["detail"]
    with served(world.url) as base:  # no proxy configured: the headers are ignored
        direct = httpx.post(
            base + "/api/v1/session",
            json={"login": "so-a.lan", "password": PASSWORD},
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
        )
        assert "secure" not in direct.headers["set-cookie"].lower()
        assert "127.0.0.1" in world.entries(action="session.start")[-1]["data"]["detail"]


def test_planflow_web_refuses_what_it_cannot_serve_safely(
    capsys: pytest.CaptureFixture[str],
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli = Cli(capsys, db_url)
    bad_proxy = cli("web", "--forwarded-allow-ips", "proxy.example")
    assert bad_proxy.code == 2 and "--forwarded-allow-ips" in bad_proxy.err
    bad_base = cli("web", "--base-url", "planflow.example.gov.vn")
    assert bad_base.code == 2 and "--base-url" in bad_base.err
    monkeypatch.setenv("PLANFLOW_NOW", "2024-06-30T09:00")
    clocked = cli("web")
    assert clocked.code == 2 and "PLANFLOW_NOW" in clocked.err
    monkeypatch.delenv("PLANFLOW_NOW")
    empty = Cli(capsys, f"sqlite:///{tmp_path}/empty.db")("web")
    assert empty.code == 7 and "planflow init" in empty.err
    with socket.socket() as holder:  # someone else listens there already
        holder.bind((HOST, 0))
        holder.listen()
        taken = cli("web", "--port", str(holder.getsockname()[1]))
    assert taken.code == 2 and "cannot listen on 127.0.0.1" in taken.err
