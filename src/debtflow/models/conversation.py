from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
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
