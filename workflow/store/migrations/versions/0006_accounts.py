"""Who and when: the database's mode (production or simulation), accounts, invitations,
sessions, API tokens and sign-in attempts; every audit entry's channel and credential; the
PostgreSQL append refusing an entry dated before the head.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)

OLD_APPEND = (
    "DROP FUNCTION planflow_append(bigint, text, text, text, text, text, text, text, text, "
    "integer, text, text, text, text, text, text, text)"
)

# As 0005, with the entry's channel and credential, and the time check: the head's time is
# read under the chain's lock, so an entry dated before it was dated before an entry already
# chained (the caller dates it again) or by a clock that went back (refused). COLLATE "C":
# the stored times are compared as the bytes they are, which sort as the instants do.
APPEND = """
CREATE FUNCTION planflow_append(
    lock_key bigint, genesis text,
    p_at text, p_actor text, p_role text, p_unit text, p_organisation text, p_action text,
    p_subject text, p_task_id integer, p_plan_id text, p_from_state text, p_to_state text,
    p_data text, p_channel text, p_credential text,
    body_head text, body_middle text, body_tail text
) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    head_at text;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        -- A transaction snapshot would hide entries committed while waiting for the lock.
        RAISE EXCEPTION 'planflow: audit appends need READ COMMITTED, and this database runs '
            '%; set its default_transaction_isolation to read committed',
            upper(current_setting('transaction_isolation'));
    END IF;
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT seq, hash, at INTO head_seq, head_hash, head_at
        FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        head_seq := 0;
        head_hash := genesis;
        head_at := '';
    END IF;
    IF p_at COLLATE "C" < head_at COLLATE "C" THEN
        RAISE EXCEPTION 'planflow: an audit entry dated % is refused: the log''s last entry '
            'is dated %, and time goes forward', p_at, head_at USING ERRCODE = 'PF001';
    END IF;
    INSERT INTO audit_log (
        seq, at, actor, role, unit, organisation, action, subject, task_id, plan_id,
        from_state, to_state, data, prev_hash, hash, channel, credential
    ) VALUES (
        head_seq + 1, p_at, p_actor, p_role, p_unit, p_organisation, p_action, p_subject,
        p_task_id, p_plan_id, p_from_state, p_to_state, p_data, head_hash,
        encode(sha256(convert_to(
            body_head || head_hash || body_middle || (head_seq + 1) || body_tail, 'UTF8'
        )), 'hex'),
        p_channel, p_credential
    );
    RETURN head_seq + 1;
END $$
"""


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("channel", sa.String(10), nullable=True))
    op.add_column("audit_log", sa.Column("credential", sa.String(80), nullable=True))
    op.create_table(
        "database_info",
        sa.Column("id", sa.Integer, nullable=False),  # always 1: one row
        sa.Column("mode", sa.String(20), nullable=False),  # production or simulation
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),  # the OS user that ran init
        sa.PrimaryKeyConstraint("id", name="pk_database_info"),
    )
    op.create_table(
        "accounts",
        sa.Column("person_id", sa.String(80), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),  # None until the person signs up
        sa.Column("totp_secret", sa.String(64), nullable=True),
        sa.Column("totp_enabled_at", _TZ, nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("activated_at", _TZ, nullable=True),
        sa.Column("password_changed_at", _TZ, nullable=True),
        sa.Column("disabled_at", _TZ, nullable=True),
        sa.Column("failed_count", sa.Integer, nullable=False),
        sa.Column("locked_until", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("person_id", name="pk_accounts"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_accounts_person_id_people"),
    )
    op.create_table(
        "invitations",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(80), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),  # invite, reset
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("used_at", _TZ, nullable=True),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_invitations"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_invitations_person_id_people"
        ),
    )
    op.create_index("ix_invitations_person_id", "invitations", ["person_id"])
    op.create_table(
        "sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(80), nullable=False),
        sa.Column("csrf_hash", sa.String(64), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("last_seen_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),  # the absolute lifetime's end
        sa.Column("revoked_at", _TZ, nullable=True),
        sa.Column("revoked_because", sa.Text, nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id_hash", name="pk_sessions"),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_sessions_person_id_people"),
    )
    op.create_index("ix_sessions_person_id", "sessions", ["person_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("person_id", sa.String(80), nullable=False),  # who answers for it
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("permissions", sa.Text, nullable=False),  # JSON list
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("revoked_at", _TZ, nullable=True),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_api_tokens_person_id_people"
        ),
        sa.ForeignKeyConstraint(
            ["organisation"],
            ["organisations.code"],
            name="fk_api_tokens_organisation_organisations",
        ),
    )
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("login", sa.String(80), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_attempts"),
    )
    op.create_index("ix_sign_in_attempts_login_at", "sign_in_attempts", ["login", "at"])
    op.create_index("ix_sign_in_attempts_address_at", "sign_in_attempts", ["address", "at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(OLD_APPEND)
        op.execute(APPEND)


NEW_APPEND = (
    "DROP FUNCTION planflow_append(bigint, text, text, text, text, text, text, text, text, "
    "integer, text, text, text, text, text, text, text, text, text)"
)


def downgrade() -> None:
    """Back to 0005, for a planflow that predates accounts (the tests show what it says to
    a newer schema's absence). Accounts, sessions and tokens go; so do the entries' channel
    and credential columns, which an older planflow cannot hash: downgrade only a database
    whose entries have none."""
    if op.get_bind().dialect.name == "postgresql":
        previous = importlib.import_module(
            "workflow.store.migrations.versions.0005_append_function"
        )
        op.execute(NEW_APPEND)
        op.execute(previous.CREATE)
    for table in (
        "sign_in_attempts", "api_tokens", "sessions", "invitations", "accounts", "database_info"
    ):  # fmt: skip
        op.drop_table(table)
    op.drop_column("audit_log", "credential")
    op.drop_column("audit_log", "channel")
