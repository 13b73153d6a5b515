"""What an authenticated principal may reach: their roles' permissions (narrowed to a
token's scope), and the organisations they may read (their own and those their file says
it oversees). Asked by the adapters for every request, and by the account use cases."""

from __future__ import annotations

from dataclasses import dataclass

from workflow.context import Context
from workflow.domain import access as rules
from workflow.domain.access import Access, Permission
from workflow.domain.principals import Principal
from workflow.domain.roles import Actor, Role
from workflow.errors import NotAuthenticated, PermissionDenied
from workflow.store.uow import Reader

SESSION = "session:"  # a session's credential: "session:" and the digest of its id


def access_of(ctx: Context, principal: Principal, scope: frozenset[str] | None = None) -> Access:
    """The person's Actor, their permissions narrowed to `scope` (a token's), and the
    organisations they may read. NotAuthenticated when the principal is not a person of a
    loaded organisation, or (in a production database, or when they came with a session
    or a token) has no enabled account. In a simulation a typed name (no credential) needs
    no account: it acts with its roles, as it always did."""
    uow = ctx.uow
    production = uow.production()
    with uow.reading() as r:
        return access_in(r, principal, scope, production=production)


def access_in(
    r: Reader, principal: Principal, scope: frozenset[str] | None, *, production: bool
) -> Access:
    """`access_of` inside the caller's transaction."""
    return access_and_pending(r, principal, scope, production=production)[0]


def access_and_pending(
    r: Reader, principal: Principal, scope: frozenset[str] | None, *, production: bool
) -> tuple[Access, bool]:
    """`access_in`, and whether the person must still set up the second factor their
    organisation's file requires of one of their roles: a session of theirs, signed in
    with the password alone, may then set one up (`accounts.start_second_factor`) and do
    nothing else until it is confirmed."""
    if not principal.person:
        raise NotAuthenticated(
            f"{principal.id} is not a person: sign in, or use an API token of a person"
        )
    if production and principal.credential is None:
        raise NotAuthenticated(
            f"{principal.id} did not sign in: in a production database a person acts with a "
            "session or an API token (--token or PLANFLOW_TOKEN), never a typed name"
        )
    actor = r.organisations.actor(principal.id)
    if not production and principal.credential is None:  # a simulation's typed name
        return decide(r, principal, actor, scope, account_enabled=True, totp_enabled=False)
    account = r.accounts.account(principal.id)
    enabled = account is not None and account.enabled
    totp = account is not None and account.totp_enabled
    return decide(r, principal, actor, scope, account_enabled=enabled, totp_enabled=totp)


def decide(
    r: Reader,
    principal: Principal,
    actor: Actor | None,
    scope: frozenset[str] | None,
    *,
    account_enabled: bool,
    totp_enabled: bool,
) -> tuple[Access, bool]:
    """What `access_and_pending` decides on what it read (also what the session's one
    statement reads: `sessions.authenticate_session`)."""
    if actor is None:
        raise NotAuthenticated(f"{principal.id} is not a person of any organisation loaded")
    reach = r.organisations.reach(actor.organisation)
    access = rules.access_of(actor, scope, {actor.organisation: reach.oversees})
    if principal.credential is None:
        return access, False
    if not account_enabled:
        raise NotAuthenticated(f"{principal.id} has no enabled account")
    pending = bool(actor.roles & reach.second_factor) and not totp_enabled
    if pending and principal.credential.startswith(SESSION):
        return Access(actor, frozenset(), frozenset()), True
    return access, pending


@dataclass(frozen=True, slots=True)
class Acting:
    """Who an account act is recorded as: the entry's actor, role and unit."""

    id: str
    role: str | None
    unit: str | None
    access: Access | None  # None: the operator of a simulation database


PRODUCTION_NEEDS_A_PRINCIPAL = (
    "this is a production database: accounts are managed by a signed-in administrator or "
    "with an administrator's API token (--token or PLANFLOW_TOKEN), never a typed name"
)


def administrator(ctx: Context, r: Reader, organisation: str, *, production: bool) -> Acting:
    """Who administers `organisation`'s accounts now: an administrator (role admin) of it,
    or, in a simulation database where nobody signed in, the shell's operator. Refused
    (PermissionDenied) otherwise."""
    principal = ctx.principal
    if principal is None or (not principal.person and principal.id.startswith("operator:")):
        if production:
            raise PermissionDenied(PRODUCTION_NEEDS_A_PRINCIPAL)
        return Acting(principal.id if principal else ctx.operator, Role.ADMIN.value, None, None)
    access = access_in(r, principal, principal.permissions, production=production)
    access.require(Permission.ACCOUNTS_ADMIN, organisation)
    return Acting(principal.id, Role.ADMIN.value, access.actor.unit, access)


def themselves(ctx: Context, r: Reader, person_id: str, what: str, *, production: bool) -> Acting:
    """The person `person_id`, signed in (or, in a simulation, named): only they may
    `what` (their password, their second factor)."""
    principal = ctx.principal
    if principal is None or principal.id != person_id:
        who = "nobody" if principal is None else principal.id
        raise PermissionDenied(
            f"only {person_id} may {what}, signed in as themselves ({who} is acting)"
        )
    access = access_in(r, principal, principal.permissions, production=production)
    return Acting(principal.id, None, access.actor.unit, access)
