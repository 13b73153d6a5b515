"""Inspection draws: which units are inspected in a period, and why (explain).

A draw (`draw`) reads every inspectable unit's risk signals in SQL, lets the pure sampling
rules pick ceil(ratio × units) of them, and in the same transaction stores the draw, writes
its full record (seed, population with signals, algorithm, result) to the audit log and
creates one inspection task per selected unit, led by the inspection team. Drawing again for
the same period returns the stored draw; a redraw needs the office role and a reason, keeps
the old draw (linked by `superseded_by`) and withdraws the tasks of units it drops.

The seed that breaks ties is nobody's choice: derived from the organisation, the period and
the audit log's head as the draw's transaction reads it (`sampling.SeedDerivation`),
recorded in the draw's entry, and derived again by `explain`. Only a simulation database
takes a seed from the drawer (`--seed`, the demo and the tests). This
module holds the use cases (draw, preflight, explain, list, show); how a draw is checked,
ranked and stored is `inspection_draws`.

What happens next (the record, its verification, the conclusion and the fix tasks) is in
`inspection_records`. Every step is one transaction with its audit entries.
"""

from __future__ import annotations

import json
from typing import Any

from workflow.context import Context
from workflow.domain import sampling
from workflow.domain.audit_chain import GENESIS_HASH, entry_hash
from workflow.domain.events import InspectionDrawn
from workflow.errors import AuditVerificationFailed, NotFound, PermissionDenied
from workflow.services.inspection_draws import (
    ACTOR,
    Draw,
    check_request,
    signals,
    store_draw,
)
from workflow.store.backend import Mutex
from workflow.store.queries.inspections import StoredDraw
from workflow.store.uow import Reader

__all__ = ["ACTOR", "Draw", "draw", "explain", "list_draws", "preflight", "show"]

# ----------------------------------------------------------------------------- the draw


def draw(
    ctx: Context,
    organisation: str,
    period: str,
    actor_id: str | None,
    *,
    ratio: float | None = None,
    seed: int | None = None,
    redraw_reason: str | None = None,
) -> Draw:
    """The draw for `period`: the stored one, or a new one (see the module's docstring;
    how it is made: `inspection_draws`).

    `actor_id` None means a schedule started it, on the authority of the organisation's
    file (recorded as who acts: the schedule, or `flow:inspection` in a simulation); a
    redraw always needs a person of the office.
    """
    with ctx.uow.writing() as tx:
        # Two inspectors starting the same period at once get one draw: the second waits
        # here and sees the first's.
        tx.serialise(Mutex.INSPECTION_DRAWS)
        _refuse_seed_in_production(tx.who.production, seed)
        req = check_request(tx, organisation, period, actor_id, ratio, redraw_reason)
        if redraw_reason is None and req.existing is not None:
            return _draw_of(tx, req.existing, existing=True)
        ratio = req.plan.ratio if ratio is None else ratio
        derivation = None
        if seed is None:
            # The head as this transaction reads it: under the draws' lock, before this
            # draw's own entries (appended at its commit, after it).
            head_seq, head_hash = tx.audit.head()
            derivation = sampling.SeedDerivation(req.spec.code, req.period.key, head_seq, head_hash)
            seed = derivation.seed
        population = signals(tx, req.spec, req.period, tx.now)
        selection = sampling.select(population, period, ratio, seed)
        reason = redraw_reason.strip() if redraw_reason else None
        drawn = store_draw(tx, req, selection, reason, ctx.acting, derivation)
    ctx.log.info(
        "inspection.draw",
        inspection=drawn.inspection,
        organisation=drawn.organisation,
        period=drawn.period,
        revision=drawn.revision,
        actor=drawn.drawn_by,
        selected=drawn.selected,
        seed=drawn.seed,
    )
    return drawn


def preflight(
    ctx: Context,
    organisation: str,
    period: str,
    actor_id: str | None,
    *,
    ratio: float | None = None,
    seed: int | None = None,
    redraw_reason: str | None = None,
) -> None:
    """Every refusal `draw` would make, checked read-only: the CLI asks before it starts a
    Prefect flow, so a user's mistake is one line, not a failed flow run."""
    _refuse_seed_in_production(ctx.uow.production(), seed)
    with ctx.uow.reading() as r:
        check_request(r, organisation, period, actor_id, ratio, redraw_reason)


