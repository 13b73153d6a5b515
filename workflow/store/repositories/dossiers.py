"""Writing dossiers: received ones (their tasks are inserted first, by `insert_new_tasks`), a
declared delay, a letter's extension, an escalation. A batch's rows go as one executemany
statement each, never one statement per dossier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, update

from workflow.store.queries.dossiers import DossierQueries
from workflow.store.tables import dossiers


@dataclass(frozen=True, slots=True)
class ReceivedDossier:
    """A dossier's row, for the task already inserted under `task_id`."""

    task_id: int
    organisation: str
    code: str
    procedure: str
    applicant_name: str
    applicant_address: str | None
    applicant_phone: str | None
    applicant_email: str | None
    received_at: dt.datetime  # aware
    due: dt.date  # the original and current due date


@dataclass(frozen=True, slots=True)
class Extension:
    """A dossier's return date re-set by an apology letter."""

    task_id: int
    due: dt.date
    extension_count: int  # the count after this one


class DossierRepository(DossierQueries):
    def insert(self, received: Sequence[ReceivedDossier]) -> None:
        if not received:
            return
        self.conn.execute(
            insert(dossiers),
            [
                {
                    "task_id": d.task_id,
                    "organisation": d.organisation,
                    "code": d.code,
                    "procedure": d.procedure,
                    "applicant_name": d.applicant_name,
                    "applicant_address": d.applicant_address,
                    "applicant_phone": d.applicant_phone,
                    "applicant_email": d.applicant_email,
                    "received_at": d.received_at.astimezone(dt.UTC),
                    "original_due": d.due,
                    "current_due": d.due,
                    "extension_count": 0,
                    "escalated": False,
                }
                for d in received
            ],
        )

    def set_delay(self, task_id: int, reason: str, days: int) -> None:
        """The handling unit's declared delay: why, and how many working days it needs."""
        self.conn.execute(
            update(dossiers)
            .where(dossiers.c.task_id == task_id)
            .values(delay_reason=reason, delay_days=days)
        )

    def extend(self, extensions: Sequence[Extension]) -> None:
        if not extensions:
            return
        self.conn.execute(
            update(dossiers)
            .where(dossiers.c.task_id == bindparam("b_task"))
            .values(current_due=bindparam("b_due"), extension_count=bindparam("b_count")),
            [
                {"b_task": e.task_id, "b_due": e.due, "b_count": e.extension_count}
                for e in extensions
            ],
        )

    def escalate(self, task_ids: Sequence[int]) -> None:
        """Mark dossiers escalated to leadership (past their one extension)."""
        if not task_ids:
            return
        self.conn.execute(
            update(dossiers)
            .where(dossiers.c.task_id == bindparam("b_task"))
            .values(escalated=True),
            [{"b_task": task_id} for task_id in task_ids],
        )
