"""The layers hold: the domain does no I/O, the services hold no SQL, only the store reaches
below SQLAlchemy, and which database it is is asked in one place per backend."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "workflow"


def modules(folder: Path) -> Iterator[Path]:
    yield from sorted(p for p in folder.rglob("*.py") if "migrations" not in p.parts)


def imported(path: Path) -> set[str]:
    """Every module `path` imports, by its full dotted name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def uses(path: Path, *prefixes: str) -> list[str]:
    return sorted(
        name for name in imported(path) for p in prefixes if name == p or name.startswith(p + ".")
    )


@pytest.mark.parametrize("path", list(modules(WORKFLOW / "domain")), ids=lambda p: p.name)
def test_the_domain_imports_no_io_library(path: Path) -> None:
    assert uses(path, "sqlalchemy", "prefect", "fastapi", "structlog", "workflow.store") == []


@pytest.mark.parametrize("path", list(modules(WORKFLOW / "services")), ids=lambda p: p.name)
def test_services_import_no_sqlalchemy_and_hold_no_sql(path: Path) -> None:
    assert uses(path, "sqlalchemy", "workflow.store.tables", "workflow.store.driver") == []
    text = path.read_text(encoding="utf-8").upper()
    for keyword in ("SELECT ", "INSERT INTO", "UPDATE TASKS", "DELETE FROM"):
        assert keyword not in text, f"{path.name} holds SQL ({keyword.strip()})"


def test_only_the_store_reaches_the_driver_and_asks_which_database_it_is() -> None:
    own_backend = {"sqlite.py", "postgres.py", "driver.py", "engine.py"}
    for path in modules(WORKFLOW):
        text = path.read_text(encoding="utf-8")
        inside_store = path.parent == WORKFLOW / "store"
        if "workflow.store.driver" in imported(path) or "workflow.store import driver" in text:
            assert path.parts[-3:-1] in (("workflow", "store"), ("store", "queries"),
                                        ("store", "repositories")), path  # fmt: skip
        for probe in ("dialect.name", "dbapi_connection", "driver_connection"):
            if probe in text:
                assert inside_store and path.name in own_backend, f"{path}: {probe}"


def test_no_old_audit_helpers_come_back() -> None:
    """Entries are typed events recorded through the unit of work: nothing builds one by
    hand outside the store and the domain's chain."""
    for path in modules(WORKFLOW):
        if path.parent.name in ("store", "domain") or path.parent.parent.name == "store":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bRecord\(", text), f"{path} builds an audit record by hand"
        assert "recorder." not in text, f"{path} appends to the audit log past the unit of work"
