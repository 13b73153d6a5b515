"""Accounts: the last second-factor step accepted (a code is good once), and where the count
of failed sign-ins starts again (after a lockout, a success, an administrator's enable).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The 30-second step of the last TOTP code accepted: a code of that step or an earlier
    # one is refused, so a code seen over a shoulder cannot be replayed.
    op.add_column("accounts", sa.Column("totp_last_step", sa.BigInteger, nullable=True))
    # Failed sign-ins count after this attempt (an id of sign_in_attempts), within the last
    # 15 minutes: a lockout, a success, a new password or an administrator's enable start
    # the count again. An id, not a time: attempts made in the same instant stay ordered.
    op.add_column("accounts", sa.Column("failures_after", sa.Integer, nullable=True))


def downgrade() -> None:
    op.drop_column("accounts", "failures_after")
    op.drop_column("accounts", "totp_last_step")
