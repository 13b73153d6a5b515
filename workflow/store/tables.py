"""Typed SQLAlchemy 2 mappings: the tables planflow keeps.

Units and people are keyed by their organisation and code, so a task names its lead unit by
code without a join. The audit table keeps its text exactly as hashed (`at` as ISO text,
`data` as canonical JSON) so the chain verifies byte for byte on every backend.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Organisation(Base):
    __tablename__ = "organisations"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    province: Mapped[str] = mapped_column(Text)
    office_unit: Mapped[str] = mapped_column(String(40))
    definition: Mapped[str] = mapped_column(Text, default="{}")  # the file as loaded (JSON)
    content_hash: Mapped[str | None] = mapped_column(String(64))


class Unit(Base):
    __tablename__ = "units"
    organisation: Mapped[str] = mapped_column(ForeignKey("organisations.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        ForeignKeyConstraint(["organisation", "unit"], ["units.organisation", "units.code"]),
    )
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    organisation: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    unit: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)


class PersonRole(Base):
    __tablename__ = "person_roles"
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    organisation: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    title: Mapped[str] = mapped_column(Text)
    current_version: Mapped[int] = mapped_column(Integer)


class PlanVersion(Base):
    __tablename__ = "plan_versions"
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)  # the file name it was loaded from
    definition: Mapped[str] = mapped_column(Text)  # the validated spec, as JSON
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
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
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    plan_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id"))
    kind: Mapped[str] = mapped_column(String(20), default="plan")
    code: Mapped[str] = mapped_column(String(60))
    period: Mapped[str] = mapped_column(String(20), default="")  # '' or 2024Q1, 2024H2, ...
    title: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(40))
    lead_unit: Mapped[str] = mapped_column(String(40))
    cooperating_units: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of codes
    schedule_text: Mapped[str | None] = mapped_column(Text)
    deliverable: Mapped[str | None] = mapped_column(Text)
    target: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_by: Mapped[str | None] = mapped_column(String(80))
    returned_count: Mapped[int] = mapped_column(Integer, default=0)
    since_plan_version: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    parent_task: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_task_seq", "task_id", "seq"),
        Index("ix_audit_actor_at", "actor", "at"),
        Index("ix_audit_plan_seq", "plan_id", "seq"),
        Index("ix_audit_action_seq", "action", "seq"),
        Index("ix_audit_unit_seq", "unit", "seq"),
        Index("ix_audit_at", "at"),
    )
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))  # ISO 8601 UTC, microseconds, 'Z'
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str | None] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(40))
    organisation: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[int | None] = mapped_column(Integer)
    plan_id: Mapped[str | None] = mapped_column(String(120))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    data: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str | None] = mapped_column(String(10))  # web, api, cli, flow (0006)
    credential: Mapped[str | None] = mapped_column(String(80))  # session or token, hashed


class Procedure(Base):
    """An administrative procedure (TTHC) an organisation handles."""

    __tablename__ = "procedures"
    __table_args__ = (
        ForeignKeyConstraint(["organisation", "unit"], ["units.organisation", "units.code"]),
    )
    organisation: Mapped[str] = mapped_column(ForeignKey("organisations.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    working_days: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(40))
    cutoff_hour: Mapped[int | None] = mapped_column(Integer)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_basis: Mapped[str | None] = mapped_column(Text)


class Dossier(Base):
    """A citizen's or company's dossier: a task (kind 'dossier') with an applicant."""

    __tablename__ = "dossiers"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organisation", "procedure"], ["procedures.organisation", "procedures.code"]
        ),
        Index("ix_dossiers_org_due", "organisation", "current_due"),
        Index("ix_dossiers_org_received", "organisation", "received_at"),  # reports (0004)
    )
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), primary_key=True)
    organisation: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(60), unique=True)
    procedure: Mapped[str] = mapped_column(String(60))
    applicant_name: Mapped[str] = mapped_column(Text)
    applicant_address: Mapped[str | None] = mapped_column(Text)
    applicant_phone: Mapped[str | None] = mapped_column(String(40))
    applicant_email: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    original_due: Mapped[dt.date] = mapped_column(Date)
    current_due: Mapped[dt.date] = mapped_column(Date)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    delay_reason: Mapped[str | None] = mapped_column(Text)
    delay_days: Mapped[int | None] = mapped_column(Integer)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)


class Notice(Base):
    """A side effect of a flow (letter, reminder, escalation), recorded once under its key."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_task", "task_id"),
        Index("ix_notices_org_kind_issued", "organisation", "kind", "issued_at"),  # reports
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # apology, reminder, escalation
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    organisation: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str | None] = mapped_column(String(40))
    due_date: Mapped[dt.date] = mapped_column(Date)  # the due date missed or at risk
    new_due: Mapped[dt.date | None] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    path: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))


