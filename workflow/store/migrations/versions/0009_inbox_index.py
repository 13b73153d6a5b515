"""The index an inbox is read through: an organisation's tasks in one state, by id (the
office's submitted tasks, a leader's verified ones), first page first, without a sort.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_org_state_id", "tasks", ["organisation", "state", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_org_state_id", "tasks")
