from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from debtflow.db import Base, UTCDateTime, utcnow
from debtflow.models.enums import CollectorKind, str_enum


class Collector(Base):
    """Whoever works cases: online agent, field agent, part-time collector or law firm."""

    __tablename__ = "collector"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CollectorKind] = mapped_column(str_enum(CollectorKind))
    home_province: Mapped[str] = mapped_column(String(40))
    home_city: Mapped[str] = mapped_column(String(60))
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)  # cities or provinces served
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)  # skills, styles, dialects
    capacity_hours_week: Mapped[int] = mapped_column(default=40)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
