"""What a list of tasks or of audit entries is narrowed to: asked by the adapters, answered
by the store's queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workflow.domain.lifecycle import State


@dataclass(frozen=True, slots=True)
class TaskFilter:
    organisation: str | None = None
    organisations: frozenset[str] | None = None  # the fence: only these (None: any)
    plan: str | None = None
    unit: str | None = None
    state: State | None = None
    overdue_on: dt.date | None = None  # only tasks overdue as of this date
    kind: str | None = None
    limit: int | None = None
    after_id: int | None = None  # keyset paging: only tasks with a greater id


@dataclass(frozen=True, slots=True)
class AuditFilter:
    organisations: frozenset[str] | None = None  # the fence: only these (None: any)
    task_id: int | None = None
    plan_id: str | None = None
    unit: str | None = None
    actor: str | None = None
    action: str | None = None
    subject: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    after_seq: int | None = None
    limit: int | None = None
    # Only entries whose notes hold every one of these words (folded: lower case, no
    # diacritics, đ as d), each as a word or a word's beginning (migration 0011's index).
    note_words: tuple[str, ...] = ()
