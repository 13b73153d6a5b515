"""Reading rules: the rule sets that depend on law, each stored as its file declared it (plan
loading writes them, `store.repositories.rules`)."""

from __future__ import annotations

from sqlalchemy import select

from workflow.definitions.models import ApologyRulesSpec
from workflow.store.queries.base import Queries
from workflow.store.tables import rule_sets

APOLOGY_RULES = "apology_rules"  # the kind of the apology rule sets


class RuleQueries(Queries):
    def apology_rules(self) -> list[ApologyRulesSpec]:
        """Every stored apology rule set (one per legal regime), as its file declared it."""
        texts = self.conn.execute(
            select(rule_sets.c.definition).where(rule_sets.c.kind == APOLOGY_RULES)
        ).scalars()
        return [ApologyRulesSpec.model_validate_json(text) for text in texts]

    def content_hash(self, rule_set_id: str) -> str | None:
        """The hash of the rule set as last loaded; None when it is new."""
        found = self.conn.execute(
            select(rule_sets.c.content_hash).where(rule_sets.c.id == rule_set_id)
        ).scalar_one_or_none()
        return None if found is None else str(found)
