"""case strategy: propensity score, segment with rule and reasons, treatment headline

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("propensity", sa.Float(), nullable=True))
        batch.add_column(sa.Column("propensity_model", sa.String(64), nullable=True))
        batch.add_column(sa.Column("segment", sa.String(16), nullable=True))
        batch.add_column(sa.Column("segment_rule", sa.String(100), nullable=True))
        batch.add_column(sa.Column("segment_reasons", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("treatment", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("strategy_rules", sa.String(100), nullable=True))
        batch.add_column(sa.Column("strategy_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("strategy_digest", sa.String(32), nullable=True))
        batch.create_index("ix_case_segment", ["segment"])


def downgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.drop_index("ix_case_segment")
        for column in (
            "strategy_digest",
            "strategy_on",
            "strategy_rules",
            "treatment",
            "segment_reasons",
            "segment_rule",
            "segment",
            "propensity_model",
            "propensity",
        ):
            batch.drop_column(column)
