"""The task as people see it (a read model), and the facts the rules need from it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

from workflow.domain.lifecycle import NOT_DONE, State, TaskFacts


@dataclass(frozen=True, slots=True)
class TaskView:
    id: int
    organisation: str
    plan: str | None
    kind: str
    code: str
    period: str
    title: str
    category: str | None
    state: State
    lead_unit: str
    due_date: dt.date | None
    version: int
    submitted_by: str | None = None
    returned_count: int = 0
    cooperating_units: list[str] = field(default_factory=list)
    schedule_text: str | None = None
    deliverable: str | None = None
    target: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None  # when it was verified (its work accepted)
    parent_task: int | None = None  # the task it follows from (a fix: its inspection)

    def facts(self) -> TaskFacts:
        return TaskFacts(self.id, self.organisation, self.lead_unit, self.state, self.submitted_by)

    def is_overdue(self, today: dt.date) -> bool:
        """Past its due date and not yet verified (verification is what "done" means)."""
        return self.due_date is not None and self.due_date < today and self.state in NOT_DONE

    def as_json(self) -> dict[str, Any]:
        # Field by field: `asdict` deep-copies every value, ten times the cost (an inbox
        # page renders a hundred of these).
        out = {name: getattr(self, name) for name in _FIELDS}
        out["state"] = self.state.value
        out["cooperating_units"] = list(self.cooperating_units)
        for key in ("due_date", "created_at", "updated_at", "completed_at"):
            value = out[key]
            out[key] = value.isoformat() if value is not None else None
        return out


_FIELDS = tuple(f.name for f in fields(TaskView))


@dataclass(frozen=True, slots=True)
class MoveSubject:
    """What a move reads of its task before deciding: the rules' facts and what the entry
    records. The full row comes back from the compare-and-set, so it is parsed once."""

    id: int
    organisation: str
    plan: str | None
    kind: str
    state: State
    lead_unit: str
    version: int
    submitted_by: str | None
    returned_count: int

    def facts(self) -> TaskFacts:
        return TaskFacts(self.id, self.organisation, self.lead_unit, self.state, self.submitted_by)
