"""How the command line is put together, and what no module may lean on.

- One way to add commands: each module `workflow/cli/*_cmd.py` has `register(app)`, `main`
  calls every one, and no command module imports another (no registration, or sharing, by
  import side effect); the commands are the documented ones, in the documented order.
- Commands end in a raised error of `workflow.errors`, never `typer.Exit(N)` or `sys.exit`.
- Every user-facing error class is in `workflow/errors.py` (no subclass, no alias elsewhere).
- No module of `workflow/` or `flows/` uses a private attribute or module of a library
  (SQLAlchemy, Typer, Click above all: an upgrade may change them without notice).
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import typer

from workflow import errors

ROOT = Path(__file__).resolve().parents[2]
CLI = ROOT / "workflow" / "cli"
OURS = ("workflow", "flows")
LIBRARIES = ("sqlalchemy", "typer", "click")
# Public API named with a leading underscore, so as not to clash with column names:
# SQLAlchemy's `Row` (documented: `Row._asdict()`, `._mapping`, `._fields`, `._tuple()`, `._t`).
PUBLIC_UNDERSCORED = {"_asdict", "_mapping", "_fields", "_tuple", "_t"}

# `planflow --help` and each group's, in their order (README, "Commands").
COMMAND_TREE: list[tuple[str, list[str]]] = [
    ("init", []),
    ("demo", []),
    ("serve", []),
    ("web", []),
    ("tasks", ["list", "show", "history", "start", "submit", "return", "verify", "close",
               "reassign", "withdraw"]),
    ("audit", ["query", "verify", "anchor", "replay", "export"]),
    ("plans", ["validate", "load", "list", "show", "schema", "new", "import"]),
    ("orgs", ["new", "list", "show"]),
    ("lifecycle", ["diagram"]),
    ("dossiers", ["receive", "import", "delay", "list", "show"]),
    ("procedures", ["list"]),
    ("flows", ["apology", "inspect", "aggregate"]),
    ("calendar", ["due"]),
    ("inspections", ["list", "show", "explain", "template", "record"]),
    ("reports", ["list", "show", "province"]),
    ("documents", ["verify", "restore", "pdf", "sign", "verify-signature"]),
    ("accounts", ["bootstrap-admin", "invite", "list", "disable", "enable", "reset",
                  "revoke-sessions"]),
    ("tokens", ["create", "list", "revoke"]),
]  # fmt: skip


def sources(*folders: str) -> Iterator[tuple[Path, ast.Module]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}: {ast.unparse(node)[:90]}"


def command_modules() -> list[str]:
    return sorted(path.stem for path in CLI.glob("*_cmd.py"))


# ------------------------------------------------------------------ registration


def test_every_command_module_registers_itself_and_main_calls_each() -> None:
    from workflow.cli import main

    modules = [m for m in main.COMMANDS if isinstance(m, ModuleType)]
    assert len(modules) == len(main.COMMANDS)
    assert sorted(m.__name__.rsplit(".", 1)[-1] for m in modules) == command_modules()
    for module in modules:
        register = getattr(module, "register", None)
        assert callable(register), f"{module.__name__} has no register(app)"
        assert len(inspect.signature(register).parameters) == 1, module.__name__


def test_commands_are_added_only_by_the_modules_register() -> None:
    """`main` adds nothing itself, and no command module imports another: what a module's
    `register` does not add is not there."""
    main_tree = ast.parse((CLI / "main.py").read_text(encoding="utf-8"))
    adds = [
        node
        for node in ast.walk(main_tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("add_typer", "command")
    ]
    assert adds == [], [ast.unparse(n) for n in adds]
    found = []
    for path, tree in sources("workflow/cli"):
        if not path.stem.endswith("_cmd"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found += [where(path, node) for name in names if name.endswith("_cmd")]
    assert found == []


def test_the_commands_are_the_documented_ones_in_their_order() -> None:
    from workflow.cli.main import build

    root: Any = typer.main.get_command(build())
    tree = [(name, list(getattr(cmd, "commands", {}))) for name, cmd in root.commands.items()]
    assert tree == COMMAND_TREE


# ------------------------------------------------------------------ exits and errors


def test_no_command_exits_by_itself() -> None:
    """A failure is a raised error (its exit code is `workflow.errors`', returned by
    `main.run`); only `main.main` calls `sys.exit`."""
    found = []
    for path, tree in sources("workflow/cli"):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = ast.unparse(node.func)
                exit_zero = not node.keywords and (
                    not node.args
                    or (isinstance(node.args[0], ast.Constant) and node.args[0].value == 0)
                )
                if name.split(".")[-1] == "Exit" and not exit_zero:
                    found.append(where(path, node))
                if name in ("sys.exit", "exit", "SystemExit") and path.name != "main.py":
                    found.append(where(path, node))
            elif isinstance(node, ast.Raise) and ast.unparse(node).startswith("raise SystemExit"):
                found.append(where(path, node))
    assert found == []
    main_tree = ast.parse((CLI / "main.py").read_text(encoding="utf-8"))
    calls = [
        fn.name
        for fn in ast.walk(main_tree)
        if isinstance(fn, ast.FunctionDef)
        for node in ast.walk(fn)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "sys.exit"
    ]
    assert calls == ["main"]


def error_classes() -> set[str]:
    found: set[str] = set()
    todo: list[type[errors.PlanflowError]] = [errors.PlanflowError]
    while todo:
        kind = todo.pop()
        found.add(kind.__name__)
        todo += kind.__subclasses__()
    return found


def test_every_user_facing_error_class_is_in_workflow_errors() -> None:
    kinds = error_classes()
    home = ROOT / "workflow" / "errors.py"
    found = []
    for path, tree in sources(*OURS):
        if path == home:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b).split(".")[-1] for b in node.bases}
                if bases & kinds:
                    found.append(where(path, node))
        for node in tree.body:  # an alias: another name for one of them
            value = (
                getattr(node, "value", None)
                if isinstance(node, ast.Assign | ast.AnnAssign)
                else None
            )
            if value is not None and ast.unparse(value).split(".")[-1] in kinds:
                found.append(where(path, node))
    assert found == []


# ------------------------------------------------------------------ private attributes


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def our_names(trees: list[ast.Module]) -> set[str]:
    """Every name our own code defines: a private attribute among them is ours to use."""
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias) and node.name.split(".")[0] in OURS:
                names.add(node.asname or node.name.split(".")[-1])
    return names


def library_names(tree: ast.Module) -> set[str]:
    """The names a module binds to SQLAlchemy, Typer or Click (modules or their objects)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in LIBRARIES:
                    names.add(alias.asname or alias.name.split(".")[0])
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] in LIBRARIES
        ):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


