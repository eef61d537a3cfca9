"""compliance alerts raised on a collector's words during a call

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("call_ref", sa.String(64), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_by", sa.String(80), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=True),
        sa.Column("violation", sa.String(32), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("span_start", sa.Integer(), nullable=False),
        sa.Column("span_end", sa.Integer(), nullable=False),
        sa.Column("excerpt", sa.String(200), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("rules_version", sa.String(64), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(80), nullable=True),
        sa.Column("acknowledgement", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_call_alert_case_id_case")),
        sa.ForeignKeyConstraint(
            ["collector_id"], ["collector.id"], name=op.f("fk_call_alert_collector_id_collector")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_alert")),
        sa.UniqueConstraint(
            "case_id",
            "call_ref",
            "turn",
            "rule",
            name=op.f("uq_call_alert_case_id_call_ref_turn_rule"),
        ),
    )
    op.create_index(op.f("ix_call_alert_case_id"), "call_alert", ["case_id"])
    op.create_index("ix_call_alert_open", "call_alert", ["acknowledged_at", "raised_at"])


def downgrade() -> None:
    op.drop_index("ix_call_alert_open", table_name="call_alert")
    op.drop_index(op.f("ix_call_alert_case_id"), table_name="call_alert")
    op.drop_table("call_alert")
