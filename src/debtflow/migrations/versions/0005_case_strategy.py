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


COLUMNS = (
    ("propensity", sa.Float()),
    ("propensity_model", sa.String(64)),
    ("segment", sa.String(16)),
    ("segment_rule", sa.String(100)),
    ("segment_reasons", sa.JSON()),
    ("treatment", sa.JSON()),
    ("strategy_rules", sa.String(100)),
    ("strategy_on", sa.Date()),
    ("strategy_digest", sa.String(32)),
)


def upgrade() -> None:
    # plain ALTER TABLE … ADD/DROP COLUMN (SQLite ≥ 3.35 has both): no table rebuild, so the
    # foreign keys that point at "case" are never in the way
    for name, kind in COLUMNS:
        op.add_column("case", sa.Column(name, kind, nullable=True))
    op.create_index("ix_case_segment", "case", ["segment"])


def downgrade() -> None:
    op.drop_index("ix_case_segment", table_name="case")
    for name, _kind in reversed(COLUMNS):
        op.execute(f'ALTER TABLE "case" DROP COLUMN {name}')
