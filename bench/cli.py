"""`bench/run`: run the benchmarks, write results.json and RESULTS.md, print the tables."""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import (
    aggregate,
    apology,
    audit_log,
    http,
    inspection,
    loading,
    memory,
    startup,
    transitions,
    web,
)
from bench.common import (
    BACKENDS,
    IN_CI,
    Scratch,
    machine,
    now_iso,
    postgres_problem,
    quiet_logs,
    skipped,
)
from bench.report import markdown, tables

HERE = Path(__file__).resolve().parent
GROUPS = (
    "transitions",
    "audit",
    "memory",
    "loading",
    "apology",
    "inspection",
    "aggregate",
    "http",
    "startup",
    "web",
)
WRITERS = (1, 8)
FULL = {
    "moves": 8_000,
    "audit_entries": 1_000_000,
    "memory_tasks": 100_000,
    "plan_tasks": 10_000,
    "apology_dossiers": 100_000,
    "inspection_units": 2_000,
    "inspection_tasks": 200_000,
    "aggregate_tasks": 1_000_000,  # with as many audit entries
    "http_moves": 2_000,  # over HTTP, and as many through the service
    "http_tasks": 100_000,  # among which the office's inbox is listed
    "http_clients": 50,  # listing it at once
    "startup_runs": 15,  # each command, in fresh processes
    "web_tasks": 100_000,  # among which the inbox page is rendered
    "web_entries": 1_000_000,  # over which the log search page searches
    "web_requests": 200,  # of each page, and as many API calls beside them
}
QUICK = {
    "moves": 200,
    "audit_entries": 20_000,
    "memory_tasks": 10_000,
    "plan_tasks": 1_000,
    "apology_dossiers": 2_000,
    "inspection_units": 200,
    "inspection_tasks": 10_000,
    "aggregate_tasks": 20_000,
    "http_moves": 100,
    "http_tasks": 2_000,
    "http_clients": 5,
    "startup_runs": 3,
    "web_tasks": 2_000,
    "web_entries": 20_000,
    "web_requests": 20,
}

NOTES = [
    "- Every figure comes from one process; each ratio compares two figures taken in the same "
    "run, on the same database, interleaved (four rounds of floor, engine, engine, floor for "
    "the moves), because the "
    "machine's speed drifts.",
    "- **Moves**: the engine is `workflow.services.tasks.move` on its default path, as the CLI "
    "runs it (`make_move` in `ctx.uow.moving()`): the task and the person read in one "
    "statement, the lifecycle machine's guards decided on what it found, then the writing "
    "transaction with its typed event, and its log line rendered. On SQLite that "
    "transaction is the compare-and-set returning the new row and the audit append (head "
    "read, entry hashed in Python) under the database lock; on PostgreSQL it is one "
    "statement, the compare-and-set and `planflow_append` (the chain's lock, the head, the "
    "entry hashed by the server). The floor is the same UPDATE "
    "of `tasks` and INSERT into `audit_log` sent straight through the driver on a connection "
    "of the same pool (same pragmas), one transaction each, with every value (hashes "
    "included) computed before the clock starts. Writers are threads with connections of "
    "their own, each moving its own tasks through start, submit, return, submit, verify, "
    "close.",
    "- The floor is mostly the commit's flush to disk, so the ratio depends on the disk: where "
    "an fsync is cheap the engine's own CPU time dominates and the ratio falls; where it is "
    "dear both wait for the disk and the ratio nears 1.",
    "- **audit verify** is `services.audit_log.verify` (what `planflow audit verify` runs) "
    "over a log built the engine's way (the audit recorder's `append`, 10,000 entries a "
    "transaction): task lives by ~1,000 people of 20 agencies over 2024. Queries go through "
    "`services.audit_log.query`, connection checkout included.",
    "- **Memory** is what `services.tasks.list_tasks` keeps alive for its TaskView list "
    "(tracemalloc), and what the rules' TaskFacts add; `machines` counts the "
    "`transitions.Machine` objects alive after every task went through `lifecycle.decide`.",
    "- **Loading** times `definitions.checks.validate` and `services.plans.load` separately, "
    "into a fresh database; `reload` loads the same seeds again (nothing changes).",
    "- **Inspection draw** times `services.inspections.draw` (signal aggregates, ranking, "
    "draw, audit entry, one inspection task per selected unit with its checklist) over an "
    "organisation of 2,000 units and 200,000 tasks, then the signal queries and the pure "
    "selection alone; the issue sets no threshold.",
    "- **Aggregate** times `services.reports.generate` (the report's grouped queries, the "
    "snapshot and its audit entry) for the year 2024 over an organisation whose 1,000,000 "
    "tasks (80% plan and fix tasks, 19% dossiers, 1% inspections) and 1,000,000 audit "
    "entries were bulk-inserted: the first ask and three revisions (each computed anew), the "
    "quarter 2024Q2, asking again (the stored snapshot), and the Prefect flow with its files.",
    "- **HTTP** runs `planflow web` (uvicorn, its own process, a loopback port) on a fresh "
    "database. A move over HTTP is one `POST /api/v1/tasks/{id}/moves/start` (If-Match, the "
    "session cookie and its CSRF token, signed in beforehand, one kept-alive connection), "
    "timed by the client from request to answer; the same move through "
    "`services.tasks.move` is timed in this process; each on a fresh task, in rounds of "
    "service, HTTP, HTTP, service. `added` is the difference of the two medians (p95s). The "
    "inbox is `GET /api/v1/tasks?state=submitted&org=...` (the first page, 100 tasks), by 50 "
    "threads at once, each with its own connection and session, 40 requests each, among "
    "100,000 bulk-inserted tasks (one in ten submitted).",
    "- **Start-up** runs `python -c pass`, `planflow --help` and `planflow tasks list` (on a "
    "fresh database holding 20 tasks) in fresh processes, interleaved, 15 times each; the "
    "figures are medians, and the ratios are to `python -c pass` of the same run.",
    "- `--quick` runs small sizes and judges no target (met: –).",
]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description="planflow benchmarks: the engine against the database's own floor.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, no targets judged")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--output",
        type=Path,
        default=HERE,
        metavar="DIR",
        help="where results.json and RESULTS.md go (default: bench/)",
    )
    parser.add_argument(
        "--only",
        default=",".join(GROUPS),
        help=f"comma-separated groups to run (default: all of {','.join(GROUPS)})",
    )
    parser.add_argument(
        "--pg-database",
        default="planflow_bench",
        help="scratch PostgreSQL database (created, and dropped at the end)",
    )
    parser.add_argument(
        "--size",
        action="append",
        default=[],
        metavar="NAME=N",
        help=f"override one size ({', '.join(FULL)}); for exploring, not for the record",
    )
    args = parser.parse_args(argv)
    for item in args.size:
        name, _, value = item.partition("=")
        if name not in FULL or not value.isdigit() or int(value) < 1:
            parser.error(f"--size {item!r}: expected NAME=N with NAME one of {', '.join(FULL)}")
    unknown = set(args.only.split(",")) - set(GROUPS)
    if unknown:
        parser.error(f"--only: unknown group(s) {', '.join(sorted(unknown))}")
    return args


