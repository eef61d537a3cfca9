from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from debtflow.db import Base, UTCDateTime, utcnow
from debtflow.models.account import Account
from debtflow.models.enums import CaseStatus, Channel, OverdueCause, str_enum


class Case(Base):
    """The collection case of one debtor at one creditor (all their accounts there)."""

    __tablename__ = "case"
    __table_args__ = (
        UniqueConstraint("creditor_id", "debtor_id"),
        Index("ix_case_status_bucket", "status", "bucket"),
        Index("ix_case_experiment", "experiment_key", "experiment_variant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditor.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.NEW)
    held_from: Mapped[CaseStatus | None] = mapped_column(str_enum(CaseStatus, name="held_from"))
    hold_reason: Mapped[str | None] = mapped_column(Text)
    bucket: Mapped[str] = mapped_column(String(8), default="M0")
    days_past_due: Mapped[int] = mapped_column(default=0)
    outstanding_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel), default=Channel.ONLINE)
    overdue_cause: Mapped[OverdueCause] = mapped_column(
        str_enum(OverdueCause), default=OverdueCause.UNKNOWN
    )
    assigned_collector_id: Mapped[int | None] = mapped_column(
        ForeignKey("collector.id"), index=True
    )
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    aged_on: Mapped[date | None]
    # the nightly strategy: score, segment with its deciding rule and reasons, treatment
    propensity: Mapped[float | None]
    propensity_model: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(16), index=True)
    segment_rule: Mapped[str | None] = mapped_column(String(100))
    segment_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    treatment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    strategy_rules: Mapped[str | None] = mapped_column(String(100))
    strategy_on: Mapped[date | None]
    # fingerprint of the stored strategy result, so the nightly run compares cheaply
    strategy_digest: Mapped[str | None] = mapped_column(String(32))
    # champion / challenger: the experiment in force and the case's variant in it
    experiment_key: Mapped[str | None] = mapped_column(String(64))
    experiment_variant: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    accounts: Mapped[list[Account]] = relationship(lazy="raise", back_populates="case")


class BucketTransition(Base):
    """A move of one account between delinquency buckets. Never updated or deleted
    (database triggers refuse both)."""

    __tablename__ = "bucket_transition"
    __table_args__ = (Index("ix_bucket_transition_case_as_of", "case_id", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    as_of: Mapped[date]
    from_bucket: Mapped[str] = mapped_column(String(8))
    to_bucket: Mapped[str] = mapped_column(String(8))
    days_past_due: Mapped[int]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseStatusChange(Base):
    """History of lifecycle moves: who moved the case, from what, to what, and why."""

    __tablename__ = "case_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    from_status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, name="from_status"))
    to_status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, name="to_status"))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(80), default="system")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
