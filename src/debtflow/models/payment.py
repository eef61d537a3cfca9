from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from debtflow.db import Base, UTCDateTime, utcnow


class Payment(Base):
    """Money received on an account, split fees → penalty → interest → principal."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(30), default="bank_transfer")
    reference: Mapped[str] = mapped_column(String(80), unique=True)  # idempotency key
    to_fees_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    to_penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    to_interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    to_principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    overpaid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
