"""The outgoing register (sổ văn bản đi): per organisation, calendar year and kind of document,
the last number taken. A document takes the next number in the transaction that records it
(its audit entry), so a rollback or a crash leaves no gap and a number is never reused
(Nghị định 30/2020/NĐ-CP: numbers run from 01 each year, never skipped nor reused).

A counter only counts forward: triggers refuse an UPDATE that is not +1 and any DELETE.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_REFUSED = "document_registers only count forward: a document number is never reused"

SQLITE = [
    f"""CREATE TRIGGER document_registers_forward BEFORE UPDATE ON document_registers
       WHEN NEW.last_number <> OLD.last_number + 1 OR NEW.organisation <> OLD.organisation
         OR NEW.year <> OLD.year OR NEW.kind <> OLD.kind
       BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END""",
    f"""CREATE TRIGGER document_registers_keep BEFORE DELETE ON document_registers
       BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END""",
]

POSTGRES = [
    f"""CREATE FUNCTION document_registers_forward() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' OR NEW.last_number <> OLD.last_number + 1
            OR NEW.organisation <> OLD.organisation OR NEW.year <> OLD.year
            OR NEW.kind <> OLD.kind THEN
           RAISE EXCEPTION '{_REFUSED}';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER document_registers_forward BEFORE UPDATE OR DELETE ON document_registers
       FOR EACH ROW EXECUTE FUNCTION document_registers_forward()""",
    f"""CREATE FUNCTION document_registers_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '{_REFUSED}'; END $$""",
    """CREATE TRIGGER document_registers_no_truncate BEFORE TRUNCATE ON document_registers
       FOR EACH STATEMENT EXECUTE FUNCTION document_registers_no_truncate()""",
]


def upgrade() -> None:
    op.create_table(
        "document_registers",
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),  # apology_letter, inspection_notice, ...
        sa.Column("last_number", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("organisation", "year", "kind", name=op.f("pk_document_registers")),
        sa.ForeignKeyConstraint(
            ["organisation"],
            ["organisations.code"],
            name=op.f("fk_document_registers_organisation_organisations"),
        ),
        sa.CheckConstraint("last_number >= 1", name=op.f("ck_document_registers_positive")),
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE if dialect == "sqlite" else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER document_registers_no_truncate ON document_registers")
        op.execute("DROP TRIGGER document_registers_forward ON document_registers")
        op.execute("DROP FUNCTION document_registers_no_truncate()")
        op.execute("DROP FUNCTION document_registers_forward()")
    op.drop_table("document_registers")
