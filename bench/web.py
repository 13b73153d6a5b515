"""The web pages' cost (issue 16): the pages people work in most, rendered by `planflow web`
(its own process, a loopback port), beside the API call that reads the same data, in the
same run, by the same signed-in client on one kept-alive connection.

(a) **The office's inbox**, `GET /inbox` (the 200 submitted tasks waiting longest, each with
    its submission's note from the audit log, and the verified ones waiting to be closed),
    against `GET /api/v1/tasks?state=submitted&org=...` (its first page, 100 tasks), among
    100,000 tasks of which one in ten is submitted, each submission an audit entry with its
    note.
(b) **The auditor's log search**, `GET /audit` with one person's month (`actor`, `since`,
    `until`), against `GET /api/v1/audit` with the same filter, over 1,000,000 entries (the
    log `bench/audit_log.py` builds: task lives by ~1,000 people of 20 agencies over 2024).

Requests alternate page and API after a warm-up; the latencies are the client's, from the
request to the last byte of the answer. Target (full runs only): each page's p95 under
100 ms on SQLite; PostgreSQL's figures are reported beside them.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from bench import audit_log
from bench.common import judged, median, percentile, result
from bench.http import OFFICE, ORG, PASSWORD, _bulk_tasks, _setup, served
from workflow.clock import FixedClock, SystemClock
from workflow.domain import audit_chain as audit
from workflow.domain.filters import TaskFilter
from workflow.domain.lifecycle import State
from workflow.services import Context, accounts
from workflow.store.engine import open_engine

TARGET_MS = 100.0
INBOX_TARGET = f"GET /inbox p95 < {TARGET_MS:g} ms among 100,000 tasks (SQLite)"
SEARCH_TARGET = f"the log search page p95 < {TARGET_MS:g} ms over 1,000,000 entries (SQLite)"
NOTE = "Báo cáo kết quả thực hiện kèm phụ lục số liệu"
CHUNK = 5_000
PAGE = 50  # entries a search shows (the page's default), asked of the API too


def _page_client(base: str, login: str) -> httpx.Client:
    """Signed in through the sign-in page, as a person's browser is: the session cookie,
    kept alive (the API answers the same cookie)."""
    client = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
    answer = client.post("/sign-in", data={"login": login, "password": PASSWORD, "next": "/"})
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in of {login} refused: {answer.status_code} {answer.text[:300]}")
    return client


def _submissions(ctx: Context) -> int:
    """A submit entry, with its note, for every submitted task: what the inbox shows."""
    with ctx.uow.reading() as r:
        ids = [t.id for t in r.tasks.find(TaskFilter(organisation=ORG, state=State.SUBMITTED))]
    for start in range(0, len(ids), CHUNK):
        records = [
            audit.Record(
                actor=f"{ORG.lower()}.p01.s1",
                action="submit",
                subject=f"task:{task_id}",
                role="staff",
                unit="P01",
                organisation=ORG,
                task_id=task_id,
                from_state="in_progress",
                to_state="submitted",
                data={"version": 3, "note": NOTE},
            )
            for task_id in ids[start : start + CHUNK]
        ]
        with ctx.uow.writing() as tx:
            tx.backend.recorder.append(tx.conn, records, ctx.clock)
    return len(ids)


def _alternate(
    client: httpx.Client, page: Callable[[], str], api: Callable[[], str], count: int
) -> tuple[list[float], list[float]]:
    """`count` rounds of page then API (then API then page, so neither always goes first),
    after 10 of each to warm up; the latencies in ms."""

    def timed(path: str) -> float:
        started = time.perf_counter()
        answer = client.get(path)
        took = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:300]}")
        return took

    for _ in range(10):
        timed(page())
        timed(api())
    pages: list[float] = []
    apis: list[float] = []
    for i in range(count):
        if i % 2:
            apis.append(timed(api()))
            pages.append(timed(page()))
        else:
            pages.append(timed(page()))
            apis.append(timed(api()))
    return pages, apis


def _figures(pages: list[float], apis: list[float]) -> dict[str, Any]:
    return {
        "requests_each": len(pages),
        "page_p50_ms": round(median(pages), 2),
        "page_p95_ms": round(percentile(pages, 95), 2),
        "api_p50_ms": round(median(apis), 2),
        "api_p95_ms": round(percentile(apis, 95), 2),
    }


def inbox_bench(url: str, tasks: int, count: int, quick: bool) -> dict[str, Any]:
    ctx = _setup(url)
    try:
        submitted = _bulk_tasks(ctx, tasks)
        noted = _submissions(ctx)
        with served(url) as server:
            client = _page_client(server.base, OFFICE[0])
            shown = client.get("/inbox")
            if shown.status_code != 200 or NOTE not in shown.text:
                raise RuntimeError(f"the inbox page is not what was inserted: {shown.text[:300]}")
            api = f"/api/v1/tasks?state=submitted&org={ORG}"
            pages, apis = _alternate(client, lambda: "/inbox", lambda: api, count)
            client.close()
    finally:
        ctx.engine.dispose()
    figures = {"tasks": tasks, "submitted": submitted, "notes": noted, **_figures(pages, apis)}
    ok = tasks >= 100_000 and figures["page_p95_ms"] < TARGET_MS
    return result(figures, INBOX_TARGET, judged(quick, ok))


def search_bench(url: str, entries: int, count: int, quick: bool) -> dict[str, Any]:
    engine = open_engine(url)
    ctx = Context(
        engine,
        clock=FixedClock(audit_log.YEAR_START - audit_log.YEAR / 365),
        operator="operator:bench",
    )
    try:
        built = audit_log.build(ctx, entries)
        # The office of the first agency reads its log (audit:read): its account.
        reader = "so-b01.office1"
        org = reader.split(".", 1)[0].upper()
        actors = [a for a in built.actors if a.startswith(org.lower() + ".")]
        today = Context(engine, clock=SystemClock(), operator="operator:bench")  # after the log
        link = accounts.invite(today, reader, "http://bench.invalid").link
        accounts.activate(today, parse_qs(urlparse(link).query)["token"][0], PASSWORD)
        rng = random.Random(16)

        def month() -> str:
            m = rng.randint(1, 12)
            since = dt.date(2024, m, 1)
            until = dt.date(2024, m, 28)
            return f"actor={rng.choice(actors)}&since={since}&until={until}&limit={PAGE}"

        chosen: list[str] = []

        def page_of(query: str) -> str:
            return f"/audit?{query}"

        def api_of(path: str) -> str:
            return "/api/v1" + path

        def page() -> str:
            chosen.append(month())
            return page_of(chosen[-1])

        def api() -> str:
            return api_of(page_of(chosen[-1]))

        with served(url) as server:
            client = _page_client(server.base, reader)
            # The page shows what the API answers: the same entries, `PAGE` at most.
            sample = client.get(api_of(page_of(f"actor={actors[0]}&limit={PAGE}"))).json()
            shown = client.get(page_of(f"actor={actors[0]}&limit={PAGE}")).text
            entries_of = sample["entries"] if isinstance(sample, dict) else sample
            if not entries_of or any(f'id="seq-{e["seq"]}"' not in shown for e in entries_of):
                raise RuntimeError(f"the search page does not show the API's: {shown[:300]}")
            pages, apis = _alternate(client, page, api, count)
            client.close()
    finally:
        engine.dispose()
    figures = {"entries": built.entries, **_figures(pages, apis)}
    ok = entries >= 1_000_000 and figures["page_p95_ms"] < TARGET_MS
    return result(figures, SEARCH_TARGET, judged(quick, ok))


def bench(url_for: Any, tasks: int, entries: int, count: int, quick: bool) -> dict[str, Any]:
    """Both, each on a fresh database of its own (`url_for()` gives one)."""
    return {
        "inbox": inbox_bench(url_for(), tasks, count, quick),
        "search": search_bench(url_for(), entries, count, quick),
    }
