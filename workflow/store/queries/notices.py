"""Reading notices: the side effects the flows recorded, each once under its key (apology
letters, reminders, escalations, conclusion notices)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from workflow.store.queries.base import Queries
from workflow.store.tables import notices


class NoticeQueries(Queries):
    def keys(self, task_ids: Sequence[int], kind: str | None = None) -> set[str]:
        """The keys recorded for these tasks (of one kind, when given)."""
        stmt = select(notices.c.key).where(notices.c.task_id.in_(list(task_ids)))
        if kind is not None:
            stmt = stmt.where(notices.c.kind == kind)
        return set(self.conn.execute(stmt).scalars())

    def exists(self, key: str) -> bool:
        return (
            self.conn.execute(select(notices.c.id).where(notices.c.key == key)).first() is not None
        )

    def count(self, organisation: str, kind: str) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(notices)
                .where(notices.c.organisation == organisation, notices.c.kind == kind)
            ).scalar_one()
        )

    def path(self, task_id: int, kind: str) -> str | None:
        """Where the task's notice of that kind was written (None: none issued)."""
        found = self.conn.execute(
            select(notices.c.path).where(notices.c.task_id == task_id, notices.c.kind == kind)
        ).first()
        return None if found is None else found.path
