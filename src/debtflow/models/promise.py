from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from debtflow.db import Base, UTCDateTime, utcnow
from debtflow.models.enums import PromiseStatus, str_enum


class PromiseToPay(Base):
    """A debtor's promise to pay ``amount_fen`` by ``due``; kept when paid within
    ``grace_days`` less at most ``tolerance_fen``."""

    __tablename__ = "promise_to_pay"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    made_on: Mapped[date]
    due: Mapped[date]
    grace_days: Mapped[int] = mapped_column(default=3)
    tolerance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[PromiseStatus] = mapped_column(
        str_enum(PromiseStatus), default=PromiseStatus.PENDING, index=True
    )
    resolved_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
