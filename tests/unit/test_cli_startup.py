"""The CLI loads only what the command it runs uses (issue 18, item 7): `planflow --help`
never loads the store, Alembic, Prefect, the demo, the web app nor the document templates,
and `planflow tasks list` none of those but the store. Each check runs a fresh interpreter:
what an earlier test imported would hide a regression.

`bench/startup.py` times the same commands; this keeps a new top-level import from quietly
putting a second back on every call.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Loaded by a command that needs them, never by start-up.
HEAVY = (
    "alembic",
    "prefect",
    "fastapi",
    "uvicorn",
    "jinja2",
    "docx",
    "workflow.demo",
    "workflow.store.schema",
    "workflow.documents.report",
    "flows.runtime",
)
# Only `--help`: a command that reads the database loads these.
STORE = ("sqlalchemy", "workflow.store.tables", "workflow.context", "structlog")

PROBE = """
import json, sys
from workflow.cli.main import run
code = run(sys.argv[1:])
sys.stdout.flush()
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _loaded(tmp_path: Path, *argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stdout + done.stderr
    return set(report["modules"])


def _among(loaded: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n in loaded or any(m.startswith(n + ".") for m in loaded))


def test_help_loads_no_command_dependencies(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path, "--help")
    assert _among(loaded, HEAVY + STORE) == []


def test_tasks_list_loads_the_store_and_nothing_else_heavy(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'planflow.db'}"
    subprocess.run(
        [sys.executable, "-m", "workflow.cli", "--db", db, "init", "--simulation"],
        capture_output=True,
        cwd=tmp_path,
        check=True,
        timeout=120,
    )
    loaded = _loaded(tmp_path, "--db", db, "tasks", "list")
    assert "workflow.store.tables" in loaded  # it did read the database
    assert _among(loaded, HEAVY) == []


def test_lazy_module_runs_the_module_at_first_use() -> None:
    # `this` prints the Zen of Python when its body runs: nothing before the first use.
    probe = (
        "from workflow.lazy import lazy_module\n"
        "import sys\n"
        "this = lazy_module('this')\n"
        "print('bound', flush=True)\n"
        "assert len(this.s) > 0\n"
        "from this import s\n"
        "assert s == this.s and sys.modules['this'] is this\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    bound, _, zen = done.stdout.partition("bound\n")
    assert bound == ""
    assert zen.startswith("The Zen of Python")
