from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from debtflow.db import Base, UTCDateTime, utcnow


class DispatchAssignment(Base):
    """One hand-over of a case to a collector: by the nightly plan, in real time, or by a
    manager's override. The history is never updated or deleted (database triggers refuse
    both); the case row carries the current collector.

    ``reasons`` are the chosen pair's strongest reasons and ``deciding`` what set it apart
    from the runner-up, each ``[{"code", "logit"}]``; ``context`` and
    ``prior_probability`` are what the learner needs when the outcome comes in."""

    __tablename__ = "dispatch_assignment"
    __table_args__ = (Index("ix_dispatch_assignment_case_at", "case_id", "assigned_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"))
    collector_id: Mapped[int] = mapped_column(ForeignKey("collector.id"), index=True)
    previous_collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    dispatch_day: Mapped[date]
    how: Mapped[str] = mapped_column(String(12))  # nightly, realtime, override
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    value_fen: Mapped[int] = mapped_column(BigInteger)
    probability: Mapped[float]
    prior_probability: Mapped[float]
    effort_hours: Mapped[float]
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    deciding: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    runner_up_collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id"))
    runner_up_value_fen: Mapped[int | None] = mapped_column(BigInteger)
    margin_fen: Mapped[int | None] = mapped_column(BigInteger)
    fits: Mapped[bool]  # the documented match rules (core.dispatch.metrics.fits_case_needs)
    unmet: Mapped[list[str]] = mapped_column(JSON, default=list)
    context: Mapped[list[float]] = mapped_column(JSON, default=list)
    actor: Mapped[str] = mapped_column(String(80), default="nightly")


class DispatchOverride(Base):
    """A manager moved a case by hand: who, why, and the assignment it produced."""

    __tablename__ = "dispatch_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("dispatch_assignment.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    from_collector_id: Mapped[int | None] = mapped_column(ForeignKey("collector.id"))
    to_collector_id: Mapped[int] = mapped_column(ForeignKey("collector.id"))
    by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DispatchOutcome(Base):
    """An outcome fed to the learner for the assignment that was current at the time."""

    __tablename__ = "dispatch_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("dispatch_assignment.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id"), index=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("collector.id"))
    recovered_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    promised: Mapped[bool] = mapped_column(default=False)
    contacted: Mapped[bool] = mapped_column(default=False)
    reward: Mapped[float]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DispatchModelState(Base):
    """The serialised state of one learned model (JSON text), with a revision counter that
    goes up on every save so readers can cache the parsed state."""

    __tablename__ = "dispatch_model_state"

    model: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(default=1)
    outcomes: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DispatchDailyMetrics(Base):
    """Dispatch figures of one local day for the dashboard (None where there is no data)."""

    __tablename__ = "dispatch_daily_metrics"

    day: Mapped[date] = mapped_column(primary_key=True)
    assignments: Mapped[int]
    fitting: Mapped[int]
    match_accuracy: Mapped[float | None]
    reassignments: Mapped[int]
    reassignment_rate: Mapped[float | None]
    contacted: Mapped[int]
    response_minutes_median: Mapped[float | None]
    response_minutes_p90: Mapped[float | None]
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FieldRoute(Base):
    """One field agent's visit plan for one day: ordered ``stops``
    ``[{"case_id", "arrive", "start", "end", "travel_seconds"}]`` (ISO times, UTC) and the
    ``unvisitable`` cases ``[{"case_id", "code", "reason_en", "reason_zh"}]``."""

    __tablename__ = "field_route"
    __table_args__ = (UniqueConstraint("collector_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("collector.id"))
    day: Mapped[date] = mapped_column(index=True)
    stops: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    unvisitable: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    leave_at: Mapped[datetime] = mapped_column(UTCDateTime)
    back_at: Mapped[datetime] = mapped_column(UTCDateTime)
    travel_seconds: Mapped[int]
    inputs_key: Mapped[str] = mapped_column(String(64))  # hash of the visits planned from
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
