"""Signing in and the sessions it opens: server-side, each a random 256-bit id (and a CSRF
token) of which only digests are kept; ended by signing out, by 30 idle minutes
(PLANFLOW_SESSION_IDLE_MINUTES), by 12 hours of age (PLANFLOW_SESSION_HOURS), by a
disabled account, a changed password or an administrator's revoke.

Failed sign-ins are throttled: 5 in 15 minutes lock the account for 15 minutes (an
`AccountLocked` entry), and 20 in 15 minutes from one client address refuse that address
for the rest of the window. Each attempt is one structlog event `sign_in` (login, address,
outcome), never the password.

Until someone is signed in there is no principal: what an attempt writes (the attempt, a
lockout) is recorded as the client's, `client:<address>` through the web channel; what a
success writes, as the person's, with the new session as the credential.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from typing import NoReturn

from workflow.context import Context
from workflow.domain import events
from workflow.domain.access import Access
from workflow.domain.principals import Channel, Principal
from workflow.errors import InvalidInput, NotAuthenticated, PlanflowError, TooManyAttempts
from workflow.security import passwords, totp
from workflow.security import secret as secrets
from workflow.services.access import SESSION, decide
from workflow.store.queries.accounts import (
    CODE_REQUIRED,
    DISABLED,
    FAILURE,
    SUCCESS,
    THROTTLED,
    AccountState,
)
from workflow.store.uow import UnitOfWork

WINDOW = dt.timedelta(minutes=15)  # failures are counted over this window
ACCOUNT_FAILURES = 5  # this many lock the account ...
LOCK = dt.timedelta(minutes=15)  # ... for this long
ADDRESS_FAILURES = 20  # this many from one address refuse it for the rest of the window
# A session's last activity is written at most this often: a request does not cost a write
# (the idle timeout is counted in minutes).
TOUCH_EVERY = dt.timedelta(seconds=60)

WRONG = "the login or the password is wrong"
LOCKED = "too many failed sign-ins for this login: it is locked for 15 minutes; try again later"
THROTTLED_ADDRESS = "too many failed sign-ins from this address: try again in 15 minutes"
CODE_NEEDED = "a second factor code is required"
CODE_WRONG = "the second factor code is wrong"
ENDED = "not signed in: the session is unknown or has ended; sign in again"


@dataclass(frozen=True)
class SignedIn:
    session: str  # the secrets: set as cookies, never stored (only their digests)
    csrf: str
    person: str
    expires_at: dt.datetime  # the absolute end (idle sessions end sooner)


@dataclass(frozen=True)
class Authenticated:
    principal: Principal
    access: Access
    csrf_hash: str | None  # a session's; None for a token (no cookie, no CSRF)
    # Signed in with the password alone while their organisation's file wants a second
    # factor of one of their roles: `access` is empty until they set one up.
    needs_second_factor: bool = False


def idle_limit() -> dt.timedelta:
    return dt.timedelta(minutes=_setting("PLANFLOW_SESSION_IDLE_MINUTES", 30, 1, 24 * 60))


def lifetime() -> dt.timedelta:
    return dt.timedelta(hours=_setting("PLANFLOW_SESSION_HOURS", 12, 1, 24 * 7))


def sign_in(ctx: Context, login: str, password: str, code: str | None, address: str) -> SignedIn:
    """Open a session for `login` (a person's id) with their password, and their second
    factor's code when they have one. One generic NotAuthenticated line for any wrong login
    or password (a disabled account's included: the answer does not tell which logins
    exist); TooManyAttempts when the account or the address is throttled."""
    login = login.strip().lower()[:80]  # ids are lower-case: a typed capital is no mistake
    address = (address.strip() or "unknown")[:64]
    life = lifetime()
    uow = ctx.uow
    with uow.reading() as r:
        now = r.now
        account = r.accounts.account(login)
        actor = r.organisations.actor(login) if account is not None else None
        reach = r.organisations.reach(actor.organisation) if actor is not None else None
        from_address = r.accounts.failures_from(address, now - WINDOW)
        # A login with no account is throttled as an account would be, so that a lockout
        # does not tell which logins exist.
        for_login = r.accounts.failures_for(login, now - WINDOW) if account is None else 0
    if from_address >= ADDRESS_FAILURES:
        _refuse(ctx, login, address, THROTTLED, TooManyAttempts(THROTTLED_ADDRESS))
    locked = account is not None and account.locked_until is not None and account.locked_until > now
    if locked or for_login >= ACCOUNT_FAILURES:
        _refuse(ctx, login, address, THROTTLED, TooManyAttempts(LOCKED))
    # Verified even with no account (against a stand-in hash): as slow either way.
    right = passwords.verify(account.password_hash if account else None, password)
    if account is None or actor is None or reach is None or not right:
        failed(ctx, account, login, address, NotAuthenticated(WRONG))
    if not account.enabled:
        _refuse(ctx, login, address, DISABLED, NotAuthenticated(WRONG))
    step = None
    if account.totp_enabled and account.totp_secret is not None:
        if not code:
            _refuse(ctx, login, address, CODE_REQUIRED, NotAuthenticated(CODE_NEEDED))
        step = totp.matching_step(account.totp_secret, code, now, account.totp_last_step)
        if step is None:
            failed(ctx, account, login, address, NotAuthenticated(CODE_WRONG))
    assert account.password_hash is not None
    rehashed = (
        passwords.hash_password(password) if passwords.needs_rehash(account.password_hash) else None
    )
    session, csrf = secrets.new_secret(), secrets.new_secret()
    id_hash = secrets.digest(session)
    person = account.person_id
    pending = bool(actor.roles & reach.second_factor) and not account.totp_enabled
    principal = Principal(person, Channel.WEB, credential=SESSION + id_hash)
    with _as(ctx, principal).writing() as tx:
        # The code's step taken as used; False: a concurrent sign-in took this code first.
        reused = step is not None and not tx.accounts.accept_step(person, step)
        expires_at = tx.now + life
        if not reused:
            tx.accounts.add_session(
                id_hash, person, secrets.digest(csrf), tx.now, expires_at, address
            )
            attempt = tx.accounts.add_attempt(tx.now, login, address, SUCCESS)
            tx.accounts.restart_failures(person, attempt)
            if rehashed is not None:
                tx.accounts.rehash(person, rehashed)
            detail = f"from {address}" + (" (second factor to set up)" if pending else "")
            tx.record(
                events.SignedIn(
                    actor=person,
                    unit=actor.unit,
                    organisation=actor.organisation,
                    person=person,
                    detail=detail,
                    expires_at=expires_at.isoformat(),
                    credential_id=id_hash,
                )
            )
    if reused:
        failed(ctx, account, login, address, NotAuthenticated(CODE_WRONG))
    _log(ctx, login, address, SUCCESS)
    return SignedIn(session, csrf, person, expires_at)


def authenticate_session(ctx: Context, session: str) -> Authenticated:
    """Who a session cookie is: NotAuthenticated when unknown, ended, idle too long, too
    old, or its account disabled. Notes the activity (at most once a minute)."""
    found, touch_due = check_session(ctx, session)
    if touch_due:
        touch_session(ctx, found.principal, session)
    return found


def check_session(ctx: Context, session: str) -> tuple[Authenticated, bool]:
    """`authenticate_session` without its write: who the cookie is (reads only, never
    waits for the database's write lock), and whether its activity is due to be noted
    (`touch_session`)."""
    id_hash = secrets.digest(session)
    idle = idle_limit()
    uow = ctx.uow
    with uow.reading() as r:
        now = r.now
        who = r.accounts.session_who(id_hash)
        found = who.session if who is not None else None
        if who is None or found is None or found.revoked_at is not None:
            raise NotAuthenticated(ENDED)
        if found.account_disabled:
            raise NotAuthenticated(f"the account of {found.person_id} is disabled")
        if now >= found.expires_at:
            raise NotAuthenticated(
                "the session has ended: sessions last "
                f"{_hours(found.expires_at - found.created_at)}; sign in again"
            )
        if now - found.last_seen_at > idle:
            raise NotAuthenticated(
                f"the session has ended after more than {int(idle.total_seconds() // 60)} "
                "minutes without activity; sign in again"
            )
        principal = Principal(found.person_id, Channel.WEB, credential=SESSION + id_hash)
        access, pending = decide(
            r,
            principal,
            who.actor,
            None,
            account_enabled=who.account_enabled,
            totp_enabled=who.totp_enabled,
        )
    authenticated = Authenticated(principal, access, found.csrf_hash, needs_second_factor=pending)
    return authenticated, now - found.last_seen_at >= TOUCH_EVERY


def touch_session(ctx: Context, principal: Principal, session: str) -> None:
    """Note the session's activity now (its idle timeout counts from here)."""
    with _as(ctx, principal).writing() as tx:
        tx.accounts.touch_session(secrets.digest(session), tx.now)


def csrf_matches(authenticated: Authenticated, token: str | None) -> bool:
    """Whether a write's CSRF token is its session's, compared in constant time."""
    if not token or authenticated.csrf_hash is None:
        return False
    return secrets.matches(token, authenticated.csrf_hash)


def sign_out(ctx: Context, session: str) -> None:
    """End the session (`SignedOut`); nothing to do when it is unknown or already ended."""
    id_hash = secrets.digest(session)
    with ctx.uow.reading() as r:
        found = r.accounts.session(id_hash)
        actor = r.organisations.actor(found.person_id) if found is not None else None
    if found is None or actor is None or found.revoked_at is not None:
        return
    principal = Principal(found.person_id, Channel.WEB, credential=SESSION + id_hash)
    with _as(ctx, principal).writing() as tx:
        if tx.accounts.end_session(id_hash, tx.now, "signed out"):
            tx.record(
                events.SignedOut(
                    actor=actor.id,
                    unit=actor.unit,
                    organisation=actor.organisation,
                    person=actor.id,
                    credential_id=id_hash,
                )
            )


def failed(
    ctx: Context,
    account: AccountState | None,
    login: str,
    address: str,
    error: PlanflowError,
) -> NoReturn:
    """Record a failed attempt, lock the account at the fifth failure within the window
    (`AccountLocked`), log it, and raise `error`."""
    client = _client(address)
    with _as(ctx, client).writing() as tx:
        now = tx.now
        attempt = tx.accounts.add_attempt(now, login, address, FAILURE)
        if account is not None:
            person = account.person_id
            tx.accounts.note_failure(person)  # PostgreSQL: the row stays locked till commit
            fresh = tx.accounts.account(person)
            assert fresh is not None
            count = tx.accounts.failures_for(login, now - WINDOW, fresh.failures_after)
            already = fresh.locked_until is not None and fresh.locked_until > now
            if count >= ACCOUNT_FAILURES and not already:
                until = now + LOCK
                tx.accounts.lock(person, until, attempt)
                tx.record(
                    events.AccountLocked(
                        actor=client.id,
                        organisation=account.organisation,
                        person=person,
                        detail=f"{count} failed sign-ins within 15 minutes, the last from "
                        f"{address}",
                        expires_at=until.isoformat(),
                    )
                )
    _log(ctx, login, address, FAILURE)
    raise error


def _refuse(ctx: Context, login: str, address: str, outcome: str, error: PlanflowError) -> NoReturn:
    """Record an attempt refused without counting it as a failure, log it, raise `error`."""
    with _as(ctx, _client(address)).writing() as tx:
        tx.accounts.add_attempt(tx.now, login, address, outcome)
    _log(ctx, login, address, outcome)
    raise error


def _client(address: str) -> Principal:
    """Who an unauthenticated attempt is recorded as: the client address it came from."""
    return Principal(f"client:{address}", Channel.WEB, person=False)


def _as(ctx: Context, principal: Principal) -> UnitOfWork:
    return dataclasses.replace(ctx, principal=principal).uow


def _log(ctx: Context, login: str, address: str, outcome: str) -> None:
    ctx.log.info("sign_in", login=login, address=address, outcome=outcome)


def _hours(span: dt.timedelta) -> str:
    hours = round(span.total_seconds() / 3600)
    return f"{hours} hour" + ("s" if hours != 1 else "")


def _setting(name: str, default: int, lowest: int, highest: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not lowest <= int(raw) <= highest:
        raise InvalidInput(f"{name}={raw!r}: expected a whole number from {lowest} to {highest}")
    return int(raw)
