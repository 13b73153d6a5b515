"""Initial schema: organisations, units, people, plans, tasks and the append-only audit log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)

SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END""",
]

POSTGRES_TRIGGERS = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
       FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("province", sa.Text, nullable=False),
        sa.Column("office_unit", sa.String(40), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_organisations"),
    )
    op.create_table(
        "units",
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("illustrative", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("organisation", "code", name="pk_units"),
        sa.ForeignKeyConstraint(
            ["organisation"], ["organisations.code"], name="fk_units_organisation_organisations"
        ),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("unit", sa.String(40), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("illustrative", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_people"),
        sa.ForeignKeyConstraint(
            ["organisation"], ["organisations.code"], name="fk_people_organisation_organisations"
        ),
        sa.ForeignKeyConstraint(
            ["organisation", "unit"],
            ["units.organisation", "units.code"],
            name="fk_people_organisation_units",
        ),
    )
    op.create_table(
        "person_roles",
        sa.Column("person_id", sa.String(80), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "role", name="pk_person_roles"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_person_roles_person_id_people"
        ),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.String(120), nullable=False),
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("current_version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plans"),
        sa.ForeignKeyConstraint(
            ["organisation"], ["organisations.code"], name="fk_plans_organisation_organisations"
        ),
    )
    op.create_table(
        "plan_versions",
        sa.Column("plan_id", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("loaded_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "version", name="pk_plan_versions"),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name="fk_plan_versions_plan_id_plans"),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("plan_id", sa.String(120), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("category", sa.String(40), nullable=True),
        sa.Column("lead_unit", sa.String(40), nullable=False),
        sa.Column("cooperating_units", sa.Text, nullable=False),
        sa.Column("schedule_text", sa.Text, nullable=True),
        sa.Column("deliverable", sa.Text, nullable=True),
        sa.Column("target", sa.Text, nullable=True),
        sa.Column("due_date", sa.Date, nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("submitted_by", sa.String(80), nullable=True),
        sa.Column("returned_count", sa.Integer, nullable=False),
        sa.Column("since_plan_version", sa.Integer, nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.ForeignKeyConstraint(
            ["organisation"], ["organisations.code"], name="fk_tasks_organisation_organisations"
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name="fk_tasks_plan_id_plans"),
        sa.ForeignKeyConstraint(
            ["organisation", "lead_unit"],
            ["units.organisation", "units.code"],
            name="fk_tasks_organisation_units",
        ),
        sa.UniqueConstraint("plan_id", "code", "period", name="uq_tasks_plan_code_period"),
    )
    op.create_index("ix_tasks_state_due", "tasks", ["state", "due_date"])
    op.create_index("ix_tasks_org_lead_state", "tasks", ["organisation", "lead_unit", "state"])
    op.create_index("ix_tasks_plan_state", "tasks", ["plan_id", "state"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("role", sa.String(20), nullable=True),
        sa.Column("unit", sa.String(40), nullable=True),
        sa.Column("organisation", sa.String(40), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("task_id", sa.Integer, nullable=True),
        sa.Column("plan_id", sa.String(120), nullable=True),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    )
    op.create_index("ix_audit_task_seq", "audit_log", ["task_id", "seq"])
    op.create_index("ix_audit_actor_at", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_plan_seq", "audit_log", ["plan_id", "seq"])
    op.create_index("ix_audit_action_seq", "audit_log", ["action", "seq"])
    op.create_index("ix_audit_unit_seq", "audit_log", ["unit", "seq"])
    op.create_index("ix_audit_at", "audit_log", ["at"])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    raise RuntimeError("the audit log is never dropped by a migration")
