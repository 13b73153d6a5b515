"""Writing plans: the plan's row, and each version of its file (versions are only added:
a task keeps the plan version it came from)."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import insert, update

from workflow.store.queries.plans import PlanQueries, PlanVersion, StoredPlan
from workflow.store.tables import plan_versions, plans


class PlanRepository(PlanQueries):
    def save(self, plan: StoredPlan, *, new: bool) -> None:
        """A new plan, or a known one's title and current version (its organisation never
        changes: a plan id belongs to one organisation)."""
        if new:
            self.conn.execute(insert(plans).values(asdict(plan)))
        else:
            self.conn.execute(
                update(plans)
                .where(plans.c.id == plan.id)
                .values(title=plan.title, current_version=plan.current_version)
            )

    def add_version(self, version: PlanVersion) -> None:
        self.conn.execute(insert(plan_versions).values(asdict(version)))
