from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from debtflow.db import Base, UTCDateTime, utcnow
from debtflow.models.enums import ProductType, str_enum


class Account(Base):
    """One debt of one debtor at one creditor. Outstanding amounts are fen; the schedule is
    ``instalment_count`` monthly instalments of ``instalment_fen`` from ``first_due_date``."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("creditor_id", "account_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditor.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    account_number: Mapped[str] = mapped_column(String(64))
    product_type: Mapped[ProductType] = mapped_column(str_enum(ProductType))
    original_fen: Mapped[int] = mapped_column(BigInteger)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fees_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    annual_rate_bp: Mapped[int]
    instalment_fen: Mapped[int] = mapped_column(BigInteger)
    instalment_count: Mapped[int]
    first_due_date: Mapped[date]
    paid_before_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    opened_on: Mapped[date]
    maturity_date: Mapped[date | None]
    credit_limit_fen: Mapped[int | None] = mapped_column(BigInteger)
    # up to 6 months of {status, statement_fen, paid_fen}, most recent first
    repayment_history: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    days_past_due: Mapped[int] = mapped_column(default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="M0")
    overdue_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    aged_on: Mapped[date | None]
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def outstanding_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.fees_fen + self.penalty_fen

    case: Mapped["Case"] = relationship(lazy="raise", back_populates="accounts")  # noqa: F821, UP037