def _refuse_seed_in_production(production: bool, seed: int | None) -> None:
    if production and seed is not None:
        # A rule of the database's mode, as PLANFLOW_NOW is: not permitted (exit 4).
        raise PermissionDenied(
            "this is a production database: a draw's seed is derived from the organisation, "
            "the period and the audit log's head, never given; drop --seed (a simulation "
            "database takes one)"
        )


def _draw_of(r: Reader, stored: StoredDraw, *, existing: bool) -> Draw:
    """A stored draw, its population from its audit entry (where its record lives)."""
    data: dict[str, Any] = json.loads(_draw_entry(r, stored.id)["data"])
    return Draw(
        inspection=stored.id,
        organisation=stored.organisation,
        period=stored.period,
        revision=stored.revision,
        ratio=stored.ratio,
        seed=stored.seed,
        algorithm=stored.algorithm,
        population=data["record"]["population"],
        selected=stored.selected,
        drawn_by=stored.drawn_by,
        drawn_at=stored.drawn_at,
        existing=existing,
        reason=stored.reason,
        supersedes=r.inspections.predecessor(stored.id),
        superseded_by=stored.superseded_by,
        tasks=r.inspections.targets(stored.id),
        seed_from=data.get("seed_from"),
    )


def _draw_entry(r: Reader, inspection_id: int) -> dict[str, Any]:
    """The draw's audit entry as stored (`data` the text that was hashed)."""
    found = r.audit.first(InspectionDrawn.ACTION, f"inspection:{inspection_id}")
    if found is None:
        raise AuditVerificationFailed(
            f"inspection {inspection_id} has no draw entry in the audit log: its selection "
            "cannot be explained"
        )
    return found


# ----------------------------------------------------------------------------- explain


def explain(ctx: Context, inspection_id: int) -> dict[str, Any]:
    """Re-derive a draw from its audit entry alone and say why each unit was (not) chosen.

    Fails (AuditVerificationFailed, exit 6) when the entry's own hash does not match its
    content or its link to the entry before it, when the recorded result does not follow
    from the recorded inputs, when the inspections table disagrees with the log, or when
    the seed does not follow from its recorded derivation (in a production database every
    draw's seed must: nobody chooses it there).
    """
    with ctx.uow.reading() as r:
        row = _require(r, inspection_id)
        entry = _draw_entry(r, inspection_id)
        before = r.audit.hash_at(entry["seq"] - 1)
        production = ctx.uow.production()
        derivation, head_found = _recorded_derivation(r, entry)
    if entry_hash(entry) != entry["hash"]:
        raise AuditVerificationFailed(
            f"audit entry {entry['seq']} (the draw of inspection {inspection_id}) does not "
            "match its hash: it was changed after it was written"
        )
    if entry["seq"] > 1 and before != entry["prev_hash"]:
        raise AuditVerificationFailed(
            f"audit entry {entry['seq']} does not link to entry {entry['seq'] - 1}: the log "
            "around the draw was changed (run `planflow audit verify`)"
        )
    data = json.loads(entry["data"])
    selection = sampling.explain(data.get("record"))
    if row.selected != list(selection.selected) or row.seed != selection.seed:
        raise AuditVerificationFailed(
            f"the inspections table says inspection {inspection_id} selected "
            f"[{', '.join(row.selected)}] with seed {row.seed}, but its audit entry "
            f"{entry['seq']} records [{', '.join(selection.selected)}] with seed {selection.seed}"
        )
    _check_seed(inspection_id, entry, selection, derivation, head_found, production)
    return {
        "inspection": inspection_id,
        "organisation": row.organisation,
        "period": selection.period,
        "revision": row.revision,
        "algorithm": selection.algorithm,
        "ratio": selection.ratio,
        "seed": selection.seed,
        "seed_from": None
        if derivation is None
        else {**derivation.as_record(), "explanation": derivation.explanation()},
        "count": selection.count,
        "selected": list(selection.selected),
        "audit_entry": entry["seq"],
        "reason": data.get("reason"),
        "supersedes": data.get("supersedes"),
        "superseded_by": row.superseded_by,
        "ranking": [ranked.as_dict() for ranked in selection.ranking],
        "verified": True,
    }


