"""conversation analyses attached to contact attempts

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
        "conversation_analysis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("contact_attempt_id", sa.Integer(), nullable=True),
        sa.Column("analysed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("speaker", sa.String(16), nullable=False),
        sa.Column("emotion", sa.String(16), nullable=True),
        sa.Column("intent", sa.String(32), nullable=True),
        sa.Column("cause", sa.String(32), nullable=True),
        sa.Column("willingness", sa.Float(), nullable=True),
        sa.Column("compliance_score", sa.Float(), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=True),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_conversation_analysis_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["contact_attempt_id"],
            ["contact_attempt.id"],
            name=op.f("fk_conversation_analysis_contact_attempt_id_contact_attempt"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_analysis")),
    )
    op.create_index(op.f("ix_conversation_analysis_case_id"), "conversation_analysis", ["case_id"])
    op.create_index(
        op.f("ix_conversation_analysis_contact_attempt_id"),
        "conversation_analysis",
        ["contact_attempt_id"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_conversation_analysis_contact_attempt_id"), table_name="conversation_analysis"
    )
    op.drop_index(op.f("ix_conversation_analysis_case_id"), table_name="conversation_analysis")
    op.drop_table("conversation_analysis")
