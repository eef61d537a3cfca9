from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from debtflow.db import Base, UTCDateTime, utcnow
from debtflow.models.enums import ContactKind, ContactParty, DebtorType, str_enum


class Debtor(Base):
    """A person or a business that owes. The financial profile is optional and feeds the
    repayment-capacity report that agents and field agents see."""

    __tablename__ = "debtor"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_type: Mapped[DebtorType] = mapped_column(str_enum(DebtorType))
    name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str] = mapped_column(String(32), unique=True)
    birth_date: Mapped[date | None]
    registered_on: Mapped[date | None]
    employer: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # person: monthly figures in fen
    monthly_income_fen: Mapped[int | None] = mapped_column(BigInteger)
    other_debts_fen: Mapped[int | None] = mapped_column(BigInteger)
    dependents: Mapped[int | None]
    monthly_spending_fen: Mapped[int | None] = mapped_column(BigInteger)
    # business
    monthly_revenue_fen: Mapped[int | None] = mapped_column(BigInteger)
    receivables_fen: Mapped[int | None] = mapped_column(BigInteger)
    main_customers: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    addresses: Mapped[list[Address]] = relationship(lazy="raise", back_populates="debtor")
    contact_points: Mapped[list[ContactPoint]] = relationship(lazy="raise", back_populates="debtor")


class Address(Base):
    __tablename__ = "address"
    __table_args__ = (UniqueConstraint("debtor_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="home")  # home, work, registered
    province: Mapped[str] = mapped_column(String(40))
    city: Mapped[str] = mapped_column(String(60), index=True)
    line: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]

    debtor: Mapped[Debtor] = relationship(lazy="raise", back_populates="addresses")


class ContactPoint(Base):
    """A phone or e-mail of the debtor, or of a third party (with relation and whether the
    debtor authorised contacting them)."""

    __tablename__ = "contact_point"
    __table_args__ = (UniqueConstraint("debtor_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id", ondelete="CASCADE"))
    kind: Mapped[ContactKind] = mapped_column(str_enum(ContactKind))
    value: Mapped[str] = mapped_column(String(200))
    party: Mapped[ContactParty] = mapped_column(str_enum(ContactParty))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    relation: Mapped[str | None] = mapped_column(String(40))
    authorised: Mapped[bool] = mapped_column(default=False)
    valid: Mapped[bool] = mapped_column(default=True)

    debtor: Mapped[Debtor] = relationship(lazy="raise", back_populates="contact_points")
