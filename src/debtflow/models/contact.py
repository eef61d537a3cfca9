from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from debtflow.db import Base, UTCDateTime, utcnow
from debtflow.models.enums import ContactDirection, ContactParty, str_enum


class ContactAttempt(Base):
    """One attempt to reach a debtor or a third party, by any party on any channel.

    Every attempt carries the gate decision that let it happen (``decision_id``, NOT NULL,
    one attempt per decision); a database trigger refuses an attempt whose decision was a
    deny without a recorded supervisor override, or whose debtor or channel differ from the
    decision's. Write attempts only through ``debtflow.contact.service.log_contact``.
    """

    __tablename__ = "contact_attempt"
    __table_args__ = (Index("ix_contact_attempt_debtor_at", "debtor_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"))
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id"))
    contact_point_id: Mapped[int | None] = mapped_column(ForeignKey("contact_point.id"))
    channel: Mapped[str] = mapped_column(String(20))  # call, sms, email, visit, ai_voice, app
    direction: Mapped[ContactDirection] = mapped_column(str_enum(ContactDirection))
    party: Mapped[ContactParty] = mapped_column(str_enum(ContactParty))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    connected: Mapped[bool] = mapped_column(default=False)
    conversation: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decision_id: Mapped[int] = mapped_column(ForeignKey("contact_decision.id"), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    # who the collector works for: in-house, an agency's code, ai-voice, a law firm …
    collecting_party: Mapped[str] = mapped_column(String(60))
