from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from debtflow.db import Base, UTCDateTime, utcnow
from debtflow.models.debtor import EncryptedPersonalData, personal_data_index
from debtflow.models.enums import str_enum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATIONS_MANAGER = "operations_manager"
    ONLINE_AGENT = "online_agent"
    FIELD_AGENT = "field_agent"
    COMPLIANCE_AUDITOR = "compliance_auditor"
    PART_TIME_COLLECTOR = "part_time_collector"
    PARTNER = "partner"
    DEBTOR = "debtor"


class User(Base):
    """Someone who signs in. Staff sign in with a password (argon2 hash); collectors of
    every kind (agents, field agents, part-time collectors, partners) are linked to their
    ``collector`` row, debtors to their ``debtor`` row and sign in with phone + one-time code.
    """

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id"), index=True)
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtor.id"), index=True)
    # debtors' sign-in phone: encrypted, looked up and kept unique by its blind index
    phone: Mapped[str | None] = mapped_column("phone_encrypted", EncryptedPersonalData)
    phone_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @validates("phone")
    def _index_phone(self, _key: str, value: str | None) -> str | None:
        self.phone_index = None if value is None else personal_data_index(value)
        return value


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token for integrations (``POST /api/auth/token``); only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DebtorOneTimeCode(Base):
    """A sign-in code sent to a debtor's phone; only its SHA-256 is kept, and of the phone
    only its blind index (``personal_data_index``)."""

    __tablename__ = "debtor_one_time_code"
    __table_args__ = (Index("ix_debtor_one_time_code_phone_index_sent", "phone_index", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    phone_index: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