class RuleSet(Base):
    """Rules that depend on law, versioned by legal basis and effective date."""

    __tablename__ = "rule_sets"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    definition: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))


class Inspection(Base):
    """One draw of units to inspect for a period. A redraw adds a revision and links the old
    draw to it (`superseded_by`); no draw is ever deleted."""

    __tablename__ = "inspections"
    __table_args__ = (
        UniqueConstraint(
            "organisation", "period", "revision", name="uq_inspections_org_period_revision"
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    period: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int] = mapped_column(Integer)
    ratio: Mapped[str] = mapped_column(String(20))  # as written: "0.3"
    seed: Mapped[int] = mapped_column(BigInteger)
    algorithm: Mapped[str] = mapped_column(String(40))
    selected: Mapped[str] = mapped_column(Text)  # JSON list of unit codes, in ranking order
    record_hash: Mapped[str] = mapped_column(String(64))  # of the record in the audit log
    drawn_by: Mapped[str] = mapped_column(String(80))
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)  # why it was redrawn (None: first draw)
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class InspectionTarget(Base):
    """A selected unit, its inspection task, and the unit's tasks the record must cover."""

    __tablename__ = "inspection_targets"
    __table_args__ = (Index("ix_inspection_targets_task", "task_id"),)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    unit: Mapped[str] = mapped_column(String(40), primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    checklist: Mapped[str] = mapped_column(Text)  # JSON list of task ids


class InspectionRecord(Base):
    """A submitted inspection record (Biên bản kiểm tra); each resubmission is a revision."""

    __tablename__ = "inspection_records"
    __table_args__ = (
        UniqueConstraint("task_id", "revision", name="uq_inspection_records_task_revision"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    revision: Mapped[int] = mapped_column(Integer)
    record: Mapped[str] = mapped_column(Text)  # canonical JSON
    record_hash: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ReportSnapshot(Base):
    """A generated report, frozen: figures, window, plan versions, when. Never updated nor
    deleted (triggers refuse it); a revision is a new row that names the one it revises."""

    __tablename__ = "report_snapshots"
    __table_args__ = (
        UniqueConstraint(
            "organisation",
            "period",
            "window_rule",
            "revision",
            name="uq_report_snapshots_org_period_rule_revision",
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    period: Mapped[str] = mapped_column(String(20))  # 2024Q2, 2024H1, 2024
    window_rule: Mapped[str] = mapped_column(String(20))  # reporting or calendar
    revision: Mapped[int] = mapped_column(Integer)
    window_from: Mapped[dt.date] = mapped_column(Date)
    window_to: Mapped[dt.date] = mapped_column(Date)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("report_snapshots.id"))
    generated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    generated_by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)  # why it was revised (None: first)
    content: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly as hashed
    content_hash: Mapped[str] = mapped_column(String(64))


class DatabaseInfo(Base):
    """What `planflow init` made: a production database, or a simulation (one row)."""

    __tablename__ = "database_info"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    mode: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(80))


class Account(Base):
    """A person's way in: a password (Argon2id), optionally a second factor (TOTP)."""

    __tablename__ = "accounts"
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    activated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # 0007: the step of the last second-factor code accepted (each code is good once), and
    # where the count of failed sign-ins starts again (a lockout, a success, an enable).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    failures_after: Mapped[int | None] = mapped_column(Integer)  # a sign_in_attempts id


class Invitation(Base):
    """A one-time link to sign up (or to set a new password): only its hash is kept."""

    __tablename__ = "invitations"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(80))


class Session(Base):
    """A signed-in browser: only the hashes of its id and CSRF token are kept."""

    __tablename__ = "sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    csrf_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_because: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A token for another system (or the command line): hashed, scoped, expiring."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(Text)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    organisation: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    permissions: Mapped[str] = mapped_column(Text)  # JSON list
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(80))


