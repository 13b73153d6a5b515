"""The stored rows of documents, draws and definitions that `audit replay` holds against the
log, as plain mappings in the log's text forms (dates ISO 8601, JSON lists as lists), keyed as
the replay keys them: a notice by its key, an inspection record by task/revision, a draw and a
report snapshot by id, a procedure by organisation/code, a plan's version as plan@vN."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from workflow.store.queries.base import Queries
from workflow.store.tables import (
    inspection_records,
    inspection_targets,
    inspections,
    notices,
    organisations,
    plan_versions,
    procedures,
    report_snapshots,
    rule_sets,
)


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


class ReplayRows(Queries):
    def documents(self) -> dict[str, dict[str, dict[str, Any]]]:
        n, r, i, s = notices.c, inspection_records.c, inspections.c, report_snapshots.c
        out: dict[str, dict[str, dict[str, Any]]] = {}
        out["notices"] = {
            row.key: {
                "kind": row.kind,
                "task_id": row.task_id,
                "due_date": _text(row.due_date),
                "new_due": _text(row.new_due),
                "content_hash": row.content_hash,
            }
            for row in self.conn.execute(
                select(n.key, n.kind, n.task_id, n.due_date, n.new_due, n.content_hash)
            )
        }
        out["inspection_records"] = {
            f"{row.task_id}/{row.revision}": {
                "record": row.record,
                "record_hash": row.record_hash,
                "submitted_by": row.submitted_by,
            }
            for row in self.conn.execute(
                select(r.task_id, r.revision, r.record, r.record_hash, r.submitted_by)
            )
        }
        out["inspections"] = {
            str(row.id): {
                "period": row.period,
                "revision": row.revision,
                "ratio": row.ratio,
                "seed": row.seed,
                "algorithm": row.algorithm,
                "selected": json.loads(row.selected),
                "record_hash": row.record_hash,
                "superseded_by": row.superseded_by,
            }
            for row in self.conn.execute(
                select(
                    i.id,
                    i.period,
                    i.revision,
                    i.ratio,
                    i.seed,
                    i.algorithm,
                    i.selected,
                    i.record_hash,
                    i.superseded_by,
                )
            )
        }
        out["report_snapshots"] = {
            str(row.id): {
                "period": row.period,
                "revision": row.revision,
                "previous_id": row.previous_id,
                "generated_by": row.generated_by,
                "content_hash": row.content_hash,
                "content": row.content,
            }
            for row in self.conn.execute(
                select(
                    s.id,
                    s.period,
                    s.revision,
                    s.previous_id,
                    s.generated_by,
                    s.content_hash,
                    s.content,
                )
            )
        }
        targets = inspection_targets.c
        for inspection, unit, task_id in self.conn.execute(
            select(targets.inspection_id, targets.unit, targets.task_id)
        ):
            row = out["inspections"].get(str(inspection))
            if row is not None:
                row.setdefault("targets", {})[unit] = task_id
        for row in out["inspections"].values():
            row.setdefault("targets", {})
        out.update(self._definitions())
        return out

    def _definitions(self) -> dict[str, dict[str, dict[str, Any]]]:
        o, p, r, v = organisations.c, procedures.c, rule_sets.c, plan_versions.c
        return {
            "organisations": {
                row.code: {"content_hash": row.content_hash}
                for row in self.conn.execute(select(o.code, o.content_hash))
            },
            "procedures": {
                f"{row.organisation}/{row.code}": {
                    "name": row.name,
                    "working_days": row.working_days,
                    "unit": row.unit,
                    "cutoff_hour": row.cutoff_hour,
                }
                for row in self.conn.execute(
                    select(p.organisation, p.code, p.name, p.working_days, p.unit, p.cutoff_hour)
                )
            },
            "rule_sets": {
                row.id: {
                    "effective_from": _text(row.effective_from),
                    "content_hash": row.content_hash,
                    "definition": row.definition,
                }
                for row in self.conn.execute(
                    select(r.id, r.effective_from, r.content_hash, r.definition)
                )
            },
            "plan_versions": {
                f"{row.plan_id}@v{row.version}": {
                    "content_hash": row.content_hash,
                    "definition": row.definition,
                }
                for row in self.conn.execute(
                    select(v.plan_id, v.version, v.content_hash, v.definition)
                )
            },
        }
