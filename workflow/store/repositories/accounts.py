"""Writing accounts, invitations, sessions, API tokens and sign-in attempts."""

from __future__ import annotations

from workflow.store.queries.accounts import AccountQueries


class AccountRepository(AccountQueries):
    pass
