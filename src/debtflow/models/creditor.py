from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from debtflow.db import Base, UTCDateTime, utcnow


class Creditor(Base):
    """A bank, consumer-finance company, online lender … that places overdue portfolios."""

    __tablename__ = "creditor"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    compliance_pack: Mapped[str] = mapped_column(String(40), default="cn-2025")
    # the creditor's mandate: hard limits on what a plan may offer
    max_relief_bp: Mapped[int] = mapped_column(default=3000)
    max_term_months: Mapped[int] = mapped_column(default=48)
    min_first_payment_bp: Mapped[int] = mapped_column(default=200)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
