"""Reading accounts, invitations, sessions, API tokens and sign-in attempts."""

from __future__ import annotations

from workflow.store.queries.base import Queries


class AccountQueries(Queries):
    pass
