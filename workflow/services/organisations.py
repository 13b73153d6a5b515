"""Organisation use cases: create or update an agency, its units and people, audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from workflow import audit
from workflow.definitions.models import OrganisationSpec
from workflow.errors import NotFound
from workflow.services.context import Context
from workflow.store.engine import reading, writing
from workflow.store.tables import organisations, people, person_roles, units


@dataclass(frozen=True)
class OrgChange:
    code: str
    created: bool
    changed: bool  # False when the same definition was loaded before


def upsert_organisation_in(
    conn: Connection, ctx: Context, spec: OrganisationSpec, digest: str, source: str
) -> OrgChange:
    """Create or update an organisation inside the caller's transaction.

    Units and people are added or renamed, never deleted: tasks and audit entries refer to
    them. Role changes replace a person's roles. One audit entry per changed definition.
    """
    existing = conn.execute(
        select(organisations.c.content_hash).where(organisations.c.code == spec.code)
    ).first()
    if existing is not None and existing.content_hash == digest:
        return OrgChange(spec.code, created=False, changed=False)
    definition = spec.model_dump_json()
    header = {
        "name": spec.name,
        "province": spec.province,
        "office_unit": spec.office_unit,
        "definition": definition,
        "content_hash": digest,
    }
    if existing is None:
        conn.execute(insert(organisations).values(code=spec.code, **header))
    else:
        conn.execute(
            update(organisations).where(organisations.c.code == spec.code).values(**header)
        )
    known_units = set(
        conn.execute(select(units.c.code).where(units.c.organisation == spec.code)).scalars()
    )
    for unit in spec.units:
        values = {"name": unit.name, "illustrative": unit.illustrative}
        if unit.code in known_units:
            conn.execute(
                update(units)
                .where(units.c.organisation == spec.code, units.c.code == unit.code)
                .values(**values)
            )
        else:
            conn.execute(insert(units).values(organisation=spec.code, code=unit.code, **values))
    known_people = {
        row.id: row.organisation
        for row in conn.execute(
            select(people.c.id, people.c.organisation).where(
                people.c.id.in_([p.id for p in spec.people])
            )
        )
    }
    for person in spec.people:
        owner = known_people.get(person.id)
        if owner is not None and owner != spec.code:
            raise NotFound(
                f"person id {person.id!r} already belongs to {owner}; person ids are unique "
                "across organisations"
            )
        values = {"unit": person.unit, "name": person.name, "illustrative": person.illustrative}
        if owner is None:
            conn.execute(insert(people).values(id=person.id, organisation=spec.code, **values))
        else:
            conn.execute(update(people).where(people.c.id == person.id).values(**values))
            conn.execute(delete(person_roles).where(person_roles.c.person_id == person.id))
        conn.execute(
            insert(person_roles),
            [{"person_id": person.id, "role": role.value} for role in sorted(set(person.roles))],
        )
    audit.append(
        conn,
        audit.Record(
            actor=ctx.operator,
            role="admin",
            organisation=spec.code,
            action="organisation.load",
            subject=f"organisation:{spec.code}",
            data={
                "content_hash": digest,
                "source": source,
                "units": len(spec.units),
                "people": len(spec.people),
                "created": existing is None,
            },
        ),
        ctx.clock.now(),
    )
    return OrgChange(spec.code, created=existing is None, changed=True)


def upsert_organisation(
    ctx: Context, spec: OrganisationSpec, digest: str | None = None, source: str = "api"
) -> OrgChange:
    digest = digest or audit.content_hash(spec.model_dump_json())
    with writing(ctx.engine) as conn:
        return upsert_organisation_in(conn, ctx, spec, digest, source)


def list_organisations(ctx: Context) -> list[dict[str, Any]]:
    with reading(ctx.engine) as conn:
        rows = conn.execute(select(organisations).order_by(organisations.c.code)).all()
        counts_units = _count(conn, units.c.organisation)
        counts_people = _count(conn, people.c.organisation)
    return [
        {
            "code": r.code,
            "name": r.name,
            "province": r.province,
            "office_unit": r.office_unit,
            "unit_count": counts_units.get(r.code, 0),
            "people_count": counts_people.get(r.code, 0),
        }
        for r in rows
    ]


def _count(conn: Connection, column: Any) -> dict[str, int]:
    from sqlalchemy import func

    return {k: int(n) for k, n in conn.execute(select(column, func.count()).group_by(column))}


def show_organisation(ctx: Context, code: str) -> dict[str, Any]:
    with reading(ctx.engine) as conn:
        org = conn.execute(select(organisations).where(organisations.c.code == code)).first()
        if org is None:
            raise NotFound(f"organisation {code!r} does not exist")
        unit_rows = conn.execute(
            select(units).where(units.c.organisation == code).order_by(units.c.code)
        ).all()
        people_rows = conn.execute(
            select(people).where(people.c.organisation == code).order_by(people.c.id)
        ).all()
        roles: dict[str, list[str]] = {}
        for pid, role in conn.execute(
            select(person_roles.c.person_id, person_roles.c.role)
            .join(people, people.c.id == person_roles.c.person_id)
            .where(people.c.organisation == code)
            .order_by(person_roles.c.person_id, person_roles.c.role)
        ):
            roles.setdefault(pid, []).append(role)
    return {
        "code": org.code,
        "name": org.name,
        "province": org.province,
        "office_unit": org.office_unit,
        "units": [
            {"code": u.code, "name": u.name, "illustrative": bool(u.illustrative)}
            for u in unit_rows
        ],
        "people": [
            {
                "id": p.id,
                "name": p.name,
                "unit": p.unit,
                "roles": roles.get(p.id, []),
                "illustrative": bool(p.illustrative),
            }
            for p in people_rows
        ],
    }
