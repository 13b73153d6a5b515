"""Holding stored rows against the replay (`workflow.domain.replay`): one `Mismatch` per
row that differs, naming its table, row and columns, the stored values and the log's. Pure:
the rows arrive as plain mappings in the log's own text forms."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from workflow.domain import events as ev
from workflow.domain.audit_chain import canonical_json, content_hash
from workflow.domain.replay_model import (
    COMPARED,
    CREATE,
    DOCUMENT_TABLES,
    DOSSIER_COMPARED,
    Mismatch,
    ReplayedDossier,
    ReplayedTask,
    utc_text,
)
from workflow.domain.roster import Roster


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):  # a whole record: its hash, not a page of JSON on one line
        return f"{{…}} (canonical JSON sha256 {content_hash(canonical_json(value))[:12]}…)"
    return str(value)


def _describe(values: Mapping[str, Any], fields: Iterable[str]) -> str:
    return ", ".join(f"{name} {_show(values[name])}" for name in fields)


def compare(
    replayed: Mapping[int, ReplayedTask], stored: Iterable[Mapping[str, Any]]
) -> tuple[list[Mismatch], int]:
    """Every task whose row differs from the replay; returns mismatches and tasks checked."""
    mismatches: list[Mismatch] = []
    seen: set[int] = set()
    for row in stored:
        task_id = int(row["id"])
        seen.add(task_id)
        values = {name: row[name] for name in COMPARED if name in row}
        task = replayed.get(task_id)
        if task is None:
            mismatches.append(
                Mismatch(
                    task_id,
                    tuple(values),
                    values,
                    None,
                    f"task {task_id} ({values['state']}, version {values['version']}) has no "
                    f"{CREATE} entry in the audit log",
                    row=str(task_id),
                )
            )
            continue
        expected = task.as_json()
        differ = tuple(
            name
            for name in values
            if name not in task.uncovered and _normal(values[name]) != _normal(expected[name])
        )
        if differ:
            mismatches.append(
                Mismatch(
                    task_id,
                    differ,
                    {name: values[name] for name in differ},
                    {name: expected[name] for name in differ},
                    f"task {task_id}: stored {_describe(values, differ)}; the audit log replays "
                    f"to {_describe(expected, differ)} (its last entry is {task.last_seq})",
                    task.last_seq,
                    row=str(task_id),
                )
            )
    for task_id in sorted(set(replayed) - seen):
        task = replayed[task_id]
        mismatches.append(
            Mismatch(
                task_id,
                COMPARED,
                None,
                task.as_json(),
                f"task {task_id} is in the audit log (last entry {task.last_seq}, "
                f"{task.state}) but not in the tasks table",
                task.last_seq,
                row=str(task_id),
            )
        )
    mismatches.sort(key=lambda m: m.task or 0)
    return mismatches, len(seen | set(replayed))


def _normal(value: Any) -> Any:
    # Stored and replayed values arrive in the log's text forms; lists compare as lists.
    return list(value) if isinstance(value, tuple) else value


def compare_dossiers(
    replayed: Mapping[int, ReplayedDossier], stored: Iterable[Mapping[str, Any]]
) -> tuple[list[Mismatch], int]:
    """Every dossier whose own columns differ from the replay (its state and completion are
    its task's, compared with the tasks)."""
    mismatches: list[Mismatch] = []
    seen: set[int] = set()
    for row in stored:
        task_id = int(row["task_id"])
        seen.add(task_id)
        values = {name: row[name] for name in DOSSIER_COMPARED}
        dossier = replayed.get(task_id)
        code = row.get("code")
        if dossier is None:
            mismatches.append(
                Mismatch(
                    task_id,
                    DOSSIER_COMPARED,
                    values,
                    None,
                    f"dossier {task_id} ({code}) has no {ev.DossierReceived.ACTION} entry in "
                    "the audit log",
                    table="dossiers",
                    row=str(code),
                )
            )
            continue
        expected = dossier.as_json()
        values["received_at"] = utc_text(values["received_at"])
        differ = tuple(name for name in DOSSIER_COMPARED if values[name] != expected[name])
        if differ:
            mismatches.append(
                Mismatch(
                    task_id,
                    differ,
                    {name: values[name] for name in differ},
                    {name: expected[name] for name in differ},
                    f"dossier {task_id} ({code}): stored {_describe(values, differ)}; the audit "
                    f"log replays to {_describe(expected, differ)} (its last entry is "
                    f"{dossier.last_seq})",
                    dossier.last_seq,
                    table="dossiers",
                    row=str(code),
                )
            )
    for task_id in sorted(set(replayed) - seen):
        dossier = replayed[task_id]
        mismatches.append(
            Mismatch(
                task_id,
                DOSSIER_COMPARED,
                None,
                dossier.as_json(),
                f"dossier {task_id} ({dossier.code}) is in the audit log (last entry "
                f"{dossier.last_seq}) but not in the dossiers table",
                dossier.last_seq,
                table="dossiers",
                row=dossier.code,
            )
        )
    return mismatches, len(seen | set(replayed))


def compare_roles(
    roster: Roster, stored: Mapping[str, Iterable[str]]
) -> tuple[list[Mismatch], int]:
    """Every person whose roles in `person_roles` differ from what the role grants left."""
    granted = roster.roles()
    mismatches: list[Mismatch] = []
    people = sorted(set(granted) | set(stored))
    for person in people:
        held = sorted(stored.get(person, ()))
        roles, last_seq = granted.get(person, (frozenset(), None))
        expected = sorted(roles)
        if held == expected:
            continue
        since = (
            f"its last role.change entry is {last_seq}"
            if last_seq is not None
            else "no role.change entry names this person"
        )
        mismatches.append(
            Mismatch(
                None,
                ("roles",),
                {"roles": held},
                {"roles": expected},
                f"person_roles of {person}: stored roles {_show(held)}; the audit log replays to "
                f"roles {_show(expected)} ({since})",
                last_seq,
                table="person_roles",
                row=person,
            )
        )
    return mismatches, len(people)


def _document_values(table: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row of a document table as replay compares it: an inspection record's JSON
    text as its object, a report's content and a definition as their SHA-256."""
    out = dict(values)
    if table == "inspection_records" and isinstance(out.get("record"), str):
        with contextlib.suppress(ValueError):  # not JSON: named as it is
            out["record"] = json.loads(out["record"])
    if table == "report_snapshots" and isinstance(out.get("content"), str):
        out["content"] = content_hash(out["content"])
    if table in ("rule_sets", "plan_versions") and isinstance(out.get("definition"), str):
        out["definition"] = content_hash(out["definition"])
    return out


def compare_documents(
    replayed: Mapping[str, Mapping[str, tuple[dict[str, Any], int]]],
    stored: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> tuple[list[Mismatch], dict[str, int]]:
    """Every notice, inspection record, draw and report snapshot whose row differs from what
    its entries record; rows by their key (a notice's key, a record's task/revision, an id)."""
    mismatches: list[Mismatch] = []
    checked: dict[str, int] = {}
    for table in DOCUMENT_TABLES:
        expected_rows, rows = replayed.get(table, {}), stored.get(table, {})
        keys = sorted(set(expected_rows) | set(rows))
        checked[table] = len(keys)
        for key in keys:
            found = expected_rows.get(key)
            row = rows.get(key)
            if found is None:
                mismatches.append(
                    Mismatch(None, (), dict(row or {}), None,
                             f"{table} {key} has no entry in the audit log",
                             table=table, row=key)
                )  # fmt: skip
                continue
            expected, seq = found
            if row is None:
                mismatches.append(
                    Mismatch(None, tuple(expected), None, expected,
                             f"{table} {key} is in the audit log (entry {seq}) but not in the "
                             f"{table} table", seq, table=table, row=key)
                )  # fmt: skip
                continue
            values = _document_values(table, row)
            differ = tuple(name for name in expected if values.get(name) != expected[name])
            if differ:
                mismatches.append(
                    Mismatch(
                        None,
                        differ,
                        {name: values.get(name) for name in differ},
                        {name: expected[name] for name in differ},
                        f"{table} {key}: stored {_describe(values, differ)}; the audit log "
                        f"replays to {_describe(expected, differ)} (entry {seq})",
                        seq,
                        table=table,
                        row=key,
                    )
                )
    return mismatches, checked
