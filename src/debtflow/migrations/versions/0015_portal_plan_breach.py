"""portal plans: a signed plan can be broken (an instalment more than 30 days late), and a
case may then have a new plan — one *live* plan per case instead of one plan ever

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_LIVE = sa.text("status <> 'broken'")


def upgrade() -> None:
    # SQLite cannot drop a constraint in place: batch mode copies the table (with foreign
    # keys off while it runs, see debtflow.migrate, as plan rows are pointed at)
    with op.batch_alter_table("portal_plan", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_portal_plan_case_id"), type_="unique")
        batch_op.add_column(sa.Column("broken_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("broken_instalment", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_portal_plan_case_id"), "portal_plan", ["case_id"])
    # at most one plan per case that is not broken (chosen, signed or completed); both
    # PostgreSQL and SQLite (3.8+) have partial indexes
    op.create_index(
        "uq_portal_plan_live_case",
        "portal_plan",
        ["case_id"],
        unique=True,
        postgresql_where=_LIVE,
        sqlite_where=_LIVE,
    )


def downgrade() -> None:
    # fails (unique violation) while a case has a broken plan and a newer one: one plan per
    # case cannot hold them both, and nothing here throws an agreement away
    op.drop_index("uq_portal_plan_live_case", table_name="portal_plan")
    op.drop_index(op.f("ix_portal_plan_case_id"), table_name="portal_plan")
    with op.batch_alter_table("portal_plan", schema=None) as batch_op:
        batch_op.drop_column("broken_instalment")
        batch_op.drop_column("broken_at")
        batch_op.create_unique_constraint(op.f("uq_portal_plan_case_id"), ["case_id"])
