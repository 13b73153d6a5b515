"""Procedures, dossiers, flow notices (letters, reminders, escalations) and legal rule sets.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "procedures",
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("working_days", sa.Integer, nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("cutoff_hour", sa.Integer, nullable=True),
        sa.Column("illustrative", sa.Boolean, nullable=False),
        sa.Column("legal_basis", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("organisation", "code", name="pk_procedures"),
        sa.ForeignKeyConstraint(
            ["organisation"],
            ["organisations.code"],
            name="fk_procedures_organisation_organisations",
        ),
        sa.ForeignKeyConstraint(
            ["organisation", "unit"],
            ["units.organisation", "units.code"],
            name="fk_procedures_organisation_units",
        ),
    )
    op.create_table(
        "dossiers",
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("procedure", sa.String(60), nullable=False),
        sa.Column("applicant_name", sa.Text, nullable=False),
        sa.Column("applicant_address", sa.Text, nullable=True),
        sa.Column("applicant_phone", sa.String(40), nullable=True),
        sa.Column("applicant_email", sa.String(200), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("original_due", sa.Date, nullable=False),
        sa.Column("current_due", sa.Date, nullable=False),
        sa.Column("extension_count", sa.Integer, nullable=False),
        sa.Column("delay_reason", sa.Text, nullable=True),
        sa.Column("delay_days", sa.Integer, nullable=True),
        sa.Column("escalated", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("task_id", name="pk_dossiers"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_dossiers_task_id_tasks"),
        sa.ForeignKeyConstraint(
            ["organisation", "procedure"],
            ["procedures.organisation", "procedures.code"],
            name="fk_dossiers_organisation_procedures",
        ),
        sa.UniqueConstraint("code", name="uq_dossiers_code"),
    )
    op.create_index("ix_dossiers_org_due", "dossiers", ["organisation", "current_due"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("unit", sa.String(40), nullable=True),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("new_due", sa.Date, nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("path", sa.Text, nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notices"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name="fk_notices_task_id_tasks"),
        sa.UniqueConstraint("key", name="uq_notices_key"),
    )
    op.create_index("ix_notices_task", "notices", ["task_id"])
    op.create_table(
        "rule_sets",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rule_sets"),
    )


def downgrade() -> None:
    for index, table in (("ix_notices_task", "notices"), ("ix_dossiers_org_due", "dossiers")):
        op.drop_index(index, table)
    for table in ("rule_sets", "notices", "dossiers", "procedures"):
        op.drop_table(table)
