"""Writing rules: a rule set stored as its file declared it, replaced when the file changes
(the log keeps each version's hash)."""

from __future__ import annotations

from sqlalchemy import insert, update

from workflow.definitions.models import ApologyRulesSpec
from workflow.store.queries.rules import RuleQueries
from workflow.store.tables import rule_sets


class RuleRepository(RuleQueries):
    def save(self, spec: ApologyRulesSpec, definition: str, digest: str, *, new: bool) -> None:
        """The rule set as `definition` (its validated spec as JSON) whose hash is `digest`."""
        values = {
            "kind": spec.kind,
            "effective_from": spec.effective_from,
            "definition": definition,
            "content_hash": digest,
        }
        if new:
            self.conn.execute(insert(rule_sets).values(id=spec.id, **values))
        else:
            self.conn.execute(update(rule_sets).where(rule_sets.c.id == spec.id).values(**values))
