"""Loading the definition files that are not plans: an organisation's procedures and the
apology rule sets, each inside the load's transaction (`services.plans.load`), each file's
outcome a `LoadOutcome`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflow.definitions.models import ApologyRulesSpec, ProceduresSpec
from workflow.definitions.source import SourceFile
from workflow.domain.audit_chain import content_hash
from workflow.domain.events import ProceduresLoaded, RulesLoaded
from workflow.store.queries.procedures import Procedure
from workflow.store.uow import Tx

ROLE = "admin"  # loads are administrative acts, by the context's operator


@dataclass
class LoadOutcome:
    """What loading one file did (`plans load` prints one per file)."""

    file: str
    kind: str
    id: str
    status: str  # created, new_version, updated, unchanged
    version: int | None = None
    tasks_created: int = 0
    tasks_amended: int = 0
    rows_added: list[str] = field(default_factory=list)
    rows_removed: list[str] = field(default_factory=list)
    lead_changes: list[str] = field(default_factory=list)
    content_hash: str = ""

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


def load_procedures(tx: Tx, actor: str, spec: ProceduresSpec, src: SourceFile) -> LoadOutcome:
    """Add or update an organisation's procedures (never deleted: dossiers refer to them)."""
    outcome = LoadOutcome(
        src.path, "procedures", spec.organisation, "unchanged", content_hash=src.sha256
    )
    current = tx.procedures.of_organisation(spec.organisation)
    added: list[Procedure] = []
    updated: list[Procedure] = []
    for proc in spec.procedures:
        wanted = Procedure(
            organisation=spec.organisation,
            code=proc.code,
            name=proc.name,
            working_days=proc.working_days,
            unit=proc.unit,
            cutoff_hour=proc.cutoff_hour,
            illustrative=proc.illustrative,
            legal_basis=proc.legal_basis,
        )
        stored = current.get(proc.code)
        if stored is None:
            added.append(wanted)
        elif stored != wanted:
            updated.append(wanted)
    if not (added or updated):
        return outcome
    tx.procedures.add(added)
    tx.procedures.update(updated)
    touched = {p.code for p in added} | {p.code for p in updated}
    changed = [p.code for p in spec.procedures if p.code in touched]  # in the file's order
    outcome.status = "updated" if current else "created"
    outcome.rows_added = changed
    tx.record(
        ProceduresLoaded(
            actor=actor,
            role=ROLE,
            organisation=spec.organisation,
            file_sha256=src.sha256,
            source=src.path,
            changed=changed,
            procedures={
                p.code: {
                    "name": p.name,
                    "working_days": p.working_days,
                    "unit": p.unit,
                    "cutoff_hour": p.cutoff_hour,
                }
                for p in (*added, *updated)
            },
        )
    )
    return outcome


def load_rules(tx: Tx, actor: str, spec: ApologyRulesSpec, src: SourceFile) -> LoadOutcome:
    """Store a rule set, or replace it when its file changed."""
    outcome = LoadOutcome(src.path, "apology_rules", spec.id, "unchanged", content_hash=src.sha256)
    definition = spec.model_dump_json()
    digest = content_hash(definition)
    stored = tx.rules.content_hash(spec.id)
    if stored == digest:
        return outcome
    tx.rules.save(spec, definition, digest, new=stored is None)
    outcome.status = "created" if stored is None else "updated"
    tx.record(
        RulesLoaded(
            actor=actor,
            role=ROLE,
            rules=spec.id,
            file_sha256=src.sha256,
            spec_sha256=digest,
            source=src.path,
            effective_from=spec.effective_from.isoformat(),
            verified=spec.verified,
        )
    )
    return outcome
