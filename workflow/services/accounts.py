"""Accounts: a person of an organisation file signs up with a one-time link an administrator
gives them (valid 72 h), with a password (Argon2id; `workflow.security.passwords` says
which are refused), and may add a second factor (TOTP), which their organisation's file can
require of chosen roles. Administrators disable, enable, reset and end sessions.

Who may: an administrator (role admin) of the person's organisation for invite, list,
disable, enable, reset and revoke-sessions (in a simulation database where nobody signed in,
the shell's operator); the person themselves for their password and second factor; the
operating-system user on the database's host for the first administrator, once.
Every act is an audit entry; no secret is ever in one (a link's digest at most).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from workflow.context import Context
from workflow.domain import events
from workflow.domain.access import ROLE_PERMISSIONS
from workflow.domain.principals import Channel, Principal, operator
from workflow.domain.roles import Actor, Role
from workflow.errors import InvalidInput, NotAuthenticated, NotFound, TooManyAttempts
from workflow.security import passwords, totp
from workflow.security import secret as secrets
from workflow.services import sessions, tokens
from workflow.services.access import Acting, administrator, themselves
from workflow.store.queries.accounts import AccountState
from workflow.store.uow import Reader, Tx

LINK_VALID = dt.timedelta(hours=72)
BOOTSTRAP_TOKEN_DAYS = 1  # the first administrator's token: 24 hours
INVITATION = "invitation:"  # an activation's credential: "invitation:" and the link's digest
LINK_UNUSABLE = "this sign-up link is unknown, used or expired: ask an administrator for a new one"


@dataclass(frozen=True)
class Invitation:
    person: str
    link: str  # holds the secret: shown once to whoever passes it on, never stored
    expires_at: dt.datetime


# ----------------------------------------------------------------------------- administrators


def invite(ctx: Context, person_id: str, base_url: str) -> Invitation:
    """A one-time sign-up link for `person_id` (a new one replaces any not yet used)."""
    base = _base(base_url)
    uow = ctx.uow
    production = uow.production()
    with uow.writing() as tx:
        actor = _person(tx, person_id)
        acting = administrator(ctx, tx, actor.organisation, production=production)
        account = tx.accounts.account(person_id)
        if account is not None and account.activated_at is not None:
            raise InvalidInput(
                f"{person_id} has signed up already; to let them choose a new password, use "
                f"`planflow accounts reset {person_id}`"
            )
        if account is not None and not account.enabled:
            raise InvalidInput(f"{person_id}'s account is disabled: enable it first")
        if account is None:
            tx.accounts.create(person_id, tx.now)
        return _link(tx, acting, actor, "invite", base)


def bootstrap_admin(
    ctx: Context, person_id: str, os_user: str, base_url: str
) -> tuple[Invitation, tokens.IssuedToken]:
    """The first administrator, once per database, by the operating-system user on its host:
    a sign-up link, and an API token with the admin role's permissions for 24 hours (so
    that they can use the command line at once). The person must hold the admin role in
    their organisation's file."""
    base = _base(base_url)
    host = operator(os_user.strip() or "unknown", Channel.CLI)
    boot = dataclasses.replace(ctx, principal=host)
    with boot.uow.writing() as tx:
        actor = _person(tx, person_id)
        if Role.ADMIN not in actor.roles:
            raise InvalidInput(
                f"{person_id} does not hold the admin role in the file of "
                f"{actor.organisation}: give it there, load the file, then run this again"
            )
        existing = tx.accounts.administrator_accounts()
        if existing:
            raise InvalidInput(
                f"an administrator account exists already ({', '.join(existing)}): the "
                "first administrator is made once per database; they invite the others"
            )
        if tx.accounts.account(person_id) is None:
            tx.accounts.create(person_id, tx.now)
        acting = Acting(host.id, None, None, None)
        invitation = _link(tx, acting, actor, "invite", base, detail="bootstrap-admin")
        token = tokens.issue(
            tx,
            acting,
            person=person_id,
            organisation=actor.organisation,
            permissions=sorted(p.value for p in ROLE_PERMISSIONS[Role.ADMIN]),
            expires_at=tx.now + dt.timedelta(days=BOOTSTRAP_TOKEN_DAYS),
            label="bootstrap-admin",
        )
    return invitation, token


