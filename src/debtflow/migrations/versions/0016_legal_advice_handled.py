"""legal-advice requests: a manager or admin records that one was handled (when, who, a
note for staff); existing requests stay open

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable columns only: SQLite adds them in place, no table copy
    op.add_column(
        "legal_advice_request",
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("legal_advice_request", sa.Column("handled_by", sa.String(80), nullable=True))
    op.add_column("legal_advice_request", sa.Column("handled_note", sa.Text(), nullable=True))
    op.create_index(
        "ix_legal_advice_request_status_created_at",
        "legal_advice_request",
        ["status", "created_at"],
    )


def downgrade() -> None:
    # a handled request keeps its status; when, who and the note go (the evidence log
    # keeps them)
    op.drop_index("ix_legal_advice_request_status_created_at", table_name="legal_advice_request")
    with op.batch_alter_table("legal_advice_request", schema=None) as batch_op:
        batch_op.drop_column("handled_note")
        batch_op.drop_column("handled_by")
        batch_op.drop_column("handled_at")
