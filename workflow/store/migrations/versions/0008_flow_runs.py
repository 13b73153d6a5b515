"""Flow runs: each run of a flow, the day it worked as of, for each organisation it covered,
when and by whom (a production database refuses a run dated before the last one).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_runs",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("flow", sa.String(20), nullable=False),  # apology, inspection, aggregate
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),  # the day the run worked as of
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),  # when it ran
        sa.Column("run_by", sa.String(80), nullable=False),  # a person, a schedule, flow:*
        sa.PrimaryKeyConstraint("id", name="pk_flow_runs"),
        sa.ForeignKeyConstraint(
            ["organisation"], ["organisations.code"], name="fk_flow_runs_organisation_organisations"
        ),
    )
    # The last run of a flow for an organisation: the newest as_of of the pair.
    op.create_index("ix_flow_runs_flow_org_as_of", "flow_runs", ["flow", "organisation", "as_of"])


def downgrade() -> None:
    op.drop_index("ix_flow_runs_flow_org_as_of", table_name="flow_runs")
    op.drop_table("flow_runs")
