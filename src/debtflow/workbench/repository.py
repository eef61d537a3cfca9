"""All SQL of the workbench: the priority queue and the per-case look-ups the case page
needs beyond the case domain's own."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from debtflow.core.compliance.contact import Target
from debtflow.db import BuiltOnce
from debtflow.models import (
    Case,
    Collector,
    ContactDecision,
    ContactPoint,
    Creditor,
    Debtor,
    DispatchAssignment,
)
from debtflow.models.enums import CaseStatus, ContactParty

QueueRow = tuple[Case, Debtor, Creditor, Collector | None, int | None]


def queue(
    session: Session,
    *,
    collector_id: int | None,
    bucket: str | None,
    status: CaseStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[QueueRow], int]:
    """Cases (all, or one collector's) in dispatch priority order: the expected value of the
    case's latest dispatch assignment, highest first; cases never dispatched come last, by
    days past due. Returns one page and the total."""
    latest_value = (
        select(DispatchAssignment.value_fen)
        .where(DispatchAssignment.case_id == Case.id)
        .order_by(DispatchAssignment.assigned_at.desc(), DispatchAssignment.id.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
        .label("value_fen")
    )
    stmt = (
        select(Case, Debtor, Creditor, Collector, latest_value)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .outerjoin(Collector, Collector.id == Case.assigned_collector_id)
    )
    count = select(func.count()).select_from(Case)
    conditions = []
    if bucket is not None:
        conditions.append(Case.bucket == bucket)
    if status is not None:
        conditions.append(Case.status == status)
    if collector_id is not None:
        conditions.append(Case.assigned_collector_id == collector_id)
    if conditions:
        stmt = stmt.where(*conditions)
        count = count.where(*conditions)
    stmt = (
        stmt.order_by(latest_value.desc().nulls_last(), Case.days_past_due.desc(), Case.id)
        .limit(limit)
        .offset(offset)
    )
    rows = [
        (r[0], r[1], r[2], r[3], None if r[4] is None else int(r[4]))
        for r in session.execute(stmt).all()
    ]
    return rows, int(session.scalar(count) or 0)


def latest_decisions(session: Session, *, case_ids: Sequence[int]) -> dict[int, ContactDecision]:
    """The latest compliance-gate decision about contacting the debtor of each of
    ``case_ids`` that has one (a decision about a third party says nothing of whether the
    debtor may be contacted)."""
    if not case_ids:
        return {}
    newest = (
        select(func.max(ContactDecision.id))
        .where(
            ContactDecision.case_id.in_(list(case_ids)),
            ContactDecision.target == Target.DEBTOR.value,
        )
        .group_by(ContactDecision.case_id)
    )
    stmt = select(ContactDecision).where(ContactDecision.id.in_(newest))
    return {row.case_id: row for row in session.scalars(stmt).all()}


@BuiltOnce
def _third_party_points(dialect: str) -> Select[tuple[ContactPoint]]:
    return (
        select(ContactPoint)
        .where(
            ContactPoint.debtor_id == bindparam("debtor_id"),
            ContactPoint.party == ContactParty.THIRD_PARTY,
            ContactPoint.valid.is_(True),
        )
        .order_by(ContactPoint.id)
    )


def third_party_points(session: Session, *, debtor_id: int) -> Sequence[ContactPoint]:
    """The debtor's third-party contact points that are still valid."""
    return session.scalars(_third_party_points(session), {"debtor_id": debtor_id}).all()
