"""What a person may reach, by role and by organisation: the permissions each role gives,
what an API token narrows them to, and the organisations whose records a person may read.

The lifecycle (`lifecycle.decide`) still decides every move on its task; these gate what
a command or an endpoint may be asked at all, and fence every read by organisation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from workflow.domain.roles import Actor, Role
from workflow.errors import PermissionDenied


class Permission(StrEnum):
    TASKS_READ = "tasks:read"
    TASKS_MOVE = "tasks:move"
    AUDIT_READ = "audit:read"  # the whole log of the organisation, its anchor, exports
    DOSSIERS_READ = "dossiers:read"
    DOSSIERS_WRITE = "dossiers:write"  # receive, import, declare a delay
    INSPECTIONS_READ = "inspections:read"
    INSPECTIONS_WRITE = "inspections:write"  # draw, record
    REPORTS_READ = "reports:read"
    REPORTS_WRITE = "reports:write"  # generate a report, revise it
    FLOWS_RUN = "flows:run"  # run the apology flow by hand
    DEFINITIONS_LOAD = "definitions:load"  # organisation, plan, procedures and rules files
    ACCOUNTS_ADMIN = "accounts:admin"  # invite, disable, reset; API tokens for others


P = Permission
_READ = {P.TASKS_READ, P.DOSSIERS_READ, P.INSPECTIONS_READ, P.REPORTS_READ}
_UNIT = {*_READ, P.TASKS_MOVE, P.DOSSIERS_WRITE}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.STAFF: frozenset(_UNIT),
    Role.UNIT_HEAD: frozenset(_UNIT),
    Role.OFFICE: frozenset(
        {*_UNIT, P.AUDIT_READ, P.INSPECTIONS_WRITE, P.REPORTS_WRITE, P.FLOWS_RUN}
    ),
    Role.LEADER: frozenset({*_READ, P.TASKS_MOVE, P.AUDIT_READ, P.REPORTS_WRITE}),
    Role.INSPECTOR: frozenset({*_READ, P.TASKS_MOVE, P.INSPECTIONS_WRITE}),
    Role.AUDITOR: frozenset({*_READ, P.AUDIT_READ}),
    Role.ADMIN: frozenset({P.ACCOUNTS_ADMIN, P.DEFINITIONS_LOAD, P.AUDIT_READ}),
}


def permissions_of(roles: Iterable[Role]) -> frozenset[Permission]:
    out: set[Permission] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS[role]
    return frozenset(out)


def parse_permissions(raw: Iterable[str]) -> frozenset[Permission]:
    """Permission names as given (a token's scope); an unknown one is refused by name."""
    out = set()
    for name in raw:
        try:
            out.add(Permission(name.strip()))
        except ValueError:
            known = ", ".join(p.value for p in Permission)
            raise PermissionDenied(
                f"{name.strip()!r} is not a permission; the permissions are: {known}"
            ) from None
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Access:
    """What one authenticated person may do now: their roles' permissions (narrowed to a
    token's scope), and the organisations they may read."""

    actor: Actor
    permissions: frozenset[Permission]
    readable: frozenset[str]  # organisation codes (their own, and those it oversees)

    def require(self, needed: Permission, organisation: str | None = None) -> None:
        """Refuse (PermissionDenied) unless this person may `needed`, for `organisation`
        when given. Writes are for the person's own organisation only."""
        if needed not in self.permissions:
            raise PermissionDenied(
                f"{self.actor.id} may not {needed.value} (the roles {_roles(self.actor)} "
                "and the credential used do not give it)"
            )
        if organisation is not None:
            own_only = needed not in _READ and needed is not P.AUDIT_READ
            allowed = {self.actor.organisation} if own_only else self.readable
            if organisation not in allowed:
                raise PermissionDenied(
                    f"{self.actor.id} of {self.actor.organisation} may not {needed.value} "
                    f"for {organisation}"
                )

    def can_read(self, organisation: str) -> bool:
        return organisation in self.readable


def access_of(
    actor: Actor,
    scope: frozenset[str] | None,
    oversees: Mapping[str, frozenset[str]],
) -> Access:
    """`scope`: a token's permissions (None: all the roles give). `oversees`: for each
    organisation, the organisations its file says it oversees (a province-level body whose
    auditors read every agency's records)."""
    granted = permissions_of(actor.roles)
    if scope is not None:
        granted &= parse_permissions(scope)
    readable = {actor.organisation, *oversees.get(actor.organisation, frozenset())}
    return Access(actor, granted, frozenset(readable))


def _roles(actor: Actor) -> str:
    return ", ".join(sorted(actor.roles)) or "none"
