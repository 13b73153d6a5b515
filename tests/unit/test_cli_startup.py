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
    "openpyxl",  # `plans import FILE.xlsx`
    "weasyprint",  # PDFs: rendered by the flows and `documents pdf`, never at start-up
    "pyhanko",  # `documents sign|verify-signature`
    "workflow.demo",
    "workflow.store.schema",
    "workflow.documents.report",
    "flows.runtime",
)
# Only `--help`: a command that reads the database loads these.
STORE = ("sqlalchemy", "workflow.store.tables", "workflow.context", "structlog")
# Nor does a read that logs nothing (`tasks list`): the tables are Core tables (the ORM and
# its mapping cost ~0.1 s), structlog and rich load at the first event, and the audit events'
# classes where a task is created or moved (or replayed).
NOT_FOR_A_READ = (
    "sqlalchemy.orm",
    "structlog",
    "rich",
    "workflow.domain.events",
    "workflow.domain.replay_model",
)

PROBE = """
import json, sys
from workflow.cli.main import run
code = run(sys.argv[1:])
sys.stdout.flush()
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _loaded(tmp_path: Path, *argv: str) -> set[str]:
    return _probe(tmp_path, *argv)[1]


def _probe(tmp_path: Path, *argv: str) -> tuple[str, set[str]]:
    """What `planflow ARGV` printed, and the modules it loaded, in a fresh interpreter."""
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
    return done.stdout, set(report["modules"])


def _planflow(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workflow.cli", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)},
        check=True,
        timeout=120,
    )


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


def test_tasks_list_loads_neither_the_orm_nor_structlog_nor_the_events(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'planflow.db'}"
    _planflow(tmp_path, "--db", db, "init", "--simulation")
    _planflow(tmp_path, "--db", db, "plans", "load", str(ROOT / "definitions" / "lang-son-skhdt"))
    for argv in (["tasks", "list"], ["tasks", "list", "--format", "json"]):
        out, loaded = _probe(tmp_path, "--db", db, *argv)
        assert "lsn-skhdt-papi-2024" in out  # it did list the plan's tasks
        assert _among(loaded, NOT_FOR_A_READ) == [], argv


def test_a_command_that_logs_still_logs_as_configured(tmp_path: Path) -> None:
    """structlog loads at the first event, and the root options still decide where it goes:
    nothing on stderr by default, console lines with --verbose, JSON lines with --log-json."""
    folder = str(ROOT / "definitions" / "lang-son-skhdt")

    def load(name: str, *options: str) -> str:
        db = f"sqlite:///{tmp_path / name}"
        _planflow(tmp_path, "--db", db, "init", "--simulation")
        return _planflow(tmp_path, "--db", db, *options, "plans", "load", folder).stderr

    assert load("quiet.db") == ""
    shown = load("verbose.db", "--verbose")
    assert shown.count("[info     ] definitions.loaded") == 3, shown
    events = [json.loads(line) for line in load("json.db", "--verbose", "--log-json").splitlines()]
    assert [e["kind"] for e in events] == ["organisation", "procedures", "plan"]
    assert {e["event"] for e in events} == {"definitions.loaded"}
    assert all(e["timestamp"].endswith("+07:00") for e in events)


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
