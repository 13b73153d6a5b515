"""Organisation use cases: create or update an agency, its units and people, audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workflow.context import Context
from workflow.definitions.models import OrganisationSpec
from workflow.domain.audit_chain import content_hash
from workflow.domain.events import OrganisationLoaded, RoleChanged
from workflow.errors import NotFound
from workflow.store.uow import Tx


@dataclass(frozen=True)
class OrgChange:
    code: str
    created: bool
    changed: bool  # False when the same definition was loaded before


def save_organisation(
    tx: Tx, actor: str, spec: OrganisationSpec, digest: str, source: str
) -> OrgChange:
    """Create or update an organisation inside the caller's transaction.

    Units and people are added or renamed, never deleted: tasks and audit entries refer to
    them. Role changes replace a person's roles. One audit entry per changed definition,
    then one per role granted or revoked (`role_changes`).
    """
    stored = tx.organisations.content_hash(spec.code)
    if stored == digest:
        return OrgChange(spec.code, created=False, changed=False)
    new = stored is None
    person_ids = [p.id for p in spec.people]
    held = tx.organisations.roles_of(person_ids)  # before the load replaces them
    tx.organisations.save(spec, digest, new=new)
    tx.organisations.save_units(spec.code, spec.units)
    owners = tx.organisations.owners(person_ids)
    for person in spec.people:
        owner = owners.get(person.id)
        if owner is not None and owner != spec.code:
            raise NotFound(
                f"person id {person.id!r} already belongs to {owner}; person ids are unique "
                "across organisations"
            )
        tx.organisations.save_person(spec.code, person, new=owner is None)
    tx.record(
        OrganisationLoaded(
            actor=actor,
            role="admin",
            organisation=spec.code,
            content_hash=digest,
            source=source,
            units=len(spec.units),
            people=len(spec.people),
            created=new,
        )
    )
    tx.record(*role_changes(actor, spec, held))
    return OrgChange(spec.code, created=new, changed=True)


def role_changes(
    actor: str, spec: OrganisationSpec, held: Mapping[str, frozenset[str]]
) -> list[RoleChanged]:
    """One entry per role granted or revoked by loading `spec` over the roles `held` before
    it, in the order the file lists people, roles sorted: who held which role when can be
    rebuilt from the log (the first load grants every role)."""
    out = []
    for person in spec.people:
        before = held.get(person.id, frozenset())
        after = frozenset(role.value for role in person.roles)
        for role in sorted(before ^ after):
            out.append(
                RoleChanged(
                    actor=actor,
                    role="admin",
                    organisation=spec.code,
                    person=person.id,
                    role_name=role,
                    granted=role in after,
                    person_unit=person.unit,
                    before=sorted(before),
                    after=sorted(after),
                )
            )
    return out


def upsert_organisation(
    ctx: Context, spec: OrganisationSpec, digest: str | None = None, source: str = "api"
) -> OrgChange:
    digest = digest or content_hash(spec.model_dump_json())
    with ctx.uow.writing() as tx:
        return save_organisation(tx, ctx.acting, spec, digest, source)


def known_organisations(ctx: Context) -> dict[str, OrganisationSpec]:
    """Organisations already in the database, as their files declared them."""
    with ctx.uow.reading() as r:
        return r.organisations.specs()


def organisation(ctx: Context, code: str) -> OrganisationSpec:
    """One organisation's file as loaded; NotFound (exit 2) names the command that lists them."""
    with ctx.uow.reading() as r:
        return r.organisations.require(code)


def list_organisations(ctx: Context) -> list[dict[str, Any]]:
    with ctx.uow.reading() as r:
        return r.organisations.summaries()


def show_organisation(ctx: Context, code: str) -> dict[str, Any]:
    with ctx.uow.reading() as r:
        found = r.organisations.detail(code)
    if found is None:
        raise NotFound(f"organisation {code!r} does not exist")
    return found