def list_accounts(ctx: Context, organisation: str | None) -> list[dict[str, Any]]:
    """Every person of the organisation with their account's state (none, invited, active,
    locked, disabled); None: the administrator's own organisation (every organisation, for
    a simulation's operator)."""
    uow = ctx.uow
    production = uow.production()
    with uow.reading() as r:
        wanted = organisation if organisation is not None else _own(ctx, r)
        administrator(ctx, r, wanted or "", production=production)
        if wanted is not None:
            r.organisations.require(wanted)
        return r.accounts.listing(wanted, r.now)


def disable(ctx: Context, person_id: str, reason: str) -> None:
    """No more sign-ins nor tokens for the person; every session of theirs ends now."""
    reason = _reason(reason)
    uow = ctx.uow
    production = uow.production()
    with uow.writing() as tx:
        actor, _state = _account(tx, person_id)
        acting = administrator(ctx, tx, actor.organisation, production=production)
        if acting.id == person_id:
            raise InvalidInput("administrators cannot disable their own account")
        if not tx.accounts.disable(person_id, tx.now):
            raise InvalidInput(f"{person_id}'s account is disabled already")
        ended = tx.accounts.end_sessions(person_id, tx.now, "account disabled")
        tx.record(
            events.AccountDisabled(
                **_envelope(acting, actor),
                person=person_id,
                detail=f"{reason} ({_sessions(ended)} ended)",
            )
        )


def enable(ctx: Context, person_id: str) -> None:
    """Enable a disabled account, or unlock one locked by failed sign-ins."""
    uow = ctx.uow
    production = uow.production()
    with uow.writing() as tx:
        actor, account = _account(tx, person_id)
        acting = administrator(ctx, tx, actor.organisation, production=production)
        locked = account.locked_until is not None and account.locked_until > tx.now
        if account.enabled and not locked:
            raise InvalidInput(f"{person_id}'s account is enabled and not locked already")
        tx.accounts.enable(person_id)
        tx.record(
            events.AccountEnabled(
                **_envelope(acting, actor),
                person=person_id,
                detail=None if not account.enabled else "unlocked",
            )
        )


def reset(ctx: Context, person_id: str, base_url: str) -> Invitation:
    """A one-time link (72 h) with which the person chooses a new password; their current
    one works until the link is used (disable the account to stop it at once)."""
    base = _base(base_url)
    uow = ctx.uow
    production = uow.production()
    with uow.writing() as tx:
        actor, account = _account(tx, person_id)
        acting = administrator(ctx, tx, actor.organisation, production=production)
        if not account.enabled:
            raise InvalidInput(f"{person_id}'s account is disabled: enable it first")
        purpose = "reset" if account.activated_at is not None else "invite"
        return _link(tx, acting, actor, purpose, base, detail="reset")


def revoke_sessions(ctx: Context, person_id: str, reason: str) -> int:
    """End every session of the person now; how many there were."""
    reason = _reason(reason)
    uow = ctx.uow
    production = uow.production()
    with uow.writing() as tx:
        actor, _state = _account(tx, person_id)
        acting = administrator(ctx, tx, actor.organisation, production=production)
        ended = tx.accounts.end_sessions(person_id, tx.now, reason)
        tx.record(
            events.SessionsRevoked(
                **_envelope(acting, actor),
                person=person_id,
                detail=f"{reason} ({_sessions(ended)} ended)",
            )
        )
    return ended


# ----------------------------------------------------------------------------- the person