def root_name(node: ast.expr) -> str | None:
    """`engine` of `engine.dialect._x`, `make_url` of `make_url(u)._replace`."""
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def private_uses(path: Path, tree: ast.Module, ours: set[str]) -> Iterator[str]:
    libraries = library_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if isinstance(node, ast.ImportFrom) and (node.level or module is None):
                continue  # relative: our own
            paths = (
                [f"{module}.{a.name}" for a in node.names]
                if module is not None
                else [a.name for a in node.names]
            )
            for dotted in paths:
                parts = dotted.split(".")
                if parts[0] not in OURS and any(private(p) for p in parts):
                    yield where(path, node)
        elif isinstance(node, ast.Attribute) and private(node.attr):
            if node.attr in PUBLIC_UNDERSCORED:
                continue
            if root_name(node.value) in libraries or node.attr not in ours:
                yield where(path, node)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and private(node.args[1].value)
            and node.args[1].value not in ours
        ):
            yield where(path, node)


def test_no_module_uses_a_private_attribute_of_a_library() -> None:
    """`typer._click`, `Connection._handle_dbapi_exception`, `URL._replace`, ... are not
    promised to last; a private name we use must be one our own code defines."""
    trees = list(sources(*OURS))
    ours = our_names([tree for _, tree in trees])
    found = [use for path, tree in trees for use in private_uses(path, tree, ours)]
    assert found == []


@pytest.mark.parametrize(
    "code",
    [
        "from typer._click.exceptions import UsageError",
        "import click._compat",
        "from typer import _click",
        "import typer\ntyper.main._private_thing()",
        "from sqlalchemy.engine import make_url\nmake_url('x')._replace(password=None)",
        "def f(conn):\n    conn._handle_dbapi_exception(None)",
        "def f(conn):\n    return getattr(conn, '_has_events')",
    ],
)
def test_the_private_attribute_scan_sees_them(code: str) -> None:
    tree = ast.parse(code)
    assert list(private_uses(ROOT / "example.py", tree, {"f", "conn"})) != []


def test_the_private_attribute_scan_lets_our_own_and_rows_public_api_be() -> None:
    code = (
        "from sqlalchemy import Row\n"
        "class Gate:\n    def __init__(self):\n        self._lock = 1\n"
        "    def held(self):\n        return self._lock\n"
        "def f(row: Row):\n    return row._asdict(), row._mapping\n"
    )
    tree = ast.parse(code)
    assert list(private_uses(ROOT / "example.py", tree, our_names([tree]))) == []
