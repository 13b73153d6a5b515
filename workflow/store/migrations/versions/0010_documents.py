"""Documents: every letter, conclusion notice and report file a flow writes, kept byte for
byte with its SHA-256 and where it was written, so that `documents verify` can check the
files on disk and `documents restore` can write them back.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("path", sa.String(400), nullable=False),  # under the output folder
        sa.Column("kind", sa.String(20), nullable=False),  # letter, notice, report
        sa.Column("source", sa.String(200), nullable=False),  # notice key, report:<id>
        sa.Column("organisation", sa.String(40), nullable=False),
        sa.Column("written_to", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_documents"),
        sa.UniqueConstraint("path", name="uq_documents_path"),
    )
    op.create_index("ix_documents_org_kind", "documents", ["organisation", "kind"])
    op.create_index("ix_documents_source", "documents", ["source"])


def downgrade() -> None:
    op.drop_index("ix_documents_source", table_name="documents")
    op.drop_index("ix_documents_org_kind", table_name="documents")
    op.drop_table("documents")
