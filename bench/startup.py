"""How fast the CLI answers: `planflow --help` and `planflow tasks list` on a small database,
each a fresh process, against `python -c pass` (the interpreter's own start) in the same run.

A command's time is mostly its imports: a command that loads what it does not use (Alembic,
Prefect, the demo, every other command's services) pays for it on every call. Rounds
interleave the three commands (pass, help, list), because the machine's speed drifts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import judged, median, result
from bench.loading import write_synthetic
from workflow.clock import SystemClock
from workflow.definitions.checks import validate
from workflow.services import Context
from workflow.services import plans as plan_service
from workflow.store.engine import open_engine

TARGET = "planflow --help and planflow tasks list (a few tasks) under 0.5 s each"
LIMIT_S = 0.5
TASKS = 20


def _planflow() -> list[str]:
    """The installed console script, as a user runs it; else the module."""
    script = Path(sys.executable).with_name("planflow")
    return [str(script)] if script.exists() else [sys.executable, "-m", "workflow.cli"]


def _load_tasks(url: str) -> int:
    with tempfile.TemporaryDirectory(prefix="planflow-startup-") as folder:
        write_synthetic(Path(folder), TASKS)
        found, problems = validate([Path(folder)])
        if problems:
            raise RuntimeError(f"synthetic plan: {problems[0]}")
        engine = open_engine(url)
        try:
            outcomes = plan_service.load(Context(engine, clock=SystemClock()), found)
        finally:
            engine.dispose()
    return sum(o.tasks_created for o in outcomes)


def _seconds(argv: list[str], env: dict[str, str], cwd: str) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return seconds


def bench(url: str, runs: int, quick: bool) -> dict[str, Any]:
    tasks = _load_tasks(url)
    planflow = _planflow()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANFLOW_")}
    commands = {
        "python_pass": [sys.executable, "-c", "pass"],
        "help": [*planflow, "--help"],
        "tasks_list": [*planflow, "--db", url, "tasks", "list"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="planflow-startup-cwd-") as cwd:
        for _ in range(runs):
            for name, argv in commands.items():
                times[name].append(_seconds(argv, env, cwd))
    floor = median(times["python_pass"])
    help_s, list_s = median(times["help"]), median(times["tasks_list"])
    figures = {
        "runs": runs,
        "tasks": tasks,
        "python_pass_ms": round(floor * 1000, 1),
        "help_ms": round(help_s * 1000, 1),
        "tasks_list_ms": round(list_s * 1000, 1),
        "help_ratio": round(help_s / floor, 1),
        "tasks_list_ratio": round(list_s / floor, 1),
    }
    return result(figures, TARGET, judged(quick, help_s < LIMIT_S and list_s < LIMIT_S))
