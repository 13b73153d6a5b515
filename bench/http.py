"""The HTTP API's cost (issue 14), against `planflow web` itself: a real uvicorn server in its
own process on a loopback port, reached by httpx clients from this one.

(a) **A move over HTTP against the same move through the service**, in the same run, on the
    same database: `POST /api/v1/tasks/{id}/moves/start` (If-Match, the session cookie and
    its CSRF token: one request, signed in once before the clock starts) against
    `services.tasks.move` on the same version, each move on a fresh task. What HTTP adds is
    everything the request does besides the move itself: the loopback round trip, uvicorn,
    the middleware (headers, body limit, the request's log line), the session and the
    person's access read, the task read that fences it by organisation, and the JSON both
    ways. Rounds of service, HTTP, HTTP, service, as the moves benchmark interleaves.
(b) **50 clients at once listing an office's inbox** (`GET /api/v1/tasks?state=submitted&
    org=...`, the first page) among 100,000 tasks bulk-inserted as `bench/memory.py` does
    (one in ten submitted), each client a thread with its own connection and session: 50
    people with their inbox open, each refreshing it about once a second (exponential gaps,
    so requests bunch up as people's do), the latency each sees. Then, for the record, the
    same 50 asking again as soon as answered: the most the server answers a second on this
    machine (its clients running on the same two cores).

Targets (full runs only): HTTP adds under 2 ms at p50 on SQLite; the inbox's p95 under
50 ms. PostgreSQL's figures are reported beside them.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlparse

import httpx

from bench.common import agency, judged, median, percentile, result
from workflow.clock import SystemClock
from workflow.domain.lifecycle import Move
from workflow.services import Context, accounts
from workflow.services import organisations as org_service
from workflow.services import tasks as svc
from workflow.store.engine import open_engine

ORG = "SO-HTTP"
UNITS = 4
MOVER = "so-http.p01.s2"  # staff of P01, which leads the tasks moved
OFFICE = ("so-http.office1", "so-http.office2")
PASSWORD = "bàn-phím-cơ-gõ-nhẹ-ban-đêm-2024"
ROUNDS = 4
MOVE_TARGET_MS = 2.0
INBOX_TARGET_MS = 50.0
MOVE_TARGET = f"HTTP adds < {MOVE_TARGET_MS:g} ms to a move at p50 (SQLite)"
PACE = 1.0  # seconds, on average, between one person's refreshes of their inbox
INBOX_TARGET = (
    f"inbox p95 < {INBOX_TARGET_MS:g} ms, 50 clients at once (each every ~{PACE:g} s), "
    "100,000 tasks"
)
ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
CHUNK = 10_000


# ------------------------------------------------------------------ the server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running `planflow web`: its base URL, and its log (JSON lines, one `http.request`
    event per request, as a production server writes them)."""

    base: str
    log: IO[str]

    def request_ms(self, method: str, paths: set[str]) -> list[float]:
        """The server's own time (its `http.request` events' `ms`: from the request's first
        byte in the app to its answer's last) for the requests of `paths`."""
        self.log.flush()
        self.log.seek(0)
        found = []
        for line in self.log:
            if '"http.request"' not in line:
                continue
            event = json.loads(line)
            if event.get("method") == method and event.get("path") in paths:
                found.append(float(event["ms"]))
        self.log.seek(0, os.SEEK_END)
        return found


@contextmanager
def served(url: str) -> Iterator[Server]:
    """`planflow web` on `url`, on a free loopback port, until the block ends."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PLANFLOW_DB", "PLANFLOW_NOW")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, "-m", "workflow.cli", "--db", url, "--log-json", "web"]
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        process = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=log, env=env)
        base = f"http://{HOST}:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"planflow web exited: {log.read()[-2000:]}")
                try:
                    if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("planflow web did not answer in 60 s")
                time.sleep(0.1)
            yield Server(base, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _signed_in(base: str, login: str) -> tuple[httpx.Client, str]:
    """A client with `login`'s session cookie (kept alive), and its CSRF token."""
    client = httpx.Client(base_url=base + "/api/v1", timeout=60)
    answer = client.post("/session", json={"login": login, "password": PASSWORD})
    if answer.status_code != 200:
        raise RuntimeError(f"sign-in of {login} refused: {answer.text}")
    return client, str(answer.json()["csrf_token"])


