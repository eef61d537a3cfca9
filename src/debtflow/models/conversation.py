from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from debtflow.db import Base, UTCDateTime, utcnow


class ConversationAnalysis(Base):
    """What the conversation analysis found in one utterance of a case's conversation.

    Written by ``debtflow.conversation.service.analyze_for_case``; the text itself is not
    stored here (only its SHA-256) — the transcript goes to the evidence log as a file.
    ``speaker`` is ``debtor`` or ``collector``. For a debtor utterance ``emotion``,
    ``intent``, ``cause`` and ``willingness`` (0–1) are filled; for a collector utterance
    ``compliance_score`` (0–100, as the API's ``score``: 100 minus the severity penalties)
    and ``flags`` (``[{"violation", "rule", "severity"}]``, empty when clean)."""

    __tablename__ = "conversation_analysis"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    contact_attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_attempt.id"), index=True
    )
    analysed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    speaker: Mapped[str] = mapped_column(String(16))  # debtor, collector
    emotion: Mapped[str | None] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(32))
    cause: Mapped[str | None] = mapped_column(String(32))
    willingness: Mapped[float | None]
    compliance_score: Mapped[float | None]
    flags: Mapped[list[Any] | None] = mapped_column(JSON)
    text_sha256: Mapped[str] = mapped_column(String(64))


class CallAlert(Base):
    """A compliance flag raised on what a collector said while the call was going on.

    Written by ``debtflow.conversation.alerts.read_live``: one per rule that fired on a
    collector utterance posted during a call (``matches`` times; the span and ``excerpt`` are
    of the first match). ``call_ref`` is the telephony system's id of the call and ``turn``
    the utterance's number in it; ``text_sha256`` is of the utterance's words, so posting
    the same turn again (a retry) raises nothing new and posting other words for it is
    refused. ``rules_version`` is the version of the speech rules that raised it.
    ``excerpt`` is the flagged span of the collector's words (what a supervisor must read to
    act), never the debtor's. A supervisor or auditor acknowledges it."""

    __tablename__ = "call_alert"
    __table_args__ = (
        UniqueConstraint("case_id", "call_ref", "turn", "rule"),
        Index("ix_call_alert_open", "acknowledged_at", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    call_ref: Mapped[str] = mapped_column(String(64))
    turn: Mapped[int]
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: the user who posted the utterance (the agent, or the telephony system's account)
    raised_by: Mapped[str] = mapped_column(String(80))
    #: the collector the case was assigned to when the alert was raised
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id"))
    violation: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    span_start: Mapped[int]
    span_end: Mapped[int]
    excerpt: Mapped[str] = mapped_column(String(200))
    matches: Mapped[int]
    text_sha256: Mapped[str] = mapped_column(String(64))
    rules_version: Mapped[str] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    acknowledgement: Mapped[str | None] = mapped_column(Text)