def activate(ctx: Context, secret: str, password: str, *, channel: Channel = Channel.WEB) -> str:
    """Sign up (or choose a new password after a reset) with a link's secret; the person's
    id. NotAuthenticated for an unknown, used or expired link; InvalidInput, saying why,
    for a password that may not be used (the link stays good)."""
    token_hash = secrets.digest(secret.strip())
    with ctx.uow.reading() as r:
        found = r.accounts.invitation(token_hash)
        if found is None or found.used_at is not None or found.expires_at <= r.now:
            raise NotAuthenticated(LINK_UNUSABLE)
        account = r.accounts.account(found.person_id)
        actor = r.organisations.actor(found.person_id)
    if account is None or actor is None or not account.enabled:
        raise NotAuthenticated(
            f"the account of {found.person_id} is disabled: ask an administrator"
        )
    _require_strong(password, actor.id)
    hashed = passwords.hash_password(password)
    principal = Principal(actor.id, channel, credential=INVITATION + token_hash)
    with dataclasses.replace(ctx, principal=principal).uow.writing() as tx:
        if not tx.accounts.use_invitation(token_hash, tx.now):
            raise NotAuthenticated(LINK_UNUSABLE)  # used by a concurrent request meanwhile
        tx.accounts.set_password(actor.id, hashed, tx.now)
        envelope = _envelope(Acting(actor.id, None, actor.unit, None), actor)
        if found.purpose == "reset":
            ended = tx.accounts.end_sessions(actor.id, tx.now, "password reset")
            tx.record(
                events.PasswordChanged(
                    **envelope,
                    person=actor.id,
                    detail=f"reset with a link ({_sessions(ended)} ended)",
                    credential_id=token_hash,
                )
            )
        else:
            tx.record(
                events.AccountActivated(**envelope, person=actor.id, credential_id=token_hash)
            )
    return actor.id


def change_password(
    ctx: Context, person_id: str, current: str, new: str, *, address: str = "unknown"
) -> None:
    """The person's new password, given their current one; every session of theirs ends
    (they sign in again). A wrong current password counts as a failed sign-in."""
    uow = ctx.uow
    production = uow.production()
    with uow.reading() as r:
        acting = themselves(ctx, r, person_id, "change their password", production=production)
        actor, account = _account(r, person_id)
        if account.password_hash is None:
            raise InvalidInput(f"{person_id} has not signed up yet: use the sign-up link")
        if account.locked_until is not None and account.locked_until > r.now:
            raise TooManyAttempts(sessions.LOCKED)
    if not passwords.verify(account.password_hash, current):
        error = NotAuthenticated("the current password is wrong")
        sessions.failed(ctx, account, person_id, address[:64] or "unknown", error)
    if new == current:
        raise InvalidInput("the new password is the current one: choose another")
    _require_strong(new, person_id)
    hashed = passwords.hash_password(new)
    with uow.writing() as tx:
        tx.accounts.set_password(person_id, hashed, tx.now)
        ended = tx.accounts.end_sessions(person_id, tx.now, "password changed")
        tx.record(
            events.PasswordChanged(
                **_envelope(acting, actor), person=person_id, detail=f"{_sessions(ended)} ended"
            )
        )


def start_second_factor(ctx: Context, person_id: str) -> tuple[str, str]:
    """A new second-factor secret for the person and its otpauth:// URI (for their
    authenticator app); in use once a code of it is confirmed."""
    uow = ctx.uow
    production = uow.production()
    with uow.writing() as tx:
        themselves(ctx, tx, person_id, "set up their second factor", production=production)
        _actor, account = _account(tx, person_id)
        if account.totp_enabled:
            raise InvalidInput(f"{person_id} has a second factor already")
        secret = totp.new_secret()
        tx.accounts.start_second_factor(person_id, secret)
    return secret, totp.provisioning_uri(secret, person_id)


