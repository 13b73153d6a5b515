"""Report snapshots (immutable: triggers refuse UPDATE and DELETE, as on the audit log) and
the indexes the report's aggregates range over.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER report_snapshots_no_update BEFORE UPDATE ON report_snapshots
       BEGIN SELECT RAISE(ABORT, 'report_snapshots are immutable: UPDATE refused'); END""",
    """CREATE TRIGGER report_snapshots_no_delete BEFORE DELETE ON report_snapshots
       BEGIN SELECT RAISE(ABORT, 'report_snapshots are immutable: DELETE refused'); END""",
]

POSTGRES_TRIGGERS = [
    """CREATE FUNCTION report_snapshots_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'report_snapshots are immutable: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE TRIGGER report_snapshots_no_update_delete
       BEFORE UPDATE OR DELETE ON report_snapshots
       FOR EACH ROW EXECUTE FUNCTION report_snapshots_immutable()""",
    """CREATE TRIGGER report_snapshots_no_truncate BEFORE TRUNCATE ON report_snapshots
       FOR EACH STATEMENT EXECUTE FUNCTION report_snapshots_immutable()""",
]

# The report's range scans: tasks due in a window, inspections completed in one, dossiers
# received in one, letters and escalations issued in one; each per organisation.
INDEXES = [
    ("ix_tasks_org_due", "tasks", ["organisation", "due_date"]),
    ("ix_tasks_org_completed", "tasks", ["organisation", "completed_at"]),
    ("ix_dossiers_org_received", "dossiers", ["organisation", "received_at"]),
    ("ix_notices_org_kind_issued", "notices", ["organisation", "kind", "issued_at"]),
]


def upgrade() -> None:
    op.create_table(
        "report_snapshots",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("window_rule", sa.String(20), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("window_from", sa.Date, nullable=False),
        sa.Column("window_to", sa.Date, nullable=False),
        sa.Column("previous_id", sa.Integer, nullable=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("generated_by", sa.String(80), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_snapshots"),
        sa.ForeignKeyConstraint(
            ["organisation"],
            ["organisations.code"],
            name="fk_report_snapshots_organisation_organisations",
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["report_snapshots.id"],
            name="fk_report_snapshots_previous_id_report_snapshots",
        ),
        sa.UniqueConstraint(
            "organisation",
            "period",
            "window_rule",
            "revision",
            name="uq_report_snapshots_org_period_rule_revision",
        ),
    )
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError(
        "report snapshots are never dropped by a migration: their hashes are in the audit log"
    )
