from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from debtflow.config import personal_data_cipher
from debtflow.db import Base, UTCDateTime, utcnow
from debtflow.models.enums import ContactKind, ContactParty, DebtorType, str_enum


class EncryptedPersonalData(TypeDecorator[str]):
    """A personal-data value (ID number, phone, e-mail) stored as an AES-256-GCM token of
    ``debtflow.core.compliance.crypto`` under the current settings key; plain text in and
    out of the ORM. Tokens differ on every write, so never compare this column in SQL: look
    values up by the ``*_index`` blind-index column beside it (``personal_data_index``)."""

    impl = String(400)
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator[str]):  # noqa: N801 (SQLAlchemy's name)
        """Refuse SQL comparisons of the tokens (they would never match): only IS [NOT] NULL."""

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op in (operators.is_, operators.is_not):
                return super().operate(op, *other, **kwargs)
            raise TypeError(
                "an encrypted personal-data column cannot be compared in SQL; compare its "
                "*_index column with personal_data_index(value)"
            )

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else personal_data_cipher().encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else personal_data_cipher().decrypt(value)


def personal_data_index(value: str) -> str:
    """The blind index (HMAC-SHA256, hex) stored beside an encrypted value."""
    return personal_data_cipher().blind_index(value)


class Debtor(Base):
    """A person or a business that owes. The financial profile is optional and feeds the
    repayment-capacity report that agents and field agents see."""

    __tablename__ = "debtor"

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_type: Mapped[DebtorType] = mapped_column(str_enum(DebtorType))
    name: Mapped[str] = mapped_column(String(200))
    # encrypted (EncryptedPersonalData); found and kept unique by its blind index
    id_number: Mapped[str] = mapped_column("id_number_encrypted", EncryptedPersonalData)
    id_number_index: Mapped[str] = mapped_column(String(64), unique=True)
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

    @validates("id_number")
    def _index_id_number(self, _key: str, value: str) -> str:
        self.id_number_index = personal_data_index(value)
        return value


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
    debtor authorised contacting them). The value is encrypted; ``value_index`` (its blind
    index) keeps it unique per debtor and kind."""

    __tablename__ = "contact_point"
    __table_args__ = (UniqueConstraint("debtor_id", "kind", "value_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtor.id", ondelete="CASCADE"))
    kind: Mapped[ContactKind] = mapped_column(str_enum(ContactKind))
    value: Mapped[str] = mapped_column("value_encrypted", EncryptedPersonalData)
    value_index: Mapped[str] = mapped_column(String(64))
    party: Mapped[ContactParty] = mapped_column(str_enum(ContactParty))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    relation: Mapped[str | None] = mapped_column(String(40))
    authorised: Mapped[bool] = mapped_column(default=False)
    valid: Mapped[bool] = mapped_column(default=True)

    debtor: Mapped[Debtor] = relationship(lazy="raise", back_populates="contact_points")

    @validates("value")
    def _index_value(self, _key: str, value: str) -> str:
        self.value_index = personal_data_index(value)
        return value