def confirm_second_factor(ctx: Context, person_id: str, code: str) -> None:
    """Turn the second factor on with a code of the secret just started: from now on every
    sign-in needs a code."""
    uow = ctx.uow
    production = uow.production()
    with uow.writing() as tx:
        acting = themselves(ctx, tx, person_id, "set up their second factor", production=production)
        actor, account = _account(tx, person_id)
        if account.totp_enabled:
            raise InvalidInput(f"{person_id} has a second factor already")
        if account.totp_secret is None:
            raise InvalidInput("no second factor was started: start one first")
        step = totp.matching_step(account.totp_secret, code, tx.now, account.totp_last_step)
        if step is None or not tx.accounts.accept_step(person_id, step):
            raise InvalidInput("the second factor code is wrong: type the code your app shows now")
        tx.accounts.enable_second_factor(person_id, tx.now)
        tx.record(events.SecondFactorEnabled(**_envelope(acting, actor), person=person_id))


# ----------------------------------------------------------------------------- helpers


def _link(
    tx: Tx, acting: Acting, actor: Actor, purpose: str, base: str, *, detail: str | None = None
) -> Invitation:
    """A new one-time link for the person (replacing those not yet used), its entry."""
    secret = secrets.new_secret()
    token_hash = secrets.digest(secret)
    expires_at = tx.now + LINK_VALID
    tx.accounts.void_invitations(actor.id, tx.now)
    tx.accounts.add_invitation(token_hash, actor.id, purpose, tx.now, expires_at, acting.id)
    tx.record(
        events.AccountInvited(
            **_envelope(acting, actor),
            person=actor.id,
            detail=detail,
            expires_at=expires_at.isoformat(),
            credential_id=token_hash,
        )
    )
    return Invitation(actor.id, f"{base}/signup?token={secret}", expires_at)


def _envelope(acting: Acting, actor: Actor) -> dict[str, Any]:
    """An account entry's envelope: who acts (in which role, from which unit), for the
    organisation of the person acted on (so that its log shows it)."""
    return {
        "actor": acting.id,
        "role": acting.role,
        "unit": acting.unit,
        "organisation": actor.organisation,
    }


def _person(r: Reader, person_id: str) -> Actor:
    actor = r.organisations.actor(person_id)
    if actor is None:
        raise NotFound(f"person {person_id!r} does not exist in any organisation loaded")
    return actor


def _account(r: Reader, person_id: str) -> tuple[Actor, AccountState]:
    actor = _person(r, person_id)
    account = r.accounts.account(person_id)
    if account is None:
        raise NotFound(f"{person_id} has no account (see `planflow accounts invite {person_id}`)")
    return actor, account


def _own(ctx: Context, r: Reader) -> str | None:
    """The organisation of who acts (None: a simulation's operator, or nobody)."""
    principal = ctx.principal
    if principal is None or not principal.person:
        return None
    actor = r.organisations.actor(principal.id)
    return actor.organisation if actor is not None else None


def _base(base_url: str) -> str:
    base = base_url.strip().rstrip("/")
    if not base.startswith(("https://", "http://")) or any(c.isspace() for c in base):
        raise InvalidInput(
            f"the base URL {base_url!r} is not an http(s) address, e.g. https://planflow.example.vn"
        )
    return base


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("say why (a reason is recorded in the audit log)")
    return reason


def _require_strong(password: str, person_id: str) -> None:
    problem = passwords.weakness(password, person_id)
    if problem is not None:
        raise InvalidInput(problem)


def _sessions(count: int) -> str:
    return f"{count} session" + ("s" if count != 1 else "")


def administrator_exists(ctx: Context) -> bool:
    """Whether an administrator has an account yet (`bootstrap_admin` was run): until then
    the database's host loads the first definition files itself (the first administrator
    must be in a loaded file), after it only an administrator does."""
    with ctx.uow.reading() as r:
        return bool(r.accounts.administrator_accounts())
