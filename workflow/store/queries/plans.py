"""Reading plans: a plan with its current version (the validated file as loaded), and the
list of plans with their task counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select

from workflow.clock import as_utc
from workflow.definitions.models import PlanSpec
from workflow.store.queries.base import Queries
from workflow.store.tables import plan_versions, plans, tasks


@dataclass(frozen=True, slots=True)
class StoredPlan:
    id: str
    organisation: str
    title: str
    current_version: int


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """One version of a plan: its file as validated and loaded."""

    plan_id: str
    version: int
    content_hash: str  # of `definition`
    source: str  # the file it was loaded from
    definition: str  # the validated spec, as JSON
    loaded_at: dt.datetime

    def spec(self) -> PlanSpec:
        return PlanSpec.model_validate_json(self.definition)


class PlanQueries(Queries):
    def current(self, plan_id: str) -> tuple[StoredPlan, PlanVersion] | None:
        """The plan and its current version, in one statement (None: no such plan)."""
        p, v = plans.c, plan_versions.c
        row = self.conn.execute(
            select(p.id, p.organisation, p.title, p.current_version)
            .add_columns(v.version, v.content_hash, v.source, v.definition, v.loaded_at)
            .join(plan_versions, and_(v.plan_id == p.id, v.version == p.current_version))
            .where(p.id == plan_id)
        ).first()
        if row is None:
            return None
        plan_id, organisation, title, current, version, digest, source, text, at = row
        return (
            StoredPlan(plan_id, organisation, title, current),
            PlanVersion(plan_id, version, digest, source, text, as_utc(at)),
        )

    def summaries(self) -> list[dict[str, Any]]:
        """Every plan with its current version and number of tasks, by organisation and id."""
        counts = (
            select(tasks.c.plan_id, func.count().label("n")).group_by(tasks.c.plan_id).subquery()
        )
        rows = self.conn.execute(
            select(
                plans.c.id,
                plans.c.current_version,
                plans.c.title,
                plans.c.organisation,
                func.coalesce(counts.c.n, 0),
            )
            .outerjoin(counts, counts.c.plan_id == plans.c.id)
            .order_by(plans.c.organisation, plans.c.id)
        )
        return [
            {
                "id": plan_id,
                "version": version,
                "title": title,
                "organisation": organisation,
                "task_count": int(count),
            }
            for plan_id, version, title, organisation, count in rows
        ]