def _recorded_derivation(
    r: Reader, entry: dict[str, Any]
) -> tuple[sampling.SeedDerivation | None, str | None]:
    """The seed derivation the draw's entry records, and the hash the log holds for the
    head it names (None: no such entry)."""
    raw = json.loads(entry["data"]).get("seed_from")
    if raw is None:
        return None, None
    derivation = sampling.SeedDerivation.from_record(raw)
    if derivation.head_seq == 0:
        return derivation, GENESIS_HASH
    return derivation, r.audit.hash_at(derivation.head_seq)


def _check_seed(
    inspection_id: int,
    entry: dict[str, Any],
    selection: sampling.Selection,
    derivation: sampling.SeedDerivation | None,
    head_found: str | None,
    production: bool,
) -> None:
    """The seed follows from facts nobody chose: the organisation, the period, and an entry
    of the log that came before the draw's, as it stands in the log."""
    seq = entry["seq"]
    if derivation is None:
        if production:
            raise AuditVerificationFailed(
                f"inspection {inspection_id}'s seed {selection.seed} was not derived (its "
                f"audit entry {seq} records no derivation): in a production database a "
                "draw's seed is derived, never chosen"
            )
        return
    facts = (derivation.organisation, derivation.period)
    if facts != (entry["organisation"], selection.period):
        raise AuditVerificationFailed(
            f"inspection {inspection_id}'s seed is derived from {'/'.join(facts)}, not from "
            f"its own organisation and period ({entry['organisation']}/{selection.period})"
        )
    if not 0 <= derivation.head_seq < seq or head_found != derivation.head_hash:
        raise AuditVerificationFailed(
            f"inspection {inspection_id}'s seed is derived from audit entry "
            f"{derivation.head_seq} with hash {derivation.head_hash[:12]}…, which is not an "
            f"entry of the log before the draw's ({seq})"
        )
    if derivation.seed != selection.seed:
        raise AuditVerificationFailed(
            f"inspection {inspection_id}'s recorded seed {selection.seed} does not follow from "
            f"its derivation: {derivation.explanation()}"
        )


def _require(r: Reader, inspection_id: int) -> StoredDraw:
    found = r.inspections.get(inspection_id)
    if found is None:
        raise NotFound(f"inspection {inspection_id} does not exist")
    return found


def list_draws(
    ctx: Context, organisation: str | None = None, period: str | None = None
) -> list[dict[str, Any]]:
    with ctx.uow.reading() as r:
        found = r.inspections.find(organisation, period)
    return [
        {
            "inspection": d.id,
            "organisation": d.organisation,
            "period": d.period,
            "revision": d.revision,
            "ratio": d.ratio,
            "seed": d.seed,
            "selected": d.selected,
            "drawn_by": d.drawn_by,
            "drawn_at": d.drawn_at.isoformat(),
            "reason": d.reason,
            "superseded_by": d.superseded_by,
        }
        for d in found
    ]


def show(ctx: Context, inspection_id: int) -> dict[str, Any]:
    """A draw with each selected unit's task, its state, checklist and conclusion."""
    with ctx.uow.reading() as r:
        out = _draw_of(r, _require(r, inspection_id), existing=True).as_json()
        del out["existing"]
        targets = r.inspections.target_views(inspection_id)
        fixes = r.inspections.fix_tasks([t.task_id for t in targets])
        out["targets"] = [
            {
                "unit": t.unit,
                "task": t.task_id,
                "code": t.code,
                "state": t.state,
                "checklist": t.checklist,
                "conclusion": r.notices.path(t.task_id, "conclusion"),
                "fix_tasks": fixes[t.task_id],
            }
            for t in targets
        ]
    return out
