"""Every SQL statement of the field app."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.core.field.visits import OPEN_REQUEST_STATUSES
from debtflow.models import (
    Address,
    Case,
    Collector,
    Debtor,
    FieldCheckin,
    FieldRoute,
    FieldVisitFile,
    FieldVisitRequest,
)
from debtflow.models.enums import CollectorKind


def open_request_of_case(session: Session, *, case_id: int) -> FieldVisitRequest | None:
    stmt = (
        select(FieldVisitRequest)
        .where(
            FieldVisitRequest.case_id == case_id,
            FieldVisitRequest.status.in_(list(OPEN_REQUEST_STATUSES)),
        )
        .order_by(FieldVisitRequest.id)
        .limit(1)
    )
    return session.scalars(stmt).first()


def request(session: Session, *, request_id: int) -> FieldVisitRequest | None:
    return session.get(FieldVisitRequest, request_id)


def add(session: Session, row: object) -> None:
    session.add(row)


def open_requests_on_open_cases(
    session: Session, *, case_ids: Sequence[int] | None = None
) -> Sequence[Any]:
    """Open visit requests of open cases (of ``case_ids`` when given), with the case's
    debtor, type and time zone."""
    stmt = (
        select(
            FieldVisitRequest.id.label("request_id"),
            FieldVisitRequest.created_at,
            FieldVisitRequest.scheduled_collector_id,
            FieldVisitRequest.scheduled_day,
            Case.id,
            Case.assigned_collector_id,
            Case.debtor_id,
            Debtor.debtor_type,
            Debtor.timezone,
        )
        .join(Case, Case.id == FieldVisitRequest.case_id)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .where(
            FieldVisitRequest.status.in_(list(OPEN_REQUEST_STATUSES)),
            Case.status.in_(list(OPEN_STATUSES)),
        )
        .order_by(FieldVisitRequest.id)
    )
    if case_ids is not None:
        stmt = stmt.where(Case.id.in_(list(case_ids)))
    return session.execute(stmt).all()


def field_agents(session: Session, collector_ids: Sequence[int]) -> Sequence[Collector]:
    if not collector_ids:
        return []
    stmt = (
        select(Collector)
        .where(
            Collector.id.in_(list(collector_ids)),
            Collector.kind == CollectorKind.FIELD_AGENT,
            Collector.active.is_(True),
        )
        .order_by(Collector.id)
    )
    return session.scalars(stmt).all()


def addresses_of(session: Session, debtor_ids: Sequence[int]) -> dict[int, Address]:
    """One address per debtor: home first, then work, then any."""
    if not debtor_ids:
        return {}
    stmt = select(Address).where(Address.debtor_id.in_(list(debtor_ids))).order_by(Address.id)
    rank = {"home": 0, "work": 1}
    best: dict[int, Address] = {}
    for row in session.scalars(stmt).all():
        held = best.get(row.debtor_id)
        if held is None or rank.get(row.kind, 2) < rank.get(held.kind, 2):
            best[row.debtor_id] = row
    return best


def route_of(session: Session, *, collector_id: int, day: date) -> FieldRoute | None:
    stmt = select(FieldRoute).where(FieldRoute.collector_id == collector_id, FieldRoute.day == day)
    return session.scalars(stmt).one_or_none()


def collector(session: Session, *, collector_id: int) -> Collector | None:
    return session.get(Collector, collector_id)


def field_collectors(session: Session) -> Sequence[Collector]:
    stmt = (
        select(Collector)
        .where(Collector.kind.in_([CollectorKind.FIELD_AGENT, CollectorKind.PART_TIME]))
        .order_by(Collector.code)
    )
    return session.scalars(stmt).all()


def stop_rows(session: Session, case_ids: Sequence[int]) -> dict[int, tuple[Case, Debtor]]:
    if not case_ids:
        return {}
    stmt = (
        select(Case, Debtor)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .where(Case.id.in_(list(case_ids)))
    )
    return {case.id: (case, debtor) for case, debtor in session.execute(stmt).all()}


def checkins_between(
    session: Session, *, collector_id: int, since: datetime, until: datetime
) -> Sequence[FieldCheckin]:
    stmt = (
        select(FieldCheckin)
        .where(
            FieldCheckin.collector_id == collector_id,
            FieldCheckin.checked_in_at >= since,
            FieldCheckin.checked_in_at < until,
        )
        .order_by(FieldCheckin.checked_in_at, FieldCheckin.id)
    )
    return session.scalars(stmt).all()


def latest_checkin(
    session: Session, *, case_id: int, collector_id: int, since: datetime, for_update: bool = False
) -> FieldCheckin | None:
    stmt = (
        select(FieldCheckin)
        .where(
            FieldCheckin.case_id == case_id,
            FieldCheckin.collector_id == collector_id,
            FieldCheckin.checked_in_at >= since,
        )
        .order_by(FieldCheckin.checked_in_at.desc(), FieldCheckin.id.desc())
        .limit(1)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def files_of(session: Session, checkin_ids: Sequence[int]) -> Sequence[FieldVisitFile]:
    if not checkin_ids:
        return []
    stmt = (
        select(FieldVisitFile)
        .where(FieldVisitFile.checkin_id.in_(list(checkin_ids)))
        .order_by(FieldVisitFile.id)
    )
    return session.scalars(stmt).all()
