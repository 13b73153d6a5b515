"""Inspections (draws kept, redraws linked), their targets and records; when a task was
completed; which task a task follows from (a fix task from its inspection).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tasks", sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("tasks", sa.Column("parent_task", sa.Integer, nullable=True))
    op.create_index("ix_tasks_parent_task", "tasks", ["parent_task"])
    _backfill_completed_at()
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("ratio", sa.String(20), nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("algorithm", sa.String(40), nullable=False),
        sa.Column("selected", sa.Text, nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("drawn_by", sa.String(80), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("superseded_by", sa.Integer, nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inspections"),
        sa.ForeignKeyConstraint(
            ["organisation"],
            ["organisations.code"],
            name="fk_inspections_organisation_organisations",
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by"], ["inspections.id"], name="fk_inspections_superseded_by_inspections"
        ),
        sa.UniqueConstraint(
            "organisation", "period", "revision", name="uq_inspections_org_period_revision"
        ),
    )
    op.create_table(
        "inspection_targets",
        sa.Column("inspection_id", sa.Integer, nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("checklist", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("inspection_id", "unit", name="pk_inspection_targets"),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name="fk_inspection_targets_inspection_id_inspections",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_inspection_targets_task_id_tasks"
        ),
    )
    op.create_index("ix_inspection_targets_task", "inspection_targets", ["task_id"])
    op.create_table(
        "inspection_records",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("submitted_by", sa.String(80), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inspection_records"),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_inspection_records_task_id_tasks"
        ),
        sa.UniqueConstraint("task_id", "revision", name="uq_inspection_records_task_revision"),
    )


def _backfill_completed_at() -> None:
    """A task verified before this revision was completed when its first verify entry says."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT task_id, min(at) FROM audit_log WHERE action = 'verify' "
            "AND task_id IS NOT NULL GROUP BY task_id"
        )
    ).all()
    tasks = sa.table(
        "tasks", sa.column("id", sa.Integer), sa.column("completed_at", sa.DateTime(timezone=True))
    )
    for task_id, at in rows:
        when = dt.datetime.fromisoformat(str(at).replace("Z", "+00:00"))
        conn.execute(tasks.update().where(tasks.c.id == task_id).values(completed_at=when))


def downgrade() -> None:
    op.drop_index("ix_inspection_targets_task", "inspection_targets")
    for table in ("inspection_records", "inspection_targets", "inspections"):
        op.drop_table(table)
    op.drop_index("ix_tasks_parent_task", "tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("parent_task")
        batch.drop_column("completed_at")
