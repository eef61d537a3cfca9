"""The debtor portal's aggregate: a chosen plan and its signed agreement, the plan's dated
instalments, payment intents and provider webhook events, disputes, legal-advice requests
and contact preferences."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from debtflow.db import Base, UTCDateTime, utcnow

PLAN_CHOSEN = "chosen"
PLAN_SIGNED = "signed"
#: every payment of the signed plan made and its relief waived
PLAN_COMPLETED = "completed"
#: ended by the nightly step: an instalment was more than ``BREACH_AFTER_DAYS`` days late
#: (the agreement's term 2); its relief lapsed and the debtor may choose a new plan
PLAN_BROKEN = "broken"
#: the statuses of a case's live plan: at most one per case (a partial unique index)
PLAN_LIVE = (PLAN_CHOSEN, PLAN_SIGNED, PLAN_COMPLETED)
INTENT_PENDING = "pending"
INTENT_SUCCEEDED = "succeeded"
#: the provider reported another amount than was started: booked as received, to reconcile
INTENT_MISMATCHED = "mismatched"
DISPUTE_OPEN = "open"
#: its contact restriction was lifted (who and when: ``contact_restriction.lifted_by/at``)
DISPUTE_CLOSED = "closed"
#: a legal-advice request not yet dealt with
LEGAL_OPEN = "open"
#: a manager or admin recorded that it was dealt with (when, who, a note for staff)
LEGAL_HANDLED = "handled"


class PortalPlan(Base):
    """The plan a debtor chose for a case and, once signed, the agreement: the exact text,
    its SHA-256, who signed, when, from where. One *live* plan per case (chosen, signed or
    completed; the partial unique index ``uq_portal_plan_live_case``); a broken plan stays
    as the record of the agreement that was ended, and a new one may then be chosen."""

    __tablename__ = "portal_plan"
    __table_args__ = (
        Index(
            "uq_portal_plan_live_case",
            "case_id",
            unique=True,
            postgresql_where=text(f"status <> '{PLAN_BROKEN}'"),
            sqlite_where=text(f"status <> '{PLAN_BROKEN}'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=PLAN_CHOSEN)
    term_months: Mapped[int]
    rules_version: Mapped[str] = mapped_column(String(100))
    start_on: Mapped[date]
    # the debt the offer was computed from, and the offer's headline (fen)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    penalty_fen: Mapped[int] = mapped_column(BigInteger)
    current_monthly_fen: Mapped[int] = mapped_column(BigInteger)
    relief_fen: Mapped[int] = mapped_column(BigInteger)
    down_payment_fen: Mapped[int] = mapped_column(BigInteger)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    chosen_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    agreement_text: Mapped[str] = mapped_column(Text)
    agreement_sha256: Mapped[str | None] = mapped_column(String(64))
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signer_ip: Mapped[str | None] = mapped_column(String(64))
    signer_user_agent: Mapped[str | None] = mapped_column(String(300))
    evidence_index: Mapped[int | None] = mapped_column(BigInteger)
    # set when the plan is broken: when, and the first instalment found too late
    broken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    broken_instalment: Mapped[int | None]


class PlanInstalment(Base):
    """One dated payment of a plan (number 0 is the down payment)."""

    __tablename__ = "plan_instalment"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("portal_plan.id"))
    number: Mapped[int]
    due_on: Mapped[date]
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class PaymentIntent(Base):
    """A payment started with a provider. The caller's idempotency key is unique per user:
    the same key returns the same intent."""

    __tablename__ = "payment_intent"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    idempotency_key: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str] = mapped_column(String(30))
    provider_payment_id: Mapped[str] = mapped_column(String(100), unique=True)
    redirect_url: Mapped[str] = mapped_column(String(300))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default=INTENT_PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PaymentWebhookEvent(Base):
    """A provider event acted on once: the unique (provider, event id) pair is what makes
    a replayed or concurrent duplicate webhook book nothing."""

    __tablename__ = "payment_webhook_event"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(30))
    event_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(50))
    provider_payment_id: Mapped[str] = mapped_column(String(100))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DebtorDispute(Base):
    """A debtor's dispute of a case, with an optional uploaded file (stored by SHA-256 in
    the evidence file store) and the dispute restriction it put on contacts."""

    __tablename__ = "debtor_dispute"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"))
    reason: Mapped[str] = mapped_column(Text)
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(200))
    media_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int | None]
    restriction_id: Mapped[int] = mapped_column(ForeignKey("contact_restriction.id"))
    status: Mapped[str] = mapped_column(String(12), default=DISPUTE_OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LegalAdviceRequest(Base):
    """A debtor's request for free legal advice, listed for operations managers, who record
    when it was dealt with (``handled_at``, ``handled_by``, ``handled_note``: None while
    it is open). The note is for staff; the debtor sees only the status and the date."""

    __tablename__ = "legal_advice_request"
    __table_args__ = (Index("ix_legal_advice_request_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"))
    question: Mapped[str] = mapped_column(Text)
    contact_channel: Mapped[str] = mapped_column(String(20))
    contact_time: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), default=LEGAL_OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the username of the manager or admin who recorded it
    handled_by: Mapped[str | None] = mapped_column(String(80))
    #: what was done, for staff (not shown to the debtor)
    handled_note: Mapped[str | None] = mapped_column(Text)


class ContactPreference(Base):
    """When (the debtor's local time) and how the debtor prefers to be contacted."""

    __tablename__ = "contact_preference"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), unique=True)
    earliest_local: Mapped[time]
    latest_local: Mapped[time]
    channels: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
