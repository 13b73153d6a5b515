"""What `audit replay` rebuilds and reports (`workflow.domain.replay`): the replayed rows,
the mismatches and problems it names, the columns it compares. Pure, no I/O."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from workflow.domain import events as ev
from workflow.domain.roster import Roster

CREATE = ev.TaskCreated.ACTION
COMPARED = (
    "state",
    "version",
    "lead_unit",
    "submitted_by",
    "returned_count",
    "cooperating_units",
    "due_date",
    "period",
    "completed_at",
    "parent_task",
    "code",
    "organisation",
    "plan_id",
    "kind",
    "title",
    "category",
)
# The tables of documents and draws replay holds against the log (`compare_documents`).
DOCUMENT_TABLES = (
    "notices",
    "inspection_records",
    "inspections",
    "report_snapshots",
    "organisations",
    "procedures",
    "rule_sets",
    "plan_versions",
)
DOSSIER_COMPARED = (
    "procedure",
    "applicant_name",
    "received_at",
    "original_due",
    "current_due",
    "extension_count",
    "delay_reason",
    "delay_days",
    "escalated",
)


@dataclass(slots=True)
class ReplayedTask:
    """A task as its audit entries say it is."""

    id: int
    state: str
    version: int
    lead_unit: str | None
    submitted_by: str | None = None
    returned_count: int = 0
    cooperating_units: list[str] | None = None
    due_date: str | None = None  # ISO date
    period: str = ""
    completed_at: str | None = None  # UTC, ISO 8601
    parent_task: int | None = None
    code: str | None = None
    organisation: str | None = None
    plan_id: str | None = None
    kind: str | None = None
    title: str | None = None
    category: str | None = None
    created_seq: int | None = None
    last_seq: int = 0
    last_at: str = ""  # when its last entry was made (stored text: sorts as instants do)
    # Columns its entries cannot tell, each with why: entries written before the field was
    # recorded (issue 15). Compared nowhere, listed as not covered.
    uncovered: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COMPARED}


@dataclass(slots=True)
class ReplayedDossier:
    """A dossier's own columns as its entries say they are (its state and completion are its
    task's)."""

    task_id: int
    code: str
    procedure: str | None
    applicant_name: str | None
    received_at: str | None  # UTC, ISO 8601
    original_due: str | None
    current_due: str | None
    extension_count: int = 0
    delay_reason: str | None = None
    delay_days: int | None = None
    escalated: bool = False
    last_seq: int = 0

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DOSSIER_COMPARED}


@dataclass(frozen=True, slots=True)
class LogProblem:
    """An entry that does not follow from the entries before it."""

    seq: int
    task: int | None  # None: an entry about no task
    problem: str

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "task": self.task, "problem": self.problem}

    def __str__(self) -> str:
        about = f" (task {self.task})" if self.task is not None else ""
        return f"entry {self.seq}{about}: {self.problem}"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A stored row whose columns differ from the replay of the log: `table` and `row` name
    it, `fields` the columns that differ."""

    task: int | None  # the task the row is of (None: a row of no task, a person's roles)
    fields: tuple[str, ...]
    stored: dict[str, Any] | None  # None: no such row in the table
    replayed: dict[str, Any] | None  # None: the log never created this row
    problem: str
    last_seq: int | None = None
    table: str = "tasks"
    row: str = ""  # the row's id or code, as the table keys it

    def as_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "row": self.row,
            "task": self.task,
            "fields": list(self.fields),
            "stored": self.stored,
            "replayed": self.replayed,
            "last_seq": self.last_seq,
            "problem": self.problem,
        }

    def __str__(self) -> str:
        return self.problem


@dataclass(frozen=True, slots=True)
class ReplayReport:
    tasks_checked: int
    entries_replayed: int
    mismatches: list[Mismatch] = field(default_factory=list)
    log_problems: list[LogProblem] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)  # rows checked, by table
    not_covered: list[str] = field(default_factory=list)  # columns the log cannot tell, why

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.log_problems

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tasks_checked": self.tasks_checked,
            "entries_replayed": self.entries_replayed,
            "checked": self.checked,
            "mismatches": [m.as_json() for m in self.mismatches],
            "log_problems": [p.as_json() for p in self.log_problems],
            "not_covered": self.not_covered,
        }


def utc_text(value: Any) -> str | None:
    """An instant as replay compares it: UTC, ISO 8601 (entries record some in Vietnam
    time); a value that is no instant stays as it is, to be named as it is."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)  # planflow stores UTC only
    return parsed.astimezone(dt.UTC).isoformat()


@dataclass(slots=True)
class Replayed:
    """Everything the log rebuilds, and what in it does not follow."""

    tasks: dict[int, ReplayedTask] = field(default_factory=dict)
    dossiers: dict[int, ReplayedDossier] = field(default_factory=dict)
    roster: Roster = field(default_factory=Roster)
    problems: list[LogProblem] = field(default_factory=list)
    used: int = 0  # entries about a task
    # Documents and draws: table -> row (its key as text) -> the columns the log says, and
    # the entry that said it last.
    documents: dict[str, dict[str, tuple[dict[str, Any], int]]] = field(
        default_factory=lambda: {name: {} for name in DOCUMENT_TABLES}
    )

    def document(self, table: str, row: str, seq: int, **columns: Any) -> None:
        known = self.documents[table].get(row)
        merged = {**known[0], **columns} if known is not None else columns
        self.documents[table][row] = (merged, seq)
