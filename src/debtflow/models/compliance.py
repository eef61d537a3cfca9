"""The compliance gate's records: every decision, every supervisor override, the standing
restrictions (do-not-contact, dispute, legal hold …), QA samples and every view of full
personal data.

Decisions, overrides and personal-data views are never updated (database triggers refuse
UPDATE); they are deleted only by the retention service once the law allows it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from debtflow.db import Base, UTCDateTime, utcnow


class ContactDecision(Base):
    """The gate's answer to one intended contact, allowed or denied, kept for audit.

    An allowed decision not yet used by a contact attempt reserves its place against the
    caps until ``expires_at`` (it counts as a connected call), so two agents cannot both be
    allowed the last call of the day.
    """

    __tablename__ = "contact_decision"
    __table_args__ = (
        Index("ix_contact_decision_debtor_planned", "debtor_id", "planned_at"),
        Index("ix_contact_decision_decided_at", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id"), index=True)
    # who the collector works for: in-house, an agency's code, ai-voice, a law firm …
    collecting_party: Mapped[str] = mapped_column(String(60))
    requested_by: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(20))  # debtor, third_party
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_point.id"))
    purpose: Mapped[str] = mapped_column(String(40))
    debtor_unreachable: Mapped[bool] = mapped_column(default=False)
    script_text: Mapped[str | None] = mapped_column(Text)  # third-party contacts only
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    allowed: Mapped[bool]
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    pack_version: Mapped[str] = mapped_column(String(80))
    next_allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DenyOverride(Base):
    """A supervisor's written override of one denied decision."""

    __tablename__ = "deny_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("contact_decision.id"), unique=True)
    supervisor: Mapped[str] = mapped_column(String(80))
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id"))
    overridden_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    pack_version: Mapped[str] = mapped_column(String(80))
    written_reason: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactRestriction(Base):
    """A standing fact that stops contact: do_not_contact, dispute, hardship_cooling_off,
    legal_hold or attorney. ``case_id`` None applies to every case of the debtor. Active
    from ``starts_at`` until ``ends_at`` (a cooling-off end) or until lifted."""

    __tablename__ = "contact_restriction"
    __table_args__ = (Index("ix_contact_restriction_debtor_flag", "debtor_id", "flag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    flag: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    set_by: Mapped[str] = mapped_column(String(80))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(80))


class PersonalDataView(Base):
    """One showing of a full (unmasked) phone or ID number: who, what, when and why."""

    __tablename__ = "personal_data_view"
    __table_args__ = (Index("ix_personal_data_view_debtor_at", "debtor_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id"))
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_point.id"))
    field: Mapped[str] = mapped_column(String(20))  # phone, id_number
    viewer: Mapped[str] = mapped_column(String(80))
    viewer_role: Mapped[str] = mapped_column(String(30))
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id"))
    purpose: Mapped[str] = mapped_column(Text)
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class QaSample(Base):
    """A call picked for quality review (random share, risk-weighted or forced)."""

    __tablename__ = "qa_sample"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_attempt_id: Mapped[int] = mapped_column(ForeignKey("contact_attempt.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(10))  # random, risk, forced
    risk: Mapped[float]
    selected_at: Mapped[datetime] = mapped_column(UTCDateTime)
