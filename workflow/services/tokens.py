"""API tokens: for other systems (the province's one-stop system posting dossiers, a
reporting tool reading reports) and for the command line of a production database.

A token is a person's (who answers for it), scoped to their organisation and a list of the
permissions their roles give, and expiring. Its secret, `pft_<id>_<43 characters>`, is shown
once when it is made; only its SHA-256 is kept. Its id is no secret: entries made with it
record `token:<id>` as their credential.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from workflow.context import Context
from workflow.domain import access as rules
from workflow.domain.access import Permission
from workflow.domain.events import TokenCreated, TokenRevoked
from workflow.domain.principals import Channel, Principal
from workflow.domain.roles import Actor
from workflow.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from workflow.security import secret as secrets
from workflow.services.access import Acting, access_in, administrator, themselves
from workflow.services.sessions import Authenticated
from workflow.store.uow import Tx

PREFIX = "pft"
MAX_DAYS = 366
MAX_LABEL = 200
CREDENTIAL = "token:"


@dataclass(frozen=True)
class IssuedToken:
    id: int
    secret: str  # shown once; never stored, logged nor recorded
    person: str
    organisation: str
    permissions: list[str]
    expires_at: dt.datetime


def create(
    ctx: Context, person_id: str, permissions: list[str], days: int, label: str
) -> IssuedToken:
    """A token for `person_id`, scoped to `permissions` (each among those the person's roles
    give) for `days` days (1 to 366). An administrator makes them for the people of their
    organisation; a person for themselves, never giving a token more than the credential
    they used to ask (a token cannot make a wider one)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"a token lasts from 1 to {MAX_DAYS} days, not {days}")
    label = label.strip()
    if not label or len(label) > MAX_LABEL:
        raise InvalidInput(
            f"a token needs a label of 1 to {MAX_LABEL} characters saying what uses it "
            '(e.g. "hệ thống một cửa")'
        )
    wanted = _permissions(permissions)
    uow = ctx.uow
    production = uow.production()
    with uow.writing() as tx:
        actor = _person(tx, person_id)
        account = tx.accounts.account(person_id)
        if account is None or not account.enabled:
            state = "a disabled" if account is not None else "no"
            raise InvalidInput(
                f"{person_id} has {state} account: a token answers to an enabled account "
                "(see `planflow accounts invite`)"
            )
        principal = ctx.principal
        if principal is not None and principal.id == person_id:
            acting = themselves(
                ctx, tx, person_id, "make tokens for themselves", production=production
            )
            assert acting.access is not None
            beyond = wanted - acting.access.permissions
            if beyond:
                raise PermissionDenied(
                    f"a token cannot give more than the credential that makes it: "
                    f"{_names(beyond)} not given by the one in use"
                )
        else:
            acting = administrator(ctx, tx, actor.organisation, production=production)
        not_held = wanted - rules.permissions_of(actor.roles)
        if not_held:
            raise PermissionDenied(
                f"{person_id} does not hold {_names(not_held)} (roles "
                f"{', '.join(sorted(actor.roles)) or 'none'}): a token gives only what its "
                "person's roles give"
            )
        return issue(
            tx,
            acting,
            person=person_id,
            organisation=actor.organisation,
            permissions=sorted(p.value for p in wanted),
            expires_at=tx.now + dt.timedelta(days=days),
            label=label,
        )


def issue(
    tx: Tx,
    acting: Acting,
    *,
    person: str,
    organisation: str,
    permissions: list[str],
    expires_at: dt.datetime,
    label: str,
) -> IssuedToken:
    """Store a token (its digest) and record `TokenCreated`, inside the caller's
    transaction; the secret is in the answer only."""
    # The id goes into the secret, and the secret's digest into the row: the row is
    # inserted under a digest of random bits (unique, matching no secret), then given its own.
    token_id = tx.accounts.add_token(
        secrets.digest(secrets.new_secret()),
        label,
        person,
        organisation,
        permissions,
        tx.now,
        expires_at,
        acting.id,
    )
    secret = f"{PREFIX}_{token_id}_{secrets.new_secret()}"
    tx.accounts.set_token_hash(token_id, secrets.digest(secret))
    tx.record(
        TokenCreated(
            actor=acting.id,
            role=acting.role,
            unit=acting.unit,
            organisation=organisation,
            token=token_id,
            person=person,
            label=label,
            permissions=permissions,
            expires_at=expires_at.isoformat(),
        )
    )
    return IssuedToken(token_id, secret, person, organisation, permissions, expires_at)


