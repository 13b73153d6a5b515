"""The tables planflow keeps, as SQLAlchemy Core `Table`s.

Units and people are keyed by their organisation and code, so a task names its lead unit by
code without a join. The audit table keeps its text exactly as hashed (`at` as ISO text,
`data` as canonical JSON) so the chain verifies byte for byte on every backend.

Core tables, not declarative classes: the store reads and writes with Core statements only,
and mapping classes cost every command that opens the database a tenth of a second at start
(the ORM's import and its mapper set-up) for nothing (issue 18).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


metadata = MetaData(naming_convention=NAMING)


class Base:
    """Where Alembic's environment and the tests find the tables' metadata: `Base.metadata`,
    the name it had when the tables were declarative classes."""

    metadata = metadata


organisations = Table(
    "organisations",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("province", Text, nullable=False),
    Column("office_unit", String(40), nullable=False),
    Column("definition", Text, default="{}", nullable=False),  # the file as loaded (JSON)
    Column("content_hash", String(64)),
)


units = Table(
    "units",
    metadata,
    Column("organisation", ForeignKey("organisations.code"), primary_key=True),
    Column("code", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("illustrative", Boolean, default=False, nullable=False),
)


people = Table(
    "people",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("organisation", ForeignKey("organisations.code"), nullable=False),
    Column("unit", String(40), nullable=False),
    Column("name", Text, nullable=False),
    Column("illustrative", Boolean, default=False, nullable=False),
    ForeignKeyConstraint(["organisation", "unit"], ["units.organisation", "units.code"]),
)


person_roles = Table(
    "person_roles",
    metadata,
    Column("person_id", ForeignKey("people.id"), primary_key=True),
    Column("role", String(20), primary_key=True),
)


plans = Table(
    "plans",
    metadata,
    Column("id", String(120), primary_key=True),
    Column("organisation", ForeignKey("organisations.code"), nullable=False),
    Column("title", Text, nullable=False),
    Column("current_version", Integer, nullable=False),
)


plan_versions = Table(
    "plan_versions",
    metadata,
    Column("plan_id", ForeignKey("plans.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("content_hash", String(64), nullable=False),
    Column("source", Text, nullable=False),  # the file name it was loaded from
    Column("definition", Text, nullable=False),  # the validated spec, as JSON
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)


tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation", ForeignKey("organisations.code"), nullable=False),
    Column("plan_id", ForeignKey("plans.id")),
    Column("kind", String(20), default="plan", nullable=False),
    Column("code", String(60), nullable=False),
    Column("period", String(20), default="", nullable=False),  # '' or 2024Q1, 2024H2, ...
    Column("title", Text, nullable=False),
    Column("category", String(40)),
    Column("lead_unit", String(40), nullable=False),
    Column("cooperating_units", Text, default="[]", nullable=False),  # JSON list of codes
    Column("schedule_text", Text),
    Column("deliverable", Text),
    Column("target", Text),
    Column("due_date", Date),
    Column("state", String(20), nullable=False),
    Column("version", Integer, default=1, nullable=False),
    Column("submitted_by", String(80)),
    Column("returned_count", Integer, default=0, nullable=False),
    Column("since_plan_version", Integer),
    Column("completed_at", DateTime(timezone=True)),
    Column("parent_task", Integer, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(["organisation", "lead_unit"], ["units.organisation", "units.code"]),
    UniqueConstraint("plan_id", "code", "period", name="uq_tasks_plan_code_period"),
    Index("ix_tasks_state_due", "state", "due_date"),
    Index("ix_tasks_org_lead_state", "organisation", "lead_unit", "state"),
    Index("ix_tasks_plan_state", "plan_id", "state"),
    # Reports: the tasks due in a window, the inspections completed in one (0004).
    Index("ix_tasks_org_due", "organisation", "due_date"),
    Index("ix_tasks_org_completed", "organisation", "completed_at"),
    # Inboxes: an organisation's tasks in one state, by id, paged (0009).
    Index("ix_tasks_org_state_id", "organisation", "state", "id"),
)


audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),  # ISO 8601 UTC, microseconds, 'Z'
    Column("actor", String(80), nullable=False),
    Column("role", String(20)),
    Column("unit", String(40)),
    Column("organisation", String(40)),
    Column("action", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("task_id", Integer),
    Column("plan_id", String(120)),
    Column("from_state", String(20)),
    Column("to_state", String(20)),
    Column("data", Text, nullable=False),  # canonical JSON, exactly as hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), unique=True, nullable=False),
    Column("channel", String(10)),  # web, api, cli, flow (0006)
    Column("credential", String(80)),  # session or token, hashed
    Index("ix_audit_task_seq", "task_id", "seq"),
    Index("ix_audit_actor_at", "actor", "at"),
    Index("ix_audit_plan_seq", "plan_id", "seq"),
    Index("ix_audit_action_seq", "action", "seq"),
    Index("ix_audit_unit_seq", "unit", "seq"),
    Index("ix_audit_at", "at"),
)


# An administrative procedure (TTHC) an organisation handles.
procedures = Table(
    "procedures",
    metadata,
    Column("organisation", ForeignKey("organisations.code"), primary_key=True),
    Column("code", String(60), primary_key=True),
    Column("name", Text, nullable=False),
    Column("working_days", Integer, nullable=False),
    Column("unit", String(40), nullable=False),
    Column("cutoff_hour", Integer),
    Column("illustrative", Boolean, default=False, nullable=False),
    Column("legal_basis", Text),
    ForeignKeyConstraint(["organisation", "unit"], ["units.organisation", "units.code"]),
)


# A citizen's or company's dossier: a task (kind 'dossier') with an applicant.
dossiers = Table(
    "dossiers",
    metadata,
    Column("task_id", ForeignKey("tasks.id"), primary_key=True),
    Column("organisation", String(40), nullable=False),
    Column("code", String(60), unique=True, nullable=False),
    Column("procedure", String(60), nullable=False),
    Column("applicant_name", Text, nullable=False),
    Column("applicant_address", Text),
    Column("applicant_phone", String(40)),
    Column("applicant_email", String(200)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("original_due", Date, nullable=False),
    Column("current_due", Date, nullable=False),
    Column("extension_count", Integer, default=0, nullable=False),
    Column("delay_reason", Text),
    Column("delay_days", Integer),
    Column("escalated", Boolean, default=False, nullable=False),
    ForeignKeyConstraint(
        ["organisation", "procedure"], ["procedures.organisation", "procedures.code"]
    ),
    Index("ix_dossiers_org_due", "organisation", "current_due"),
    Index("ix_dossiers_org_received", "organisation", "received_at"),  # reports (0004)
)


# A side effect of a flow (letter, reminder, escalation), recorded once under its key.
notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), unique=True, nullable=False),
    Column("kind", String(20), nullable=False),  # apology, reminder, escalation
    Column("task_id", ForeignKey("tasks.id"), nullable=False),
    Column("organisation", String(40), nullable=False),
    Column("unit", String(40)),
    Column("due_date", Date, nullable=False),  # the due date missed or at risk
    Column("new_due", Date),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("path", Text),
    Column("content_hash", String(64)),
    Index("ix_notices_task", "task_id"),
    Index("ix_notices_org_kind_issued", "organisation", "kind", "issued_at"),  # reports
)


# Rules that depend on law, versioned by legal basis and effective date.
rule_sets = Table(
    "rule_sets",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("definition", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
)


# One draw of units to inspect for a period. A redraw adds a revision and links the old
# draw to it (`superseded_by`); no draw is ever deleted.
inspections = Table(
    "inspections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation", ForeignKey("organisations.code"), nullable=False),
    Column("period", String(20), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("ratio", String(20), nullable=False),  # as written: "0.3"
    Column("seed", BigInteger, nullable=False),
    Column("algorithm", String(40), nullable=False),
    Column("selected", Text, nullable=False),  # JSON list of unit codes, in ranking order
    Column("record_hash", String(64), nullable=False),  # of the record in the audit log
    Column("drawn_by", String(80), nullable=False),
    Column("drawn_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text),  # why it was redrawn (None: first draw)
    Column("superseded_by", ForeignKey("inspections.id")),
    Column("superseded_at", DateTime(timezone=True)),
    UniqueConstraint(
        "organisation", "period", "revision", name="uq_inspections_org_period_revision"
    ),
)


# A selected unit, its inspection task, and the unit's tasks the record must cover.
inspection_targets = Table(
    "inspection_targets",
    metadata,
    Column("inspection_id", ForeignKey("inspections.id"), primary_key=True),
    Column("unit", String(40), primary_key=True),
    Column("task_id", ForeignKey("tasks.id"), nullable=False),
    Column("checklist", Text, nullable=False),  # JSON list of task ids
    Index("ix_inspection_targets_task", "task_id"),
)


# A submitted inspection record (Biên bản kiểm tra); each resubmission is a revision.
inspection_records = Table(
    "inspection_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", ForeignKey("tasks.id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("record", Text, nullable=False),  # canonical JSON
    Column("record_hash", String(64), nullable=False),
    Column("submitted_by", String(80), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("task_id", "revision", name="uq_inspection_records_task_revision"),
)


# A generated report, frozen: figures, window, plan versions, when. Never updated nor
# deleted (triggers refuse it); a revision is a new row that names the one it revises.
report_snapshots = Table(
    "report_snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation", ForeignKey("organisations.code"), nullable=False),
    Column("period", String(20), nullable=False),  # 2024Q2, 2024H1, 2024
    Column("window_rule", String(20), nullable=False),  # reporting or calendar
    Column("revision", Integer, nullable=False),
    Column("window_from", Date, nullable=False),
    Column("window_to", Date, nullable=False),
    Column("previous_id", ForeignKey("report_snapshots.id")),
    Column("generated_at", DateTime(timezone=True), nullable=False),
    Column("generated_by", String(80), nullable=False),
    Column("reason", Text),  # why it was revised (None: first)
    Column("content", Text, nullable=False),  # canonical JSON, exactly as hashed
    Column("content_hash", String(64), nullable=False),
    UniqueConstraint(
        "organisation",
        "period",
        "window_rule",
        "revision",
        name="uq_report_snapshots_org_period_rule_revision",
    ),
)


# What `planflow init` made: a production database, or a simulation (one row).
database_info = Table(
    "database_info",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("mode", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(80), nullable=False),
)


# A person's way in: a password (Argon2id), optionally a second factor (TOTP).
accounts = Table(
    "accounts",
    metadata,
    Column("person_id", ForeignKey("people.id"), primary_key=True),
    Column("password_hash", Text),
    Column("totp_secret", String(64)),
    Column("totp_enabled_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("activated_at", DateTime(timezone=True)),
    Column("password_changed_at", DateTime(timezone=True)),
    Column("disabled_at", DateTime(timezone=True)),
    Column("failed_count", Integer, default=0, nullable=False),
    Column("locked_until", DateTime(timezone=True)),
    # 0007: the step of the last second-factor code accepted (each code is good once), and
    # where the count of failed sign-ins starts again (a lockout, a success, an enable).
    Column("totp_last_step", BigInteger),
    Column("failures_after", Integer),  # a sign_in_attempts id
)


# A one-time link to sign up (or to set a new password): only its hash is kept.
invitations = Table(
    "invitations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("person_id", ForeignKey("people.id"), index=True, nullable=False),
    Column("purpose", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("created_by", String(80), nullable=False),
)


# A signed-in browser: only the hashes of its id and CSRF token are kept.
sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("person_id", ForeignKey("people.id"), index=True, nullable=False),
    Column("csrf_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_because", Text),
    Column("address", String(64)),
)


# A token for another system (or the command line): hashed, scoped, expiring.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), unique=True, nullable=False),
    Column("label", Text, nullable=False),
    Column("person_id", ForeignKey("people.id"), nullable=False),
    Column("organisation", ForeignKey("organisations.code"), nullable=False),
    Column("permissions", Text, nullable=False),  # JSON list
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("created_by", String(80), nullable=False),
)


# Every sign-in attempt, for throttling by account and by client address.
sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("login", String(80), nullable=False),
    Column("address", String(64), nullable=False),
    Column("outcome", String(20), nullable=False),
    Index("ix_sign_in_attempts_login_at", "login", "at"),
    Index("ix_sign_in_attempts_address_at", "address", "at"),
)


# A run of a flow for an organisation: the day it worked as of, when, and who ran it
# (a person, a schedule, or `flow:<name>` in a simulation). A production database refuses
# a run as of a day before the last one (`services.flow_runs`).
flow_runs = Table(
    "flow_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", String(20), nullable=False),
    Column("organisation", ForeignKey("organisations.code"), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("run_by", String(80), nullable=False),
    Index("ix_flow_runs_flow_org_as_of", "flow", "organisation", "as_of"),
)


# A file a flow wrote (a letter, a conclusion notice, a report), kept byte for byte
# with its SHA-256 so that `documents verify` can name a file changed or missing on disk
# and `documents restore` can write it back (0010). Recorded in the transaction that
# records the letter, notice or snapshot it belongs to; the file is written after it
# commits.
documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("path", String(400), unique=True, nullable=False),  # under the output folder
    Column("kind", String(20), nullable=False),  # letter, notice, report
    Column("source", String(200), nullable=False),  # a notice key, or report:<snapshot>
    Column("organisation", String(40), nullable=False),
    Column("written_to", Text, nullable=False),  # the absolute path it was written to
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_documents_org_kind", "organisation", "kind"),
    Index("ix_documents_source", "source"),
)


# The outgoing register (sổ văn bản đi): per organisation, calendar year and kind of
# document, the last number taken; counted forward only (triggers refuse any other UPDATE
# and DELETE), in the transaction that records the document (0012).
document_registers = Table(
    "document_registers",
    metadata,
    Column("organisation", ForeignKey("organisations.code"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("kind", String(40), primary_key=True),  # apology_letter, inspection_notice, report
    Column("last_number", Integer, nullable=False),
    CheckConstraint("last_number >= 1", name="positive"),
)
