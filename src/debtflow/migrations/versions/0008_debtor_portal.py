"""debtor portal: chosen plans, signed agreements, payment intents and provider webhooks,
disputes, legal-advice requests, contact preferences

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "portal_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("rules_version", sa.String(100), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("penalty_fen", sa.BigInteger(), nullable=False),
        sa.Column("current_monthly_fen", sa.BigInteger(), nullable=False),
        sa.Column("relief_fen", sa.BigInteger(), nullable=False),
        sa.Column("down_payment_fen", sa.BigInteger(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        _when("chosen_at"),
        sa.Column("chosen_by", sa.Integer(), nullable=False),
        sa.Column("agreement_text", sa.Text(), nullable=False),
        sa.Column("agreement_sha256", sa.String(64), nullable=True),
        sa.Column("signer_name", sa.String(200), nullable=True),
        _when("signed_at", nullable=True),
        sa.Column("signer_ip", sa.String(64), nullable=True),
        sa.Column("signer_user_agent", sa.String(300), nullable=True),
        sa.Column("evidence_index", sa.BigInteger(), nullable=True),
        _fk("portal_plan", "case_id", "case"),
        _fk("portal_plan", "debtor_id", "debtor"),
        _fk("portal_plan", "chosen_by", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_plan")),
        sa.UniqueConstraint("case_id", name=op.f("uq_portal_plan_case_id")),
    )
    op.create_index(op.f("ix_portal_plan_debtor_id"), "portal_plan", ["debtor_id"])

    op.create_table(
        "plan_instalment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        _fk("plan_instalment", "plan_id", "portal_plan"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_instalment")),
        sa.UniqueConstraint("plan_id", "number", name=op.f("uq_plan_instalment_plan_id_number")),
    )

    op.create_table(
        "payment_intent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=False),
        sa.Column("provider", sa.String(30), nullable=False),
        sa.Column("provider_payment_id", sa.String(100), nullable=False),
        sa.Column("redirect_url", sa.String(300), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        _when("created_at"),
        _when("paid_at", nullable=True),
        _fk("payment_intent", "case_id", "case"),
        _fk("payment_intent", "user_id", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_intent")),
        sa.UniqueConstraint(
            "provider_payment_id", name=op.f("uq_payment_intent_provider_payment_id")
        ),
        sa.UniqueConstraint(
            "user_id", "idempotency_key", name=op.f("uq_payment_intent_user_id_idempotency_key")
        ),
    )
    op.create_index(op.f("ix_payment_intent_case_id"), "payment_intent", ["case_id"])

    op.create_table(
        "payment_webhook_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(30), nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("event_type", sa.String(50), nullable=False),
        sa.Column("provider_payment_id", sa.String(100), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        _when("received_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_webhook_event")),
        sa.UniqueConstraint(
            "provider", "event_id", name=op.f("uq_payment_webhook_event_provider_event_id")
        ),
    )

    op.create_table(
        "debtor_dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=True),
        sa.Column("file_name", sa.String(200), nullable=True),
        sa.Column("media_type", sa.String(100), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("restriction_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        _when("created_at"),
        _fk("debtor_dispute", "case_id", "case"),
        _fk("debtor_dispute", "debtor_id", "debtor"),
        _fk("debtor_dispute", "restriction_id", "contact_restriction"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debtor_dispute")),
    )
    op.create_index(op.f("ix_debtor_dispute_case_id"), "debtor_dispute", ["case_id"])

    op.create_table(
        "legal_advice_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("contact_channel", sa.String(20), nullable=False),
        sa.Column("contact_time", sa.String(100), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        _when("created_at"),
        _fk("legal_advice_request", "case_id", "case"),
        _fk("legal_advice_request", "debtor_id", "debtor"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_advice_request")),
    )
    op.create_index(op.f("ix_legal_advice_request_case_id"), "legal_advice_request", ["case_id"])

    op.create_table(
        "contact_preference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("earliest_local", sa.Time(), nullable=False),
        sa.Column("latest_local", sa.Time(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        _when("updated_at"),
        _fk("contact_preference", "debtor_id", "debtor"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_preference")),
        sa.UniqueConstraint("debtor_id", name=op.f("uq_contact_preference_debtor_id")),
    )


def downgrade() -> None:
    op.drop_table("contact_preference")
    op.drop_index(op.f("ix_legal_advice_request_case_id"), table_name="legal_advice_request")
    op.drop_table("legal_advice_request")
    op.drop_index(op.f("ix_debtor_dispute_case_id"), table_name="debtor_dispute")
    op.drop_table("debtor_dispute")
    op.drop_table("payment_webhook_event")
    op.drop_index(op.f("ix_payment_intent_case_id"), table_name="payment_intent")
    op.drop_table("payment_intent")
    op.drop_table("plan_instalment")
    op.drop_index(op.f("ix_portal_plan_debtor_id"), table_name="portal_plan")
    op.drop_table("portal_plan")