Run = Callable[[Scratch], dict[str, dict[str, Any]]]


def plan(sizes: dict[str, int], quick: bool, groups: list[str]) -> list[tuple[str, Run]]:
    runs: list[tuple[str, Run]] = []
    if "transitions" in groups:
        for writers in WRITERS:
            label = f"{writers}_writer" + ("s" if writers > 1 else "")

            def moves(s: Scratch, w: int = writers, label: str = label) -> dict[str, Any]:
                return {
                    f"transitions.{s.backend}.{label}": transitions.bench(
                        s.fresh(), w, sizes["moves"], quick
                    )
                }

            runs.append((f"transitions, {label}", moves))
    if "audit" in groups:

        def audit(s: Scratch) -> dict[str, Any]:
            out = audit_log.bench(s.fresh(), sizes["audit_entries"], quick)
            return {
                f"audit_verify.{s.backend}": out["verify"],
                f"audit_query.{s.backend}": out["query"],
            }

        runs.append(("audit log", audit))
    if "memory" in groups:

        def mem(s: Scratch) -> dict[str, Any]:
            return {f"memory.{s.backend}": memory.bench(s.fresh(), sizes["memory_tasks"], quick)}

        runs.append(("memory", mem))
    if "loading" in groups:

        def load(s: Scratch) -> dict[str, Any]:
            return {f"loading.{s.backend}": loading.bench(s.fresh(), sizes["plan_tasks"])}

        runs.append(("loading", load))
    if "apology" in groups:

        def flow(s: Scratch) -> dict[str, Any]:
            return {
                f"apology_flow.{s.backend}": apology.bench(
                    s.fresh(), s.backend, sizes["apology_dossiers"], quick
                )
            }

        runs.append(("apology flow", flow))
    if "inspection" in groups:

        def draw(s: Scratch) -> dict[str, Any]:
            return {
                f"inspection_draw.{s.backend}": inspection.bench(
                    s.fresh(), sizes["inspection_units"], sizes["inspection_tasks"]
                )
            }

        runs.append(("inspection draw", draw))
    if "aggregate" in groups:

        def report(s: Scratch) -> dict[str, Any]:
            n = sizes["aggregate_tasks"]
            return {f"aggregate.{s.backend}": aggregate.bench(s.fresh(), s.backend, n, n, quick)}

        runs.append(("aggregate (report)", report))
    if "http" in groups:

        def over_http(s: Scratch) -> dict[str, Any]:
            out = http.bench(
                s.fresh, sizes["http_moves"], sizes["http_tasks"], sizes["http_clients"], quick
            )
            return {f"http_move.{s.backend}": out["move"], f"http_inbox.{s.backend}": out["inbox"]}

        runs.append(("http API", over_http))
    if "startup" in groups:

        def start(s: Scratch) -> dict[str, Any]:
            return {f"startup.{s.backend}": startup.bench(s.fresh(), sizes["startup_runs"], quick)}

        runs.append(("CLI start-up", start))
    if "web" in groups:

        def pages(s: Scratch) -> dict[str, Any]:
            out = web.bench(
                s.fresh, sizes["web_tasks"], sizes["web_entries"], sizes["web_requests"], quick
            )
            backend = s.backend
            return {f"web_inbox.{backend}": out["inbox"], f"web_search.{backend}": out["search"]}

        runs.append(("web pages", pages))
    return runs