class SignInAttempt(Base):
    """Every sign-in attempt, for throttling by account and by client address."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_login_at", "login", "at"),
        Index("ix_sign_in_attempts_address_at", "address", "at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    login: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20))


# Core handles on the mapped tables (services use Core statements on the hot paths).
organisations = cast(Table, Organisation.__table__)
units = cast(Table, Unit.__table__)
people = cast(Table, Person.__table__)
person_roles = cast(Table, PersonRole.__table__)
plans = cast(Table, Plan.__table__)
plan_versions = cast(Table, PlanVersion.__table__)
tasks = cast(Table, Task.__table__)
audit_log = cast(Table, AuditEntry.__table__)
procedures = cast(Table, Procedure.__table__)
dossiers = cast(Table, Dossier.__table__)
notices = cast(Table, Notice.__table__)
rule_sets = cast(Table, RuleSet.__table__)
inspections = cast(Table, Inspection.__table__)
inspection_targets = cast(Table, InspectionTarget.__table__)
inspection_records = cast(Table, InspectionRecord.__table__)
report_snapshots = cast(Table, ReportSnapshot.__table__)
database_info = cast(Table, DatabaseInfo.__table__)
accounts = cast(Table, Account.__table__)
invitations = cast(Table, Invitation.__table__)
sessions = cast(Table, Session.__table__)
api_tokens = cast(Table, ApiToken.__table__)
sign_in_attempts = cast(Table, SignInAttempt.__table__)


class FlowRun(Base):
    """A run of a flow for an organisation: the day it worked as of, when, and who ran it
    (a person, a schedule, or `flow:<name>` in a simulation). A production database refuses
    a run as of a day before the last one (`services.flow_runs`)."""

    __tablename__ = "flow_runs"
    __table_args__ = (Index("ix_flow_runs_flow_org_as_of", "flow", "organisation", "as_of"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow: Mapped[str] = mapped_column(String(20))
    organisation: Mapped[str] = mapped_column(ForeignKey("organisations.code"))
    as_of: Mapped[dt.date] = mapped_column(Date)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    run_by: Mapped[str] = mapped_column(String(80))


flow_runs = cast(Table, FlowRun.__table__)


class Document(Base):
    """A file a flow wrote (a letter, a conclusion notice, a report), kept byte for byte
    with its SHA-256 so that `documents verify` can name a file changed or missing on disk
    and `documents restore` can write it back (0010). Recorded in the transaction that
    records the letter, notice or snapshot it belongs to; the file is written after it
    commits."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_org_kind", "organisation", "kind"),
        Index("ix_documents_source", "source"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    path: Mapped[str] = mapped_column(String(400), unique=True)  # under the output folder
    kind: Mapped[str] = mapped_column(String(20))  # letter, notice, report
    source: Mapped[str] = mapped_column(String(200))  # a notice key, or report:<snapshot>
    organisation: Mapped[str] = mapped_column(String(40))
    written_to: Mapped[str] = mapped_column(Text)  # the absolute path it was written to
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


documents = cast(Table, Document.__table__)