def list_tokens(ctx: Context, organisation: str | None) -> list[dict[str, Any]]:
    """The tokens of an organisation, for its administrator (None: their own organisation;
    every organisation for a simulation's operator); a person's own otherwise. Never a
    secret nor its digest."""
    uow = ctx.uow
    production = uow.production()
    principal = ctx.principal
    with uow.reading() as r:
        if principal is None or not principal.person:
            administrator(ctx, r, organisation or "", production=production)
            return r.accounts.tokens(organisation, None, r.now)
        access = access_in(r, principal, principal.permissions, production=production)
        own = access.actor.organisation
        if Permission.ACCOUNTS_ADMIN in access.permissions:
            wanted = organisation or own
            access.require(Permission.ACCOUNTS_ADMIN, wanted)
            return r.accounts.tokens(wanted, None, r.now)
        if organisation not in (None, own):
            raise PermissionDenied(
                f"{principal.id} may list only their own tokens, not those of {organisation}"
            )
        return r.accounts.tokens(None, principal.id, r.now)


def revoke(ctx: Context, token_id: int) -> None:
    """End a token at once: by an administrator of its organisation, or its person."""
    uow = ctx.uow
    production = uow.production()
    with uow.writing() as tx:
        token = tx.accounts.token(token_id)
        if token is None:
            raise NotFound(f"API token {token_id} does not exist (see `planflow tokens list`)")
        principal = ctx.principal
        if principal is not None and principal.id == token.person_id:
            acting = themselves(
                ctx, tx, token.person_id, "revoke their tokens", production=production
            )
        else:
            acting = administrator(ctx, tx, token.organisation, production=production)
        if not tx.accounts.revoke_token(token_id, tx.now):
            raise InvalidInput(f"API token {token_id} is already revoked")
        tx.record(
            TokenRevoked(
                actor=acting.id,
                role=acting.role,
                unit=acting.unit,
                organisation=token.organisation,
                token=token_id,
                person=token.person_id,
            )
        )


UNKNOWN = "the API token is unknown: check it was copied whole (pft_<id>_...)"


def authenticate_token(ctx: Context, secret: str, channel: Channel) -> Authenticated:
    """Who a presented token is: NotAuthenticated when unknown, revoked, expired, or its
    person's account disabled. The principal acts with the token's permissions (narrowed
    again to what the person's roles give now)."""
    token_id = _token_id(secret)
    uow = ctx.uow
    production = uow.production()
    with uow.reading() as r:
        token = r.accounts.token(token_id) if token_id is not None else None
        # Compared even when there is no such token: the answer takes as long either way.
        if not secrets.matches(secret.strip(), token.token_hash if token else "0" * 64):
            raise NotAuthenticated(UNKNOWN)
        assert token is not None
        if token.revoked_at is not None:
            raise NotAuthenticated(f"API token {token.id} was revoked; ask for a new one")
        if token.expires_at <= r.now:
            raise NotAuthenticated(
                f"API token {token.id} expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; ask "
                "for a new one"
            )
        if token.account_disabled:
            raise NotAuthenticated(f"the account of {token.person_id} is disabled")
        principal = Principal(
            token.person_id,
            channel,
            credential=CREDENTIAL + str(token.id),
            permissions=frozenset(token.permissions),
        )
        access = access_in(r, principal, principal.permissions, production=production)
    return Authenticated(principal, access, None)


def _token_id(secret: str) -> int | None:
    prefix, _, rest = secret.strip().partition("_")
    number, _, _random = rest.partition("_")
    if prefix != PREFIX or not (number.isascii() and number.isdigit()) or len(number) > 12:
        return None
    return int(number)


def _permissions(raw: list[str]) -> frozenset[Permission]:
    if not raw:
        known = ", ".join(p.value for p in Permission)
        raise InvalidInput(f"a token needs at least one permission, among: {known}")
    try:
        return rules.parse_permissions(raw)
    except PermissionDenied as exc:  # an unknown name: the input's mistake
        raise InvalidInput(str(exc)) from None


def _person(tx: Tx, person_id: str) -> Actor:
    actor = tx.organisations.actor(person_id)
    if actor is None:
        raise NotFound(f"person {person_id!r} does not exist in any organisation loaded")
    return actor


def _names(permissions: frozenset[Permission]) -> str:
    return ", ".join(sorted(p.value for p in permissions))
