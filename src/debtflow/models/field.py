"""Field visits: requests for a visit, check-ins on site with position, the visit's outcome
and the photos or recordings taken there."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from debtflow.core.field.visits import VisitOutcome, VisitStatus
from debtflow.db import Base, UTCDateTime, utcnow
from debtflow.models.enums import str_enum


class FieldVisitRequest(Base):
    """Someone asked for a field visit on a case (from the workbench). The nightly route
    step puts open requests on the route of the field agent serving the debtor's region
    (``scheduled``); the visit's outcome closes it (``visited``)."""

    __tablename__ = "field_visit_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[VisitStatus] = mapped_column(
        str_enum(VisitStatus), default=VisitStatus.REQUESTED, index=True
    )
    scheduled_collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id"))
    scheduled_day: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FieldCheckin(Base):
    """A field agent arrived at a debtor's address: the gate decision that allowed the
    visit, the reported position (integer micro-degrees, accuracy in metres), the distance
    to the address and whether it was ``far``, the evidence leaf, and — once recorded — the
    visit's outcome with the contact attempt (and promise) it produced."""

    __tablename__ = "field_checkin"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("collector.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    decision_id: Mapped[int] = mapped_column(ForeignKey("contact_decision.id"), unique=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("field_visit_request.id"))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    latitude_micro: Mapped[int] = mapped_column(BigInteger)
    longitude_micro: Mapped[int] = mapped_column(BigInteger)
    accuracy_m: Mapped[int]
    distance_m: Mapped[int | None]
    far: Mapped[bool] = mapped_column(default=False)
    evidence_index: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[VisitOutcome | None] = mapped_column(str_enum(VisitOutcome))
    note: Mapped[str | None] = mapped_column(Text)
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("contact_attempt.id"))
    promise_id: Mapped[int | None] = mapped_column(ForeignKey("promise_to_pay.id"))


class FieldVisitFile(Base):
    """A photo or recording taken on a visit, stored by SHA-256 in the evidence file store
    and hashed into the evidence leaf at ``evidence_index``."""

    __tablename__ = "field_visit_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("field_checkin.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    evidence_index: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
