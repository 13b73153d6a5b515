"""Reading organisations: their files as loaded, units, people and the roles they hold."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from workflow.domain.roles import Actor, Role
from workflow.errors import NotFound
from workflow.store import driver
from workflow.store.queries.base import Queries
from workflow.store.tables import organisations, people, person_roles, units

if TYPE_CHECKING:
    from workflow.definitions.models import OrganisationSpec

_UNIT_EXISTS = "SELECT 1 FROM units WHERE units.organisation = ? AND units.code = ?"


class OrganisationQueries(Queries):
    def spec(self, code: str) -> OrganisationSpec | None:
        """The organisation's file as it was last loaded."""
        # The pydantic models load when a file is read back, not with every unit of work
        # (`planflow tasks list` reads none).
        from workflow.definitions.models import OrganisationSpec

        found = self.conn.execute(
            select(organisations.c.definition).where(organisations.c.code == code)
        ).scalar_one_or_none()
        return OrganisationSpec.model_validate_json(found) if found is not None else None

    def require(self, code: str) -> OrganisationSpec:
        """`spec`, or NotFound naming the command that lists them."""
        found = self.spec(code)
        if found is None:
            raise NotFound(f"organisation {code!r} does not exist (see `planflow orgs list`)")
        return found

    def specs(self) -> dict[str, OrganisationSpec]:
        from workflow.definitions.models import OrganisationSpec

        rows = self.conn.execute(select(organisations.c.code, organisations.c.definition))
        return {code: OrganisationSpec.model_validate_json(text) for code, text in rows}

    def content_hash(self, code: str) -> str | None:
        """The hash of the file last loaded; None when the organisation is new."""
        row = self.conn.execute(
            select(organisations.c.content_hash).where(organisations.c.code == code)
        ).first()
        return None if row is None else str(row.content_hash or "")

    def unit_exists(self, organisation: str, code: str) -> bool:
        return bool(driver.rows(self.conn, _UNIT_EXISTS, (organisation, code)))

    def unit_names(self, organisation: str) -> dict[str, str]:
        """Every stored unit of the organisation (never deleted), code to name."""
        return dict(
            self.conn.execute(
                select(units.c.code, units.c.name).where(units.c.organisation == organisation)
            )
            .tuples()
            .all()
        )

    def actor(self, person_id: str) -> Actor | None:
        """A person as the rules see them, with every role they hold."""
        person = self.conn.execute(
            select(people.c.id, people.c.organisation, people.c.unit).where(
                people.c.id == person_id
            )
        ).first()
        if person is None:
            return None
        roles = self.conn.execute(
            select(person_roles.c.role).where(person_roles.c.person_id == person_id)
        ).scalars()
        return Actor(person.id, person.organisation, person.unit, frozenset(Role(r) for r in roles))

    def person_names(self, organisation: str) -> dict[str, str]:
        return dict(
            self.conn.execute(
                select(people.c.id, people.c.name).where(people.c.organisation == organisation)
            )
            .tuples()
            .all()
        )

    def owners(self, person_ids: list[str]) -> dict[str, str]:
        """The organisation each of these people belongs to (those already stored)."""
        rows = self.conn.execute(
            select(people.c.id, people.c.organisation).where(people.c.id.in_(person_ids))
        )
        return dict(rows.tuples().all())

    def summaries(self) -> list[dict[str, Any]]:
        """Every organisation with its number of units and people, by code."""
        counts_units = self._count(units.c.organisation)
        counts_people = self._count(people.c.organisation)
        rows = self.conn.execute(select(organisations).order_by(organisations.c.code)).all()
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

    def _count(self, column: Any) -> dict[str, int]:
        rows = self.conn.execute(select(column, func.count()).group_by(column))
        return {k: int(n) for k, n in rows}

    def detail(self, code: str) -> dict[str, Any] | None:
        """The organisation with its units and its people and their roles."""
        org = self.conn.execute(select(organisations).where(organisations.c.code == code)).first()
        if org is None:
            return None
        unit_rows = self.conn.execute(
            select(units).where(units.c.organisation == code).order_by(units.c.code)
        ).all()
        people_rows = self.conn.execute(
            select(people).where(people.c.organisation == code).order_by(people.c.id)
        ).all()
        roles: dict[str, list[str]] = {}
        for pid, role in self.conn.execute(
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

    def roles_of(self, person_ids: list[str]) -> dict[str, frozenset[str]]:
        """The roles these people hold now (those stored; a person with none is absent)."""
        found: dict[str, set[str]] = {}
        if not person_ids:
            return {}
        for pid, role in self.conn.execute(
            select(person_roles.c.person_id, person_roles.c.role).where(
                person_roles.c.person_id.in_(person_ids)
            )
        ):
            found.setdefault(pid, set()).add(role)
        return {pid: frozenset(roles) for pid, roles in found.items()}

    def all_roles(self) -> dict[str, list[str]]:
        """Every person's roles as `person_roles` holds them (replay compares the grants)."""
        found: dict[str, list[str]] = {}
        stmt = select(person_roles.c.person_id, person_roles.c.role).order_by(
            person_roles.c.person_id, person_roles.c.role
        )
        for pid, role in self.conn.execute(stmt):
            found.setdefault(pid, []).append(role)
        return found

    def reach(self, code: str) -> Reach:
        """What the organisation's file says of its people's reach: the organisations it
        oversees (`all`: every one loaded now) and the roles that need a second factor.
        Every request asks: the file's JSON is parsed once per version of it (its hash), and
        the statements go to the driver as they are (building them costs more than running
        them)."""
        stored = driver.rows(self.conn, _CONTENT_HASH, (code,))
        key = (code, stored[0][0] if stored else None)
        said = _REACHES.get(key)
        if said is None:
            found = driver.rows(self.conn, _DEFINITION, (code,))
            text = found[0][0] if found else None
            loaded = json.loads(text) if text else {}
            raw = loaded.get("oversees") or []
            second = (loaded.get("security") or {}).get("second_factor") or []
            said = _REACHES[key] = (
                raw if raw == "all" else frozenset(raw),
                frozenset(Role(r) for r in second),
            )
        oversees, second_factor = said
        if oversees == "all":
            oversees = frozenset(row[0] for row in driver.rows(self.conn, _CODES))
        return Reach(frozenset(oversees) - {code}, second_factor)


_CONTENT_HASH = "SELECT content_hash FROM organisations WHERE code = ?"
_DEFINITION = "SELECT definition FROM organisations WHERE code = ?"
_CODES = "SELECT code FROM organisations"


# What organisation files said, by (code, content hash): a new version has a new hash.
_REACHES: dict[tuple[str, str | None], tuple[frozenset[str] | str, frozenset[Role]]] = {}


@dataclass(frozen=True, slots=True)
class Reach:
    oversees: frozenset[str]  # organisation codes, its own not among them
    second_factor: frozenset[Role]  # roles whose holders sign in with a second factor
