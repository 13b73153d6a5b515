"""The database's own safeguards of what the log and reports rest on, and their check.

The migrations create them: triggers refusing UPDATE and DELETE (and, on PostgreSQL,
TRUNCATE) of the audit log (0001) and of report snapshots (0004), their PostgreSQL trigger
functions, and `planflow_append` (0005, replaced by 0006), which chains, dates and hashes a
move's entry on the server. An owner who drops, disables or rewrites one of them leaves the
chain intact (the entries still hash), so `audit verify` asks the catalogue too: SQLite's
`sqlite_master`, PostgreSQL's `pg_trigger` and `pg_proc`.

The expected definitions are read from the very constants the migrations executed, so the
two cannot drift apart: a migration that replaces a safeguard must be named here (as 0006
is for `planflow_append`), and the tests' migrated database, which passes, proves it is.
Definitions are compared with their whitespace collapsed (SQLite keeps the statement's own
text; PostgreSQL keeps a function's body as written and rewrites a trigger's definition,
which is therefore compared part by part: timing, events, table, level, condition, function).
"""

from __future__ import annotations

import functools
import importlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, text

from workflow.domain.audit_chain import SafeguardProblem

_VERSIONS = "workflow.store.migrations.versions."
_TRIGGER = re.compile(r"CREATE TRIGGER (\w+)\s.*?\sON (\w+)", re.DOTALL)
_FUNCTION = re.compile(
    r"CREATE FUNCTION (\w+)\((.*?)\) RETURNS (\w+) LANGUAGE (\w+)\b.*? AS \$\$(.*)\$\$",
    re.DOTALL,
)
# A PostgreSQL trigger's definition, as written in a migration or as pg_get_triggerdef gives
# it back (events reordered, the table's schema named): its parts, compared one by one.
_TRIGGER_DEF = re.compile(
    r"CREATE (?:CONSTRAINT )?TRIGGER (\S+) (BEFORE|AFTER|INSTEAD OF) (.+?) ON (\S+) (.*?)"
    r"FOR EACH (ROW|STATEMENT) (?:WHEN \((.*)\) )?EXECUTE (?:FUNCTION|PROCEDURE) (\S+?)\((.*)\)$",
    re.DOTALL,
)


def _normal(sql: str) -> str:
    return " ".join(sql.split())


@dataclass(frozen=True, slots=True)
class Expected:
    kind: str  # trigger or function
    name: str
    table: str | None  # a trigger's table
    sql: str  # the statement its migration executed
    migration: str


def _module(name: str) -> ModuleType:
    return importlib.import_module(_VERSIONS + name)


def _expected(statements: Iterable[str], migration: str) -> list[Expected]:
    found = []
    for sql in statements:
        function = _FUNCTION.search(sql)
        if function is not None:
            found.append(Expected("function", function.group(1), None, sql, migration))
            continue
        trigger = _TRIGGER.search(sql)
        assert trigger is not None, f"migration {migration}: a statement that is neither"
        found.append(Expected("trigger", trigger.group(1), trigger.group(2), sql, migration))
    return found


@functools.cache
def expected_sqlite() -> tuple[Expected, ...]:
    return (
        *_expected(_module("0001_initial").SQLITE_TRIGGERS, "0001"),
        *_expected(_module("0004_report_snapshots").SQLITE_TRIGGERS, "0004"),
    )


@functools.cache
def expected_postgres() -> tuple[Expected, ...]:
    return (
        *_expected(_module("0001_initial").POSTGRES_TRIGGERS, "0001"),
        *_expected(_module("0004_report_snapshots").POSTGRES_TRIGGERS, "0004"),
        # 0006 replaced 0005's planflow_append: the one a database at head holds.
        *_expected([_module("0006_accounts").APPEND], "0006"),
    )


def _problem(expected: Expected, problem: str, detail: str = "") -> SafeguardProblem:
    where = f" on {expected.table}" if expected.table else ""
    words = {
        "missing": "is missing",
        "disabled": "is disabled",
        "changed": f"was changed{detail}: it is not the one migration {expected.migration} created",
    }
    return SafeguardProblem(
        kind=expected.kind,
        name=expected.name,
        table=expected.table,
        problem=problem,
        message=f"{expected.kind} {expected.name}{where} {words[problem]}",
    )


