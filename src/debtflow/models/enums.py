"""Enumerations stored as short strings (portable across SQLite and PostgreSQL)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum

from debtflow.core.case.lifecycle import CaseStatus

__all__ = [
    "CaseStatus",
    "Channel",
    "CollectorKind",
    "ContactDirection",
    "ContactKind",
    "ContactParty",
    "DebtorType",
    "OverdueCause",
    "ProductType",
    "PromiseStatus",
    "str_enum",
]


class DebtorType(StrEnum):
    PERSON = "person"
    BUSINESS = "business"


class ProductType(StrEnum):
    CONSUMER = "consumer"
    SMALL_BUSINESS = "small_business"
    RURAL = "rural"


class Channel(StrEnum):
    ONLINE = "online"
    FIELD = "field"
    LEGAL = "legal"


class OverdueCause(StrEnum):
    UNEMPLOYMENT = "unemployment"
    ILLNESS = "illness"
    BUSINESS_DOWNTURN = "business_downturn"
    DELIBERATE = "deliberate"
    UNKNOWN = "unknown"


class CollectorKind(StrEnum):
    ONLINE_AGENT = "online_agent"
    FIELD_AGENT = "field_agent"
    PART_TIME = "part_time"
    LAW_FIRM = "law_firm"


class ContactKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"


class ContactParty(StrEnum):
    DEBTOR = "debtor"
    THIRD_PARTY = "third_party"


class ContactDirection(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


def str_enum(enum_cls: type[StrEnum], *, name: str | None = None) -> Enum:
    """A VARCHAR with a CHECK constraint; ``name`` must be unique within a table."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        name=name or enum_cls.__name__.lower(),
    )
