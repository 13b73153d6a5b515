"""Writing accounts, invitations, sessions, API tokens and sign-in attempts.

Only digests of secrets are written (the caller makes them: `workflow.security.secret`);
what must happen once (a link used, a second-factor step accepted, a token revoked) is a
compare-and-set that says whether it was this transaction that did it.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, insert, update

from workflow.store.queries.accounts import AccountQueries
from workflow.store.tables import accounts, api_tokens, invitations, sessions, sign_in_attempts


class AccountRepository(AccountQueries):
    # ------------------------------------------------------------------ accounts

    def create(self, person_id: str, at: dt.datetime) -> None:
        """An account without a password yet (the person signs up with their link)."""
        self.conn.execute(
            insert(accounts).values(person_id=person_id, created_at=at, failed_count=0)
        )

    def set_password(self, person_id: str, password_hash: str, at: dt.datetime) -> None:
        """A new password (sign-up, reset or change): the count of failures starts again and
        a lockout ends."""
        self.conn.execute(
            update(accounts)
            .where(accounts.c.person_id == person_id)
            .values(
                password_hash=password_hash,
                password_changed_at=at,
                # kept when set (a reset, a change); else now (signing up)
                activated_at=func.coalesce(accounts.c.activated_at, at),
                failed_count=0,
                locked_until=None,
                failures_after=self.last_attempt(),
            )
        )

    def rehash(self, person_id: str, password_hash: str) -> None:
        """The same password, hashed again with the hasher's current parameters."""
        self.conn.execute(
            update(accounts)
            .where(accounts.c.person_id == person_id)
            .values(password_hash=password_hash)
        )

    def disable(self, person_id: str, at: dt.datetime) -> bool:
        """False when it already was."""
        changed = self.conn.execute(
            update(accounts)
            .where(accounts.c.person_id == person_id, accounts.c.disabled_at.is_(None))
            .values(disabled_at=at)
        )
        return changed.rowcount == 1

    def enable(self, person_id: str) -> None:
        """Enabled and unlocked, the count of failures starting again from now."""
        self.conn.execute(
            update(accounts)
            .where(accounts.c.person_id == person_id)
            .values(
                disabled_at=None,
                locked_until=None,
                failed_count=0,
                failures_after=self.last_attempt(),
            )
        )

    def restart_failures(self, person_id: str, after: int) -> None:
        """After a successful sign-in: failures count after attempt `after` (its id)."""
        self.conn.execute(
            update(accounts)
            .where(accounts.c.person_id == person_id)
            .values(failed_count=0, failures_after=after)
        )

    def note_failure(self, person_id: str) -> None:
        """One more failure; on PostgreSQL the row stays locked to the end of the
        transaction, so that concurrent failures are counted one after the other."""
        self.conn.execute(
            update(accounts)
            .where(accounts.c.person_id == person_id)
            .values(failed_count=accounts.c.failed_count + 1)
        )

    def lock(self, person_id: str, until: dt.datetime, after: int) -> None:
        """Refuse sign-ins until `until`; the failures up to attempt `after` are spent."""
        self.conn.execute(
            update(accounts)
            .where(accounts.c.person_id == person_id)
            .values(locked_until=until, failed_count=0, failures_after=after)
        )

    # ------------------------------------------------------------------ second factor

    def start_second_factor(self, person_id: str, secret: str) -> None:
        """A secret not yet in use: the second factor is on once a code of it is confirmed."""
        self.conn.execute(
            update(accounts)
            .where(accounts.c.person_id == person_id, accounts.c.totp_enabled_at.is_(None))
            .values(totp_secret=secret, totp_last_step=None)
        )

    def enable_second_factor(self, person_id: str, at: dt.datetime) -> None:
        self.conn.execute(
            update(accounts).where(accounts.c.person_id == person_id).values(totp_enabled_at=at)
        )

    def accept_step(self, person_id: str, step: int) -> bool:
        """Take `step` as the last second-factor step used; False when this or a later one
        was already taken (the code was used, perhaps by a concurrent sign-in)."""
        changed = self.conn.execute(
            update(accounts)
            .where(
                accounts.c.person_id == person_id,
                (accounts.c.totp_last_step.is_(None)) | (accounts.c.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return changed.rowcount == 1

    # ------------------------------------------------------------------ invitations

    def add_invitation(
        self,
        token_hash: str,
        person_id: str,
        purpose: str,
        at: dt.datetime,
        expires_at: dt.datetime,
        by: str,
    ) -> None:
        self.conn.execute(
            insert(invitations).values(
                token_hash=token_hash,
                person_id=person_id,
                purpose=purpose,
                created_at=at,
                expires_at=expires_at,
                created_by=by,
            )
        )

    def void_invitations(self, person_id: str, at: dt.datetime) -> int:
        """Mark the person's links not yet used as spent (a newer one replaces them)."""
        changed = self.conn.execute(
            update(invitations)
            .where(invitations.c.person_id == person_id, invitations.c.used_at.is_(None))
            .values(used_at=at)
        )
        return int(changed.rowcount)

    def use_invitation(self, token_hash: str, at: dt.datetime) -> bool:
        """Spend the link; False when it was spent (or ran out) meanwhile."""
        changed = self.conn.execute(
            update(invitations)
            .where(
                invitations.c.token_hash == token_hash,
                invitations.c.used_at.is_(None),
                invitations.c.expires_at > at,
            )
            .values(used_at=at)
        )
        return changed.rowcount == 1

    # ------------------------------------------------------------------ sign-ins, sessions

    def add_attempt(self, at: dt.datetime, login: str, address: str, outcome: str) -> int:
        """The attempt's id."""
        found = self.conn.execute(
            insert(sign_in_attempts)
            .values(at=at, login=login, address=address, outcome=outcome)
            .returning(sign_in_attempts.c.id)
        ).scalar_one()
        return int(found)

    def add_session(
        self,
        id_hash: str,
        person_id: str,
        csrf_hash: str,
        at: dt.datetime,
        expires_at: dt.datetime,
        address: str,
    ) -> None:
        self.conn.execute(
            insert(sessions).values(
                id_hash=id_hash,
                person_id=person_id,
                csrf_hash=csrf_hash,
                created_at=at,
                last_seen_at=at,
                expires_at=expires_at,
                address=address,
            )
        )

    def touch_session(self, id_hash: str, at: dt.datetime) -> None:
        self.conn.execute(
            update(sessions)
            .where(sessions.c.id_hash == id_hash, sessions.c.last_seen_at < at)
            .values(last_seen_at=at)
        )

    def end_session(self, id_hash: str, at: dt.datetime, because: str) -> bool:
        """False when it had already ended."""
        changed = self.conn.execute(
            update(sessions)
            .where(sessions.c.id_hash == id_hash, sessions.c.revoked_at.is_(None))
            .values(revoked_at=at, revoked_because=because)
        )
        return changed.rowcount == 1

    def end_sessions(self, person_id: str, at: dt.datetime, because: str) -> int:
        """End every session of the person not ended yet; how many."""
        changed = self.conn.execute(
            update(sessions)
            .where(sessions.c.person_id == person_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=at, revoked_because=because)
        )
        return int(changed.rowcount)

    # ------------------------------------------------------------------ API tokens

    def add_token(
        self,
        placeholder_hash: str,
        label: str,
        person_id: str,
        organisation: str,
        permissions: list[str],
        at: dt.datetime,
        expires_at: dt.datetime,
        by: str,
    ) -> int:
        """A new token's row, its id (which goes into the secret, whose digest `set_token_hash`
        then stores in place of `placeholder_hash`, itself a digest of random bits)."""
        found = self.conn.execute(
            insert(api_tokens)
            .values(
                token_hash=placeholder_hash,
                label=label,
                person_id=person_id,
                organisation=organisation,
                permissions=json.dumps(sorted(permissions)),
                created_at=at,
                expires_at=expires_at,
                created_by=by,
            )
            .returning(api_tokens.c.id)
        ).scalar_one()
        return int(found)

    def set_token_hash(self, token_id: int, token_hash: str) -> None:
        self.conn.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(token_hash=token_hash)
        )

    def revoke_token(self, token_id: int, at: dt.datetime) -> bool:
        """False when it was already revoked."""
        changed = self.conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return changed.rowcount == 1