KEYS_BY_GROUP: dict[str, list[tuple[str, str | None]]] = {
    "transitions": [
        (f"transitions.{{}}.{w}_writer{'s' if w > 1 else ''}", transitions.TARGET) for w in WRITERS
    ],
    "audit": [
        ("audit_verify.{}", audit_log.VERIFY_TARGET),
        ("audit_query.{}", audit_log.QUERY_TARGET),
    ],
    "memory": [("memory.{}", memory.TARGET)],
    "loading": [("loading.{}", loading.TARGET)],
    "apology": [("apology_flow.{}", apology.TARGET)],
    "inspection": [("inspection_draw.{}", inspection.TARGET)],
    "aggregate": [("aggregate.{}", aggregate.TARGET)],
    "http": [("http_move.{}", http.MOVE_TARGET), ("http_inbox.{}", http.INBOX_TARGET)],
    "startup": [("startup.{}", startup.TARGET)],
    "web": [("web_inbox.{}", web.INBOX_TARGET), ("web_search.{}", web.SEARCH_TARGET)],
}


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    quiet_logs()
    started = time.perf_counter()
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    groups = [g for g in GROUPS if g in args.only.split(",")]
    sizes = dict(QUICK if args.quick else FULL)
    for item in args.size:
        name, _, value = item.partition("=")
        sizes[name] = int(value)
    results: dict[str, Any] = {
        "generated_at": now_iso(),
        "mode": "quick" if args.quick else "full",
        "backends": backends,
        "sizes": sizes,
        "machine": machine(backends),
    }
    failed = False
    for backend in backends:
        problem = postgres_problem() if backend == "postgres" else None
        if problem is not None:
            note = problem + (" (CI=true: the PostgreSQL leg must run)" if IN_CI else "")
            print(f"postgres: skipped: {note}", file=sys.stderr)
            failed = failed or IN_CI
            for group in groups:
                for key, target in KEYS_BY_GROUP[group]:
                    results[key.format(backend)] = skipped(target, problem)
            continue
        scratch = Scratch(backend, pg_database=args.pg_database)
        try:
            for label, run in plan(sizes, args.quick, groups):
                print(f"{backend}: {label} ...", file=sys.stderr, flush=True)
                t0 = time.perf_counter()
                try:
                    results.update(run(scratch))
                except Exception as exc:  # recorded, and the run goes on with the others
                    traceback.print_exc()
                    failed = True
                    results[f"{label.split(',')[0]}.{backend}.error"] = {
                        "figures": {},
                        "target": None,
                        "met": False,
                        "error": f"{type(exc).__name__}: {exc}",
                    }
                print(
                    f"{backend}: {label} done in {time.perf_counter() - t0:.1f}s",
                    file=sys.stderr,
                    flush=True,
                )
        finally:
            scratch.close()
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    # A partial run (some groups, one backend) updates its own keys and keeps the others.
    partial = len(groups) < len(GROUPS) or len(backends) < len(BACKENDS)
    write(results, args.output, merge=partial)
    print("\n".join(tables(results)))
    print(f"results: {args.output / 'results.json'} ({results['total_seconds']}s)")
    return 1 if failed else 0


# RESULTS.md below this line is written by hand (findings, history) and kept by every run.
KEPT = "<!-- written by hand below: bench/run keeps it -->"


def write(results: dict[str, Any], folder: Path, *, merge: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / "results.json", folder / "RESULTS.md"
    if merge and json_path.exists():
        previous = json.loads(json_path.read_text(encoding="utf-8"))
        if previous.get("mode") == results.get("mode"):
            results = {**previous, **results}
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    kept = ""
    if md_path.exists():
        old = md_path.read_text(encoding="utf-8")
        if KEPT in old:
            kept = old[old.index(KEPT) :]
    generated = markdown(results, NOTES).rstrip("\n") + "\n"
    md_path.write_text(generated + ("\n" + kept if kept else ""), encoding="utf-8")
