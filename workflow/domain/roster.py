"""Who was who, rebuilt from the audit log: people, their unit and roles, at each entry.

Pure, no I/O. Loading an organisation file records one `role.change` entry per role granted
or revoked (person, role, unit, before, after), so walking the log in order tells, at every
entry, which people existed in which organisation and unit and which roles they held. Replay
holds each entry's actor against it (`problem`) and the `person_roles` table against its end
state (`Roster.roles`).

Actors are of two kinds. A person is named by their id. A principal that is not a person
has an id with a prefix (`operator:<os user>`, `schedule:<flow>`, `flow:<name>`,
`client:<address>`): it acts in no role, as `admin` (loading files, accounts) or as
`system` (flows), never in a role people hold to do the agency's business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workflow.domain import events as ev
from workflow.domain.roles import NO_BUSINESS, Role

HELD_ROLES = frozenset(role.value for role in Role)
BUSINESS_ROLES = HELD_ROLES - {role.value for role in NO_BUSINESS}
# Roles a principal that is not a person may record: none, or one that is no person's.
NOT_A_PERSON_MAY = frozenset({"admin", "system"})


def is_person(actor: str) -> bool:
    """Principals that are not people have a prefix (`operator:`, `schedule:`, ...); a
    person's id never has a colon (organisation files' ids are dotted names)."""
    return ":" not in actor


@dataclass(slots=True)
class Member:
    """A person as the role grants so far say: where, and holding what."""

    organisation: str | None
    unit: str
    roles: frozenset[str]
    last_seq: int


@dataclass(slots=True)
class Roster:
    people: dict[str, Member] = field(default_factory=dict)

    def grant(self, event: ev.RoleChanged, seq: int) -> None:
        """A `role.change` entry: the person's roles become its `after`, their unit its unit."""
        after = frozenset(str(r) for r in (event.after or []))
        self.people[str(event.person)] = Member(
            event.organisation, str(event.person_unit), after, seq
        )

    def problem(self, entry: Mapping[str, Any]) -> str | None:
        """Why the entry's actor could not have made it, as the grants before it stand; None
        when they could."""
        actor, role = str(entry.get("actor") or ""), entry.get("role")
        unit, organisation = entry.get("unit"), entry.get("organisation")
        action = entry.get("action")
        if not is_person(actor):
            if role is not None and role not in NOT_A_PERSON_MAY:
                return f"{action} by {actor}, which is not a person, acting as {role}"
            return None
        member = self.people.get(actor)
        if member is None:
            return (
                f"{action} by {actor}, whom no earlier role.change entry names: no such person "
                "was loaded in any organisation"
            )
        if role not in HELD_ROLES:
            return None  # no role (accounts, sign-ins) or `system` (a flow a person started)
        if role != "admin" and organisation is not None and member.organisation != organisation:
            # An administrator loads every organisation's files; the others act in their own.
            return (
                f"{action} by {actor} of {member.organisation}, acting as {role} in {organisation}"
            )
        if role not in member.roles:
            held = ", ".join(sorted(member.roles)) or "no role"
            return (
                f"{action} by {actor} acting as {role}, a role they did not hold then "
                f"(they held {held}, as of entry {member.last_seq})"
            )
        if role in BUSINESS_ROLES and unit is not None and unit != member.unit:
            return f"{action} by {actor} of unit {unit}, but {actor} was of unit {member.unit}"
        return None

    def roles(self) -> dict[str, tuple[frozenset[str], int]]:
        """Each person's roles at the end of the log, with the entry that last set them."""
        return {person: (m.roles, m.last_seq) for person, m in self.people.items()}
