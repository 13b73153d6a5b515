"""results.json as readable tables: on stdout, and in RESULTS.md with the machine."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

Results = dict[str, Any]
META_KEYS = ("generated_at", "mode", "backends", "sizes", "machine", "total_seconds")


def _met(entry: dict[str, Any]) -> str:
    if "error" in entry:
        return "ERROR"
    if "skipped" in entry:
        return "skipped"
    return {True: "yes", False: "**no**", None: "–"}[entry.get("met")]


def _num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "–" if value is None else str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if value < 100 else f"{value:,.0f}"
    return str(value)


def _table(head: Sequence[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return [*out, ""]


def _entries(results: Results, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    return [(k, v) for k, v in results.items() if k.startswith(prefix + ".")]


def _figure(entry: dict[str, Any], *names: str) -> list[str]:
    figures = entry.get("figures", {})
    return [_num(figures.get(name)) for name in names]


def _why(entry: dict[str, Any]) -> str:
    return str(entry.get("error") or entry.get("skipped") or "")


def _section(
    results: Results,
    prefix: str,
    title: str,
    head: Sequence[str],
    row: Callable[[str, dict[str, Any]], list[str]],
) -> list[str]:
    rows = []
    for key, entry in _entries(results, prefix):
        if "figures" not in entry or not entry["figures"]:
            rows.append(
                [key.split(".", 1)[1], _why(entry)] + [""] * (len(head) - 3) + [_met(entry)]
            )
        else:
            rows.append(row(key, entry))
    if not rows:
        return []
    target = next((e.get("target") for _, e in _entries(results, prefix)), None)
    return [f"**{title}**" + (f" (target: {target})" if target else ""), "", *_table(head, rows)]


def tables(results: Results) -> list[str]:
    lines: list[str] = []

    def backend_of(key: str) -> str:
        return key.split(".")[1]

    lines += _section(
        results,
        "transitions",
        "Moves through the engine against the driver's floor",
        ["backend", "writers", "moves", "engine moves/s", "floor moves/s", "ratio", "met"],
        lambda k, e: [
            backend_of(k),
            *_figure(e, "writers", "moves", "engine_moves_per_s", "floor_moves_per_s", "ratio"),
            _met(e),
        ],
    )
    lines += _section(
        results,
        "audit_verify",
        "audit verify",
        ["backend", "entries", "entries/s", "seconds (median)", "met"],
        lambda k, e: [
            backend_of(k),
            *_figure(e, "entries", "entries_per_s", "verify_seconds"),
            _met(e),
        ],
    )
    lines += _section(
        results,
        "audit_query",
        "Audit queries (ms; 200 of each)",
        [
            "backend",
            "entries",
            "task history p50",
            "p95",
            "person's month p50",
            "p95",
            "met",
        ],
        lambda k, e: [
            backend_of(k),
            *_figure(
                e,
                "entries",
                "task_history_p50_ms",
                "task_history_p95_ms",
                "actor_month_p50_ms",
                "actor_month_p95_ms",
            ),
            _met(e),
        ],
    )
    lines += _section(
        results,
        "memory",
        "Memory held per task",
        [
            "backend",
            "tasks",
            "TaskView B/task",
            "MiB per 100k",
            "TaskFacts B/task",
            "machines",
            "met",
        ],
        lambda k, e: [
            backend_of(k),
            *_figure(
                e,
                "tasks",
                "task_view_bytes_per_task",
                "task_view_mib_per_100k",
                "task_facts_bytes_per_task",
                "machines_alive",
            ),
            _met(e),
        ],
    )
    lines += _section(
        results,
        "loading",
        "Loading definitions (seconds)",
        [
            "backend",
            "seeds: tasks",
            "validate",
            "load",
            "reload",
            "synthetic: tasks",
            "validate",
            "load",
            "met",
        ],
        lambda k, e: [
            backend_of(k),
            *_figure(
                e,
                "seed_tasks",
                "seed_validate_s",
                "seed_load_s",
                "seed_reload_unchanged_s",
                "synthetic_tasks",
                "synthetic_validate_s",
                "synthetic_load_s",
            ),
            _met(e),
        ],
    )
    lines += _section(
        results,
        "aggregate",
        "Report for a year (seconds)",
        [
            "backend",
            "tasks",
            "audit entries",
            "year (median)",
            "first",
            "quarter",
            "ask again",
            "flow",
            "met",
        ],
        lambda k, e: [
            backend_of(k),
            *_figure(
                e,
                "tasks",
                "audit_entries",
                "year_seconds_median",
                "year_seconds_first",
                "quarter_seconds",
                "ask_again_seconds",
                "flow_seconds",
            ),
            _met(e),
        ],
    )
    lines += _section(
        results,
        "startup",
        "CLI start-up (ms, median; ratio to python -c pass)",
        ["backend", "python -c pass", "--help", "ratio", "tasks list", "ratio", "met"],
        lambda k, e: [
            backend_of(k),
            *_figure(
                e, "python_pass_ms", "help_ms", "help_ratio", "tasks_list_ms", "tasks_list_ratio"
            ),
            _met(e),
        ],
    )

    def page_row(size: str) -> Callable[[str, dict[str, Any]], list[str]]:
        def row(k: str, e: dict[str, Any]) -> list[str]:
            figures = ("page_p50_ms", "page_p95_ms", "api_p50_ms", "api_p95_ms")
            return [backend_of(k), *_figure(e, size, *figures), _met(e)]

        return row

    for prefix, title, size in (
        ("web_inbox", "The inbox page beside the API call (ms, one client)", "tasks"),
        ("web_search", "The log search page beside the API call (ms, one client)", "entries"),
    ):
        head = ["backend", size, "page p50", "page p95", "API p50", "API p95", "met"]
        lines += _section(results, prefix, title, head, page_row(size))
    known = (
        "web_inbox.",
        "web_search.",
        "startup.",
        "transitions.",
        "audit_verify.",
        "audit_query.",
        "memory.",
        "loading.",
        "aggregate.",
    )
    others = [
        [key, json.dumps(entry.get("figures", {}), ensure_ascii=False), _met(entry)]
        for key, entry in results.items()
        if key not in META_KEYS and not key.startswith(known)
    ]
    if others:
        lines += ["**Other benchmarks**", "", *_table(["benchmark", "figures", "met"], others)]
    return lines


def machine_lines(results: Results) -> list[str]:
    m = results.get("machine", {})
    pg = m.get("postgres")
    return [
        f"- CPU: {m.get('cpu')}, {m.get('cores')} cores usable; RAM {m.get('ram_gib')} GiB",
        f"- {m.get('os')}; Python {m.get('python')}; SQLAlchemy {m.get('sqlalchemy')}",
        f"- SQLite {m.get('sqlite')} (WAL, synchronous=FULL; files in {m.get('temp_dir')})",
        f"- PostgreSQL {pg} (127.0.0.1, synchronous_commit={m.get('postgres_synchronous_commit')}, "
        f"autovacuum={m.get('postgres_autovacuum')})"
        if pg
        else "- PostgreSQL: not measured",
    ]


def markdown(results: Results, notes: Sequence[str]) -> str:
    sizes = results.get("sizes", {})
    lines = [
        "# planflow benchmarks",
        "",
        f"Generated {results.get('generated_at')} by `bench/run"
        + (" --quick" if results.get("mode") == "quick" else "")
        + "` (sizes: "
        + ", ".join(f"{k} {_num(v)}" for k, v in sizes.items())
        + "). The raw figures are in `results.json`.",
        "",
        "## Machine",
        "",
        *machine_lines(results),
        "",
        "## Results",
        "",
        *tables(results),
        "## How to read them",
        "",
        *notes,
        "",
    ]
    return "\n".join(lines)
