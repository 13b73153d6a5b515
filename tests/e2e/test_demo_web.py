"""`planflow demo --web` as a real process: on a demo database made before (`--db`; a small
one here, the quarter's simulation takes a minute) it gives every person a generated
password, prints them with the address, and serves the web pages until Ctrl-C; a person
signs in with a printed password over HTTP. A production database is refused, nothing
written."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.test_api_support import agency
from workflow.clock import SystemClock
from workflow.context import Context
from workflow.security import passwords
from workflow.services import accounts, database
from workflow.services import organisations as org_service
from workflow.store.engine import open_engine

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^(so-a\.\w+)\s+(\S.*?)\s+(SO-A/\w+)\s+(\S+)$", re.MULTILINE)


def _database(tmp_path: Path, template: Path, mode: str) -> str:
    target = tmp_path / f"{mode}.db"
    shutil.copy(template, target)
    url = f"sqlite:///{target}"
    ctx = Context(open_engine(url), clock=SystemClock(), operator="operator:test")
    try:
        database.initialise(ctx, simulation=mode == "simulation", os_user="test")
        if mode == "simulation":
            org_service.upsert_organisation(ctx, agency("SO-A"))
    finally:
        ctx.engine.dispose()
    return url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _planflow(url: str, *args: str, out: Path) -> list[str]:
    return [sys.executable, "-m", "workflow.cli", "--db", url, "demo", "--out", str(out), *args]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PLANFLOW_")}


def test_demo_web_prints_passwords_that_sign_in(tmp_path: Path, sqlite_template: Path) -> None:
    url = _database(tmp_path, sqlite_template, "simulation")
    port = _free_port()
    log = tmp_path / "demo-web.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            _planflow(url, "--web", "--port", str(port), out=tmp_path / "out"),
            cwd=ROOT,
            env=_env(),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "Sign in at" not in log.read_text(encoding="utf-8"):
            assert proc.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.1)
        printed = log.read_text(encoding="utf-8")
        assert re.search(r"PERSON\s+ROLE\s+UNIT\s+PASSWORD", printed), printed
        rows = {m.group(1): (m.group(2), m.group(4)) for m in ROW.finditer(printed)}
        assert set(rows) == {p.id for p in agency("SO-A").people}, printed
        assert rows["so-a.office1"][0] == "office, staff"
        assert all(passwords.weakness(pw, who) is None for who, (_, pw) in rows.items())
        assert len({pw for _, pw in rows.values()}) == len(rows)  # one each
        assert f"http://127.0.0.1:{port}/sign-in" in printed
        while True:  # the table is printed before the server answers
            try:
                answer = httpx.post(
                    f"http://127.0.0.1:{port}/sign-in",
                    data={"login": "so-a.lan", "password": rows["so-a.lan"][1]},
                    timeout=5,
                )
                break
            except httpx.ConnectError:
                assert proc.poll() is None and time.monotonic() < deadline, printed
                time.sleep(0.1)
        assert answer.status_code == 303 and answer.headers["location"] == "/my-work"
        wrong = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/session",
            json={"login": "so-a.lan", "password": rows["so-a.hung"][1]},
        )
        assert wrong.status_code == 401
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=20)
    assert proc.returncode == 0, log.read_text(encoding="utf-8")
    assert "Traceback" not in log.read_text(encoding="utf-8")


def test_demo_web_refuses_a_production_database(tmp_path: Path, sqlite_template: Path) -> None:
    url = _database(tmp_path, sqlite_template, "production")
    done = subprocess.run(
        _planflow(url, "--web", "--port", str(_free_port()), out=tmp_path / "out"),
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "production" in done.stderr and "Traceback" not in done.stderr
    assert "PASSWORD" not in done.stdout
    ctx = Context(open_engine(url), clock=SystemClock())
    try:
        assert not accounts.administrator_exists(ctx)
        assert org_service.list_organisations(ctx) == []
    finally:
        ctx.engine.dispose()


def test_demo_web_refuses_json_before_simulating(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workflow.cli", "demo", "--web", "--format", "json"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "prints a table of accounts: drop --format json" in done.stderr
    assert not (tmp_path / "demo-output").exists()  # nothing simulated, nothing written
