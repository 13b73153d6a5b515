"""Reading accounts, invitations, sessions, API tokens and sign-in attempts.

Secrets are never here: sessions, invitations and tokens are found by the SHA-256 of their
secret (a token by its id, its digest then compared by the caller in constant time).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select

from workflow.clock import as_utc
from workflow.domain.roles import Actor, Role
from workflow.store import driver
from workflow.store.queries.base import Queries
from workflow.store.tables import (
    accounts,
    api_tokens,
    invitations,
    people,
    person_roles,
    sessions,
    sign_in_attempts,
)

# Outcomes of a sign-in attempt (sign_in_attempts.outcome). Only FAILURE counts towards a
# lockout or an address's throttle; the others are kept for who looks at the attempts.
SUCCESS = "success"
FAILURE = "failure"  # a wrong login, password or second-factor code
THROTTLED = "throttled"  # refused unseen: the account locked, or the address throttled
DISABLED = "disabled"  # the right password for a disabled account
CODE_REQUIRED = "code_required"  # the right password; the second-factor code not given


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else as_utc(value)


@dataclass(frozen=True, slots=True)
class AccountState:
    """A person's account, with where the person belongs."""

    person_id: str
    organisation: str
    unit: str
    password_hash: str | None  # None until the person signs up with their link
    totp_secret: str | None  # set when a second factor is started; in use once enabled
    totp_enabled: bool
    totp_last_step: int | None
    created_at: dt.datetime
    activated_at: dt.datetime | None
    disabled_at: dt.datetime | None
    locked_until: dt.datetime | None
    failures_after: int | None  # failures count after this attempt (its id)

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True, slots=True)
class InvitationState:
    token_hash: str
    person_id: str
    purpose: str  # invite, reset
    expires_at: dt.datetime
    used_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class SessionState:
    id_hash: str
    person_id: str
    csrf_hash: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    account_disabled: bool  # the person's account disabled (or gone)


@dataclass(frozen=True, slots=True)
class SessionWho:
    """A session, and who it is: the person as the rules see them (None: no longer in any
    organisation), whether their account is enabled and has a second factor."""

    session: SessionState
    actor: Actor | None
    account_enabled: bool
    totp_enabled: bool


# Every request with a cookie asks who it is: one statement, on the driver, instead of four.
_SESSION_WHO = (
    "SELECT sessions.person_id, sessions.csrf_hash, sessions.created_at, "
    "sessions.last_seen_at, sessions.expires_at, sessions.revoked_at, accounts.person_id, "
    "accounts.disabled_at, accounts.totp_enabled_at, people.organisation, people.unit, "
    "person_roles.role "
    "FROM sessions LEFT OUTER JOIN accounts ON accounts.person_id = sessions.person_id "
    "LEFT OUTER JOIN people ON people.id = sessions.person_id "
    "LEFT OUTER JOIN person_roles ON person_roles.person_id = sessions.person_id "
    "WHERE sessions.id_hash = ?"
)


def _instant(value: Any) -> dt.datetime | None:
    """A stored instant as the driver gives it (SQLite: text) made aware."""
    if value is None:
        return None
    return as_utc(dt.datetime.fromisoformat(value) if isinstance(value, str) else value)


@dataclass(frozen=True, slots=True)
class TokenState:
    id: int
    token_hash: str
    person_id: str
    organisation: str
    label: str
    permissions: list[str]
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    account_disabled: bool  # the person's account disabled (or gone)


