"""PostgreSQL: planflow_append, the audit append a move's one statement calls (no change on
SQLite).

A move on PostgreSQL is one statement, its own transaction: the compare-and-set of the task
and, when it changed the row, this function, which takes the chain's lock, reads the head
and inserts the entry after it, hashed by the server. VOLATILE, so that under READ COMMITTED
its head read takes a snapshot of its own, after the lock is granted, and sees every entry
committed by the lock's previous holder (a snapshot taken before the wait could fork the
chain). Everything that defines an entry's hash (the lock key, the genesis hash, the body's
canonical JSON around the head's hash and the new seq) comes from the caller,
`workflow.audit`, so the function holds no second copy of it.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CREATE = """
CREATE FUNCTION planflow_append(
    lock_key bigint, genesis text,
    p_at text, p_actor text, p_role text, p_unit text, p_organisation text, p_action text,
    p_subject text, p_task_id integer, p_plan_id text, p_from_state text, p_to_state text,
    p_data text, body_head text, body_middle text, body_tail text
) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head_seq bigint;
    head_hash text;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        -- A transaction snapshot would hide entries committed while waiting for the lock.
        RAISE EXCEPTION 'planflow: audit appends need READ COMMITTED, and this database runs '
            '%; set its default_transaction_isolation to read committed',
            upper(current_setting('transaction_isolation'));
    END IF;
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT seq, hash INTO head_seq, head_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        head_seq := 0;
        head_hash := genesis;
    END IF;
    INSERT INTO audit_log (
        seq, at, actor, role, unit, organisation, action, subject, task_id, plan_id,
        from_state, to_state, data, prev_hash, hash
    ) VALUES (
        head_seq + 1, p_at, p_actor, p_role, p_unit, p_organisation, p_action, p_subject,
        p_task_id, p_plan_id, p_from_state, p_to_state, p_data, head_hash,
        encode(sha256(convert_to(
            body_head || head_hash || body_middle || (head_seq + 1) || body_tail, 'UTF8'
        )), 'hex')
    );
    RETURN head_seq + 1;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION planflow_append(bigint, text, text, text, text, text, text, text, "
            "text, integer, text, text, text, text, text, text, text)"
        )
