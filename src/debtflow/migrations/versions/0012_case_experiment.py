"""champion / challenger: the experiment and variant a case is in

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


COLUMNS = (
    ("experiment_key", sa.String(64)),
    ("experiment_variant", sa.String(64)),
)


def upgrade() -> None:
    # plain ALTER TABLE … ADD/DROP COLUMN, as 0005: no rebuild of "case"
    for name, kind in COLUMNS:
        op.add_column("case", sa.Column(name, kind, nullable=True))
    op.create_index("ix_case_experiment", "case", ["experiment_key", "experiment_variant"])


def downgrade() -> None:
    op.drop_index("ix_case_experiment", table_name="case")
    for name, _kind in reversed(COLUMNS):
        op.execute(f'ALTER TABLE "case" DROP COLUMN {name}')