class AccountQueries(Queries):
    def account(self, person_id: str) -> AccountState | None:
        row = self.conn.execute(
            select(accounts, people.c.organisation, people.c.unit)
            .join(people, people.c.id == accounts.c.person_id)
            .where(accounts.c.person_id == person_id)
        ).first()
        if row is None:
            return None
        return AccountState(
            person_id=row.person_id,
            organisation=row.organisation,
            unit=row.unit,
            password_hash=row.password_hash,
            totp_secret=row.totp_secret,
            totp_enabled=row.totp_enabled_at is not None,
            totp_last_step=row.totp_last_step,
            created_at=as_utc(row.created_at),
            activated_at=_aware(row.activated_at),
            disabled_at=_aware(row.disabled_at),
            locked_until=_aware(row.locked_until),
            failures_after=row.failures_after,
        )

    def administrator_accounts(self) -> list[str]:
        """People holding the admin role who have an account (invited or signed up)."""
        rows = self.conn.execute(
            select(accounts.c.person_id)
            .join(person_roles, person_roles.c.person_id == accounts.c.person_id)
            .where(person_roles.c.role == Role.ADMIN.value)
            .order_by(accounts.c.person_id)
        )
        return list(rows.scalars())

    def invitation(self, token_hash: str) -> InvitationState | None:
        row = self.conn.execute(
            select(invitations).where(invitations.c.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        return InvitationState(
            row.token_hash,
            row.person_id,
            row.purpose,
            as_utc(row.expires_at),
            _aware(row.used_at),
        )

    def failures_for(self, login: str, since: dt.datetime, after: int | None = None) -> int:
        """Failed sign-ins with this login after `since` (and after attempt `after`)."""
        which = sign_in_attempts.c.login == login
        if after is not None:
            which = and_(which, sign_in_attempts.c.id > after)
        return self._count(which, since)

    def last_attempt(self) -> int:
        """The id of the latest sign-in attempt (0: none yet)."""
        found = self.conn.execute(select(func.max(sign_in_attempts.c.id))).scalar_one()
        return int(found or 0)

    def failures_from(self, address: str, since: dt.datetime) -> int:
        """Failed sign-ins from this client address after `since`."""
        return self._count(sign_in_attempts.c.address == address, since)

    def _count(self, which: Any, since: dt.datetime) -> int:
        found = self.conn.execute(
            select(func.count())
            .select_from(sign_in_attempts)
            .where(which, sign_in_attempts.c.at > since, sign_in_attempts.c.outcome == FAILURE)
        ).scalar_one()
        return int(found)

    def attempts(self, login: str) -> list[dict[str, Any]]:
        """Every sign-in attempt with this login, oldest first."""
        rows = self.conn.execute(
            select(sign_in_attempts)
            .where(sign_in_attempts.c.login == login)
            .order_by(sign_in_attempts.c.id)
        ).all()
        return [
            {"at": as_utc(r.at), "login": r.login, "address": r.address, "outcome": r.outcome}
            for r in rows
        ]

    def session(self, id_hash: str) -> SessionState | None:
        row = self.conn.execute(
            select(sessions, accounts.c.disabled_at, accounts.c.person_id.label("account"))
            .outerjoin(accounts, accounts.c.person_id == sessions.c.person_id)
            .where(sessions.c.id_hash == id_hash)
        ).first()
        if row is None:
            return None
        return SessionState(
            id_hash=row.id_hash,
            person_id=row.person_id,
            csrf_hash=row.csrf_hash,
            created_at=as_utc(row.created_at),
            last_seen_at=as_utc(row.last_seen_at),
            expires_at=as_utc(row.expires_at),
            revoked_at=_aware(row.revoked_at),
            account_disabled=row.account is None or row.disabled_at is not None,
        )

    def session_who(self, id_hash: str) -> SessionWho | None:
        """`session`, the person it is and their account, in one statement."""
        found = driver.rows(self.conn, _SESSION_WHO, (id_hash,))
        if not found:
            return None
        first = found[0]
        created, seen, expires = _instant(first[2]), _instant(first[3]), _instant(first[4])
        assert created is not None and seen is not None and expires is not None
        has_account = first[6] is not None
        state = SessionState(
            id_hash=id_hash,
            person_id=first[0],
            csrf_hash=first[1],
            created_at=created,
            last_seen_at=seen,
            expires_at=expires,
            revoked_at=_instant(first[5]),
            account_disabled=not has_account or first[7] is not None,
        )
        actor = None
        if first[9] is not None:
            roles = frozenset(Role(row[11]) for row in found if row[11] is not None)
            actor = Actor(first[0], first[9], first[10], roles)
        return SessionWho(state, actor, has_account and first[7] is None, first[8] is not None)

    def live_sessions(self, person_id: str) -> int:
        """Sessions of the person not revoked (some may have run out of time)."""
        found = self.conn.execute(
            select(func.count())
            .select_from(sessions)
            .where(sessions.c.person_id == person_id, sessions.c.revoked_at.is_(None))
        ).scalar_one()
        return int(found)

    def token(self, token_id: int) -> TokenState | None:
        row = self.conn.execute(
            select(api_tokens, accounts.c.disabled_at, accounts.c.person_id.label("account"))
            .outerjoin(accounts, accounts.c.person_id == api_tokens.c.person_id)
            .where(api_tokens.c.id == token_id)
        ).first()
        if row is None:
            return None
        return TokenState(
            id=row.id,
            token_hash=row.token_hash,
            person_id=row.person_id,
            organisation=row.organisation,
            label=row.label,
            permissions=list(json.loads(row.permissions)),
            expires_at=as_utc(row.expires_at),
            revoked_at=_aware(row.revoked_at),
            account_disabled=row.account is None or row.disabled_at is not None,
        )

    def listing(self, organisation: str | None, now: dt.datetime) -> list[dict[str, Any]]:
        """Every person of the organisation (None: of every one) with their account's state:
        none (never invited), invited, active, locked or disabled."""
        query = (
            select(
                people.c.id,
                people.c.name,
                people.c.organisation,
                people.c.unit,
                accounts.c.person_id.label("account"),
                accounts.c.created_at,
                accounts.c.activated_at,
                accounts.c.disabled_at,
                accounts.c.locked_until,
                accounts.c.totp_enabled_at,
            )
            .outerjoin(accounts, accounts.c.person_id == people.c.id)
            .order_by(people.c.organisation, people.c.id)
        )
        if organisation is not None:
            query = query.where(people.c.organisation == organisation)
        rows = self.conn.execute(query).all()
        roles = self._roles([r.id for r in rows])
        last = self._last_sign_ins([r.id for r in rows if r.account is not None])
        out = []
        for r in rows:
            locked_until = _aware(r.locked_until)
            if r.account is None:
                state = "none"
            elif r.disabled_at is not None:
                state = "disabled"
            elif locked_until is not None and locked_until > now:
                state = "locked"
            elif r.activated_at is None:
                state = "invited"
            else:
                state = "active"
            out.append(
                {
                    "person": r.id,
                    "name": r.name,
                    "organisation": r.organisation,
                    "unit": r.unit,
                    "roles": roles.get(r.id, []),
                    "state": state,
                    "second_factor": r.totp_enabled_at is not None,
                    "invited_at": _aware(r.created_at),
                    "activated_at": _aware(r.activated_at),
                    "disabled_at": _aware(r.disabled_at),
                    "locked_until": locked_until if state == "locked" else None,
                    "last_sign_in": last.get(r.id),
                }
            )
        return out

    def _roles(self, person_ids: list[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        if not person_ids:
            return found
        for pid, role in self.conn.execute(
            select(person_roles.c.person_id, person_roles.c.role)
            .where(person_roles.c.person_id.in_(person_ids))
            .order_by(person_roles.c.person_id, person_roles.c.role)
        ):
            found.setdefault(pid, []).append(role)
        return found

    def _last_sign_ins(self, person_ids: list[str]) -> dict[str, dt.datetime]:
        if not person_ids:
            return {}
        rows = self.conn.execute(
            select(sessions.c.person_id, func.max(sessions.c.created_at))
            .where(sessions.c.person_id.in_(person_ids))
            .group_by(sessions.c.person_id)
        )
        return {pid: as_utc(at) for pid, at in rows}

    def tokens(
        self, organisation: str | None, person_id: str | None, now: dt.datetime
    ) -> list[dict[str, Any]]:
        """API tokens (never their digests) of an organisation or of one person, by id:
        active, expired or revoked."""
        query = select(api_tokens).order_by(api_tokens.c.id)
        if organisation is not None:
            query = query.where(api_tokens.c.organisation == organisation)
        if person_id is not None:
            query = query.where(api_tokens.c.person_id == person_id)
        out = []
        for r in self.conn.execute(query).all():
            expires_at = as_utc(r.expires_at)
            revoked_at = _aware(r.revoked_at)
            state = (
                "revoked"
                if revoked_at is not None
                else ("expired" if expires_at <= now else "active")
            )
            out.append(
                {
                    "id": r.id,
                    "person": r.person_id,
                    "organisation": r.organisation,
                    "label": r.label,
                    "permissions": list(json.loads(r.permissions)),
                    "created_at": as_utc(r.created_at),
                    "created_by": r.created_by,
                    "expires_at": expires_at,
                    "revoked_at": revoked_at,
                    "state": state,
                }
            )
        return out

    def unused_invitations(self, person_id: str, now: dt.datetime) -> int:
        """Links of the person still good (not used, not expired)."""
        found = self.conn.execute(
            select(func.count())
            .select_from(invitations)
            .where(
                and_(
                    invitations.c.person_id == person_id,
                    invitations.c.used_at.is_(None),
                    invitations.c.expires_at > now,
                )
            )
        ).scalar_one()
        return int(found)
