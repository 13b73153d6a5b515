"""Writing organisations: the file as loaded, its units and people, the roles they hold.
Units and people are added or renamed, never deleted: tasks and the log refer to them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select, update

from workflow.definitions.models import OrganisationSpec, PersonSpec, UnitSpec
from workflow.store.queries.organisations import OrganisationQueries
from workflow.store.tables import organisations, people, person_roles, units


class OrganisationRepository(OrganisationQueries):
    def save(self, spec: OrganisationSpec, digest: str, *, new: bool) -> None:
        """The organisation's header and its file as loaded (`digest`: the file's hash)."""
        header = {
            "name": spec.name,
            "province": spec.province,
            "office_unit": spec.office_unit,
            "definition": spec.model_dump_json(),
            "content_hash": digest,
        }
        if new:
            self.conn.execute(insert(organisations).values(code=spec.code, **header))
        else:
            self.conn.execute(
                update(organisations).where(organisations.c.code == spec.code).values(**header)
            )

    def save_units(self, organisation: str, given: Iterable[UnitSpec]) -> None:
        known = set(
            self.conn.execute(
                select(units.c.code).where(units.c.organisation == organisation)
            ).scalars()
        )
        for unit in given:
            values = {"name": unit.name, "illustrative": unit.illustrative}
            if unit.code in known:
                self.conn.execute(
                    update(units)
                    .where(units.c.organisation == organisation, units.c.code == unit.code)
                    .values(**values)
                )
            else:
                self.conn.execute(
                    insert(units).values(organisation=organisation, code=unit.code, **values)
                )

    def save_person(self, organisation: str, person: PersonSpec, *, new: bool) -> None:
        """The person, holding exactly the roles their file gives them."""
        values = {"unit": person.unit, "name": person.name, "illustrative": person.illustrative}
        if new:
            self.conn.execute(
                insert(people).values(id=person.id, organisation=organisation, **values)
            )
        else:
            self.conn.execute(update(people).where(people.c.id == person.id).values(**values))
            self.conn.execute(delete(person_roles).where(person_roles.c.person_id == person.id))
        self.conn.execute(
            insert(person_roles),
            [{"person_id": person.id, "role": role.value} for role in sorted(set(person.roles))],
        )