class Safeguards(ABC):
    """One backend's check of its safeguards against the migrations' definitions."""

    @abstractmethod
    def problems(self, conn: Connection) -> list[SafeguardProblem]:
        """Every safeguard missing, disabled or changed, in the migrations' order."""


class SqliteSafeguards(Safeguards):
    """SQLite keeps each trigger's CREATE statement as it was given; a trigger cannot be
    disabled there (only per connection, which nothing stores), only dropped or replaced."""

    def problems(self, conn: Connection) -> list[SafeguardProblem]:
        stored = {
            (row[0], row[1]): row[2] or ""
            for row in conn.execute(
                text("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            )
        }
        found = []
        for expected in expected_sqlite():
            sql = stored.get((expected.name, expected.table))
            if sql is None:
                found.append(_problem(expected, "missing"))
            elif _normal(sql) != _normal(expected.sql):
                found.append(_problem(expected, "changed"))
        return found


_PG_TRIGGERS = text(
    "SELECT t.tgname, c.relname, t.tgenabled, pg_get_triggerdef(t.oid) "
    "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
    "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
)
_PG_FUNCTIONS = text(
    "SELECT p.proname, pg_get_function_identity_arguments(p.oid), "
    "pg_get_function_result(p.oid), l.lanname, p.provolatile, p.prosrc "
    "FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
    "WHERE p.pronamespace = current_schema()::regnamespace"
)
# 'O' fires in ordinary sessions (as created), 'A' always; 'D' (DISABLE TRIGGER) never, and
# 'R' only in replication sessions: both leave the table unguarded.
_FIRES = ("O", "A")


def _trigger_parts(definition: str) -> tuple[Any, ...] | None:
    match = _TRIGGER_DEF.match(_normal(definition))
    if match is None:
        return None
    name, timing, events, table, middle, level, when, function, args = match.groups()
    return (
        name,
        timing,
        tuple(sorted(events.split(" OR "))),
        table.rsplit(".", 1)[-1],
        middle.strip(),
        level,
        when,
        function.rsplit(".", 1)[-1],
        args.strip(),
    )


class PostgresSafeguards(Safeguards):
    """PostgreSQL: each trigger present on its table, enabled, defined as created (calling
    the same function); each function with the same arguments, result, language, volatility
    and body. Objects are looked for in the schema the tables are in (`current_schema()`)."""

    def problems(self, conn: Connection) -> list[SafeguardProblem]:
        triggers = {(row[0], row[1]): (row[2], row[3]) for row in conn.execute(_PG_TRIGGERS)}
        functions: dict[str, list[Sequence[Any]]] = {}
        for row in conn.execute(_PG_FUNCTIONS):
            functions.setdefault(row[0], []).append(row)
        found = []
        for expected in expected_postgres():
            if expected.kind == "trigger":
                problem = self._trigger(expected, triggers.get((expected.name, expected.table)))
            else:
                problem = self._function(expected, functions.get(expected.name, []))
            if problem is not None:
                found.append(problem)
        return found

    @staticmethod
    def _trigger(expected: Expected, stored: tuple[str, str] | None) -> SafeguardProblem | None:
        if stored is None:
            return _problem(expected, "missing")
        enabled, definition = stored
        if _trigger_parts(definition) != _trigger_parts(expected.sql):
            return _problem(expected, "changed")
        if enabled not in _FIRES:
            return _problem(expected, "disabled")
        return None

    @staticmethod
    def _function(expected: Expected, stored: list[Sequence[Any]]) -> SafeguardProblem | None:
        if not stored:
            return _problem(expected, "missing")
        match = _FUNCTION.search(expected.sql)
        assert match is not None
        _name, args, result, language, body = match.groups()
        same_args = [row for row in stored if _normal(row[1]) == _normal(args)]
        if not same_args:
            return _problem(expected, "changed", " (its arguments differ)")
        [row] = same_args  # one function per name and arguments
        if (row[2], row[3], row[4]) != (result, language, "v"):
            return _problem(expected, "changed", " (its result, language or volatility)")
        if _normal(row[5]) != _normal(body):
            return _problem(expected, "changed", " (its body)")
        return None