def _setup(url: str) -> Context:
    """The agency, and accounts for the mover and the office (invited, signed up)."""
    ctx = Context(open_engine(url), clock=SystemClock(), operator="operator:bench")
    org_service.upsert_organisation(ctx, agency(ORG, units=UNITS))
    for person in (MOVER, *OFFICE):
        link = accounts.invite(ctx, person, "http://bench.invalid").link
        accounts.activate(ctx, parse_qs(urlparse(link).query)["token"][0], PASSWORD)
    return ctx


# ------------------------------------------------------------------ (a) a move


def _tasks(ctx: Context, count: int, tag: str) -> list[int]:
    new = [
        svc.NewTask(
            ORG,
            f"{tag}.{i + 1}",
            f"Nhiệm vụ đo hiệu năng {tag}.{i + 1}: báo cáo kết quả thực hiện",
            "P01",
            due_date=dt.date(2025, 12, 31),
        )
        for i in range(count)
    ]
    ids: list[int] = []
    for start in range(0, count, 2000):
        ids += svc.create_tasks(ctx, new[start : start + 2000], reason="benchmark")
    return ids


def move_bench(url: str, moves: int, quick: bool) -> dict[str, Any]:
    """`moves` starts over HTTP and as many through the service, interleaved in rounds."""
    ctx = _setup(url)
    try:
        per_round = max(1, moves // (2 * ROUNDS))
        warm = 20
        ids = iter(_tasks(ctx, 4 * ROUNDS * per_round + 2 * warm, "H"))
        service_ms: list[float] = []
        http_ms: list[float] = []
        timed_paths: set[str] = set()
        with served(url) as server:
            signed, csrf = _signed_in(server.base, MOVER)
            cookie = "; ".join(f"{k}={v}" for k, v in signed.cookies.items())
            signed.close()
            headers = {"X-CSRF-Token": csrf, "If-Match": "1", "Cookie": cookie}
            # The standard library's client, one kept-alive connection: the client's own
            # work (httpx's pure-Python HTTP costs ~0.5 ms a request) is not what HTTP adds.
            client = http.client.HTTPConnection(HOST, int(server.base.rsplit(":", 1)[1]))

            def over_http(count: int, into: list[float] | None) -> None:
                for _ in range(count):
                    path = f"/api/v1/tasks/{next(ids)}/moves/start"
                    started = time.perf_counter()
                    client.request("POST", path, headers=headers)
                    answer = client.getresponse()
                    body = answer.read()
                    took = time.perf_counter() - started
                    if answer.status != 200:
                        raise RuntimeError(f"HTTP move refused: {body.decode()}")
                    if into is not None:
                        into.append(took * 1000)
                        timed_paths.add(path)

            def through_service(count: int, into: list[float] | None) -> None:
                for _ in range(count):
                    task = next(ids)
                    started = time.perf_counter()
                    svc.move(ctx, task, Move.START, MOVER, expected_version=1)
                    took = time.perf_counter() - started
                    if into is not None:
                        into.append(took * 1000)

            # Warm both paths (the server's caches and pool, ours), untimed.
            over_http(warm, None)
            through_service(warm, None)
            for _ in range(ROUNDS):
                through_service(per_round, service_ms)
                over_http(per_round, http_ms)
                over_http(per_round, http_ms)
                through_service(per_round, service_ms)
            client.close()
            server_ms = server.request_ms("POST", timed_paths)
    finally:
        ctx.engine.dispose()
    service_p50, http_p50 = median(service_ms), median(http_ms)
    added = http_p50 - service_p50
    figures = {
        "moves_each": len(http_ms),
        "service_p50_ms": round(service_p50, 3),
        "service_p95_ms": round(percentile(service_ms, 95), 3),
        "http_p50_ms": round(http_p50, 3),
        "http_p95_ms": round(percentile(http_ms, 95), 3),
        "added_p50_ms": round(added, 3),
        "added_p95_ms": round(percentile(http_ms, 95) - percentile(service_ms, 95), 3),
        # Of the HTTP move, the app's own share (routing, the session and access reads, the
        # move, JSON): the rest is the loopback, uvicorn and the client.
        "http_server_p50_ms": round(median(server_ms), 3),
    }
    sqlite = url.startswith("sqlite")
    target = MOVE_TARGET if sqlite else f"reported (the target, {MOVE_TARGET_MS:g} ms, is SQLite's)"
    met = judged(quick, added < MOVE_TARGET_MS) if sqlite else None
    return result(figures, target, met)


# ------------------------------------------------------------------ (b) the inbox


def _bulk_tasks(ctx: Context, count: int) -> int:
    """`count` tasks of the agency, one in ten submitted (the office's inbox); how many."""
    now = ctx.clock.now()
    submitted = 0
    for start in range(0, count, CHUNK):
        rows = []
        for i in range(start, min(count, start + CHUNK)):
            state = "submitted" if i % 10 == 0 else ("in_progress" if i % 3 else "assigned")
            submitted += state == "submitted"
            rows.append(
                {
                    "organisation": ORG,
                    "plan_id": None,
                    "kind": "plan",
                    "code": f"H.{i // 4 + 1}",
                    "period": f"2025Q{i % 4 + 1}",
                    "title": f"Nhiệm vụ {i + 1}: công khai, minh bạch thủ tục hành chính",
                    "category": "papi.transparency",
                    "lead_unit": f"P{i % UNITS + 1:02d}",
                    "cooperating_units": '["VP"]',
                    "schedule_text": "Hằng quý",
                    "deliverable": "Báo cáo kết quả thực hiện",
                    "target": "100% thủ tục được công khai",
                    "due_date": dt.date(2025, 3 * (i % 4 + 1), 28),
                    "state": state,
                    "version": 3 if state == "submitted" else 1,
                    "returned_count": 0,
                    "since_plan_version": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        with ctx.uow.writing() as tx:
            tx.tasks.insert(rows)
    return submitted


def inbox_bench(url: str, tasks: int, clients: int, quick: bool) -> dict[str, Any]:
    """`clients` people with the inbox open at once, each refreshing it about every
    `PACE` seconds (exponential gaps: they do not take turns), `per_client` times; then, for
    the record, the same clients asking as fast as they can (the server saturated)."""
    ctx = _setup(url)
    per_client = 5 if quick else 20
    pace = PACE / 10 if quick else PACE  # a smoke test: that it runs, not how fast
    try:
        submitted = _bulk_tasks(ctx, tasks)
        with served(url) as server:
            sessions = [_signed_in(server.base, OFFICE[i % 2])[0] for i in range(clients)]
            params = {"state": "submitted", "org": ORG}
            first = sessions[0].get("/tasks", params=params)
            if first.status_code != 200 or len(first.json()["tasks"]) != min(100, submitted):
                raise RuntimeError(f"the inbox is not what was inserted: {first.text[:300]}")
            for client in sessions:  # warm: every connection open, the server's pool too
                client.get("/tasks", params=params)
            paced, _ = _load(sessions, params, per_client, pace)
            saturated, seconds = _load(sessions, params, per_client, 0.0)
            for client in sessions:
                client.close()
            server_ms = server.request_ms("GET", {"/api/v1/tasks"})
    finally:
        ctx.engine.dispose()
    p95 = percentile(paced, 95)
    figures = {
        "tasks": tasks,
        "submitted": submitted,
        "clients": clients,
        "pace_s": pace,
        "requests": len(paced),
        "p50_ms": round(median(paced), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(max(paced), 2),
        # In the app, from its first byte in to its answer's last out (paced and saturated).
        "server_p50_ms": round(median(server_ms), 2),
        # For the record: every client asking again as soon as answered.
        "saturated_requests_per_s": round(len(saturated) / seconds, 1),
        "saturated_p95_ms": round(percentile(saturated, 95), 2),
    }
    full_size = tasks >= 100_000 and clients >= 50
    return result(figures, INBOX_TARGET, judged(quick, full_size and p95 < INBOX_TARGET_MS))


def _load(
    sessions: list[httpx.Client], params: dict[str, str], per_client: int, pace: float
) -> tuple[list[float], float]:
    """Each client a thread listing the inbox `per_client` times, an exponential gap of mean
    `pace` seconds before each request (0: none); the latencies (ms) and the seconds taken."""
    samples: list[list[float]] = [[] for _ in sessions]
    errors: list[str] = []
    barrier = threading.Barrier(len(sessions) + 1)

    def work(i: int) -> None:
        client = sessions[i]
        gaps = random.Random(i)
        barrier.wait()
        for _ in range(per_client):
            if pace:
                time.sleep(gaps.expovariate(1 / pace))
            started = time.perf_counter()
            answer = client.get("/tasks", params=params)
            took = time.perf_counter() - started
            if answer.status_code != 200:
                errors.append(answer.text[:200])
                return
            samples[i].append(took * 1000)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"inbox requests failed: {errors[0]}")
    return [s for per in samples for s in per], seconds


def bench(url_for: Any, moves: int, tasks: int, clients: int, quick: bool) -> dict[str, Any]:
    """Both, each on a fresh database of its own (`url_for()` gives one)."""
    return {
        "move": move_bench(url_for(), moves, quick),
        "inbox": inbox_bench(url_for(), tasks, clients, quick),
    }
