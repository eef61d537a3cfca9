"""field app: field-visit requests, check-ins with position, visit outcomes

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

VISIT_STATUSES = ("requested", "scheduled", "visited", "cancelled")
VISIT_OUTCOMES = (
    "met_debtor",
    "promise",
    "refused",
    "not_home",
    "wrong_address",
    "met_third_party",
)


def upgrade() -> None:
    op.create_table(
        "field_visit_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                *VISIT_STATUSES,
                name="visitstatus",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("scheduled_collector_id", sa.Integer(), nullable=True),
        sa.Column("scheduled_day", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_field_visit_request_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["app_user.id"],
            name=op.f("fk_field_visit_request_requested_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["scheduled_collector_id"],
            ["collector.id"],
            name=op.f("fk_field_visit_request_scheduled_collector_id_collector"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_visit_request")),
    )
    op.create_index(op.f("ix_field_visit_request_case_id"), "field_visit_request", ["case_id"])
    op.create_index(op.f("ix_field_visit_request_status"), "field_visit_request", ["status"])

    op.create_table(
        "field_checkin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latitude_micro", sa.BigInteger(), nullable=False),
        sa.Column("longitude_micro", sa.BigInteger(), nullable=False),
        sa.Column("accuracy_m", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Integer(), nullable=True),
        sa.Column("far", sa.Boolean(), nullable=False),
        sa.Column("evidence_index", sa.BigInteger(), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                *VISIT_OUTCOMES,
                name="visitoutcome",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("promise_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_field_checkin_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["collector_id"], ["collector.id"], name=op.f("fk_field_checkin_collector_id_collector")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_field_checkin_user_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["contact_decision.id"],
            name=op.f("fk_field_checkin_decision_id_contact_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["field_visit_request.id"],
            name=op.f("fk_field_checkin_request_id_field_visit_request"),
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["contact_attempt.id"],
            name=op.f("fk_field_checkin_attempt_id_contact_attempt"),
        ),
        sa.ForeignKeyConstraint(
            ["promise_id"],
            ["promise_to_pay.id"],
            name=op.f("fk_field_checkin_promise_id_promise_to_pay"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_checkin")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_field_checkin_decision_id")),
    )
    op.create_index(op.f("ix_field_checkin_case_id"), "field_checkin", ["case_id"])
    op.create_index(op.f("ix_field_checkin_collector_id"), "field_checkin", ["collector_id"])

    op.create_table(
        "field_visit_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("evidence_index", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_id"],
            ["field_checkin.id"],
            name=op.f("fk_field_visit_file_checkin_id_field_checkin"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_field_visit_file")),
    )
    op.create_index(op.f("ix_field_visit_file_checkin_id"), "field_visit_file", ["checkin_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_field_visit_file_checkin_id"), table_name="field_visit_file")
    op.drop_table("field_visit_file")
    op.drop_index(op.f("ix_field_checkin_collector_id"), table_name="field_checkin")
    op.drop_index(op.f("ix_field_checkin_case_id"), table_name="field_checkin")
    op.drop_table("field_checkin")
    op.drop_index(op.f("ix_field_visit_request_status"), table_name="field_visit_request")
    op.drop_index(op.f("ix_field_visit_request_case_id"), table_name="field_visit_request")
    op.drop_table("field_visit_request")
