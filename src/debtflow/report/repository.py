"""All SQL of the manager dashboard: small aggregates grouped by collector, segment and
creditor, read in a handful of statements whatever the size of the portfolio."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from debtflow.db import UTCDateTime
from debtflow.models import (
    Account,
    BucketTransition,
    Case,
    Collector,
    ContactAttempt,
    ContactDecision,
    Creditor,
    DenyOverride,
    DispatchAssignment,
    Payment,
    PromiseToPay,
)
from debtflow.models.enums import PromiseStatus

SLICE = (Case.assigned_collector_id, Case.segment, Case.creditor_id)


def _scoped(stmt: Select[Any], creditor_id: int | None) -> Select[Any]:
    return stmt if creditor_id is None else stmt.where(Case.creditor_id == creditor_id)


def creditor_exists(session: Session, *, creditor_id: int) -> bool:
    return session.get(Creditor, creditor_id) is not None


def creditor_names(session: Session) -> dict[int, str]:
    rows = session.execute(select(Creditor.id, Creditor.name).order_by(Creditor.id))
    return {creditor_id: name for creditor_id, name in rows}


def collector_names(session: Session, ids: Sequence[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Collector.id, Collector.name).where(Collector.id.in_(ids)))
    return {row.id: row.name for row in rows}


def collected(
    session: Session, *, since: datetime, until: datetime, creditor_id: int | None
) -> Sequence[Any]:
    """(collector, segment, creditor, fen) applied to the debts by the payments received in
    [since, until): an overpayment is money to refund, not recovery, so it is left out
    (as it is from the placed balance) and the rate cannot pass 100 %."""
    stmt = (
        select(*SLICE, func.sum(Payment.amount_fen - Payment.overpaid_fen))
        .join(Case, Case.id == Payment.case_id)
        .where(Payment.paid_at >= since, Payment.paid_at < until)
        .group_by(*SLICE)
    )
    return session.execute(_scoped(stmt, creditor_id)).all()


def placed(session: Session, *, until: datetime, creditor_id: int | None) -> Sequence[Any]:
    """(collector, segment, creditor, fen): what the accounts of the cases opened before
    ``until`` owe now plus everything already applied to them — the balance placed."""
    owed = (
        select(
            *SLICE,
            func.sum(
                Account.principal_fen
                + Account.interest_fen
                + Account.fees_fen
                + Account.penalty_fen
            ),
        )
        .join(Case, Case.id == Account.case_id)
        .where(Case.opened_at < until)
        .group_by(*SLICE)
    )
    applied = (
        select(*SLICE, func.sum(Payment.amount_fen - Payment.overpaid_fen))
        .join(Case, Case.id == Payment.case_id)
        .where(Case.opened_at < until)
        .group_by(*SLICE)
    )
    return [
        *session.execute(_scoped(owed, creditor_id)).all(),
        *session.execute(_scoped(applied, creditor_id)).all(),
    ]


def resolved_promises(
    session: Session, *, first_day: date, last_day: date, creditor_id: int | None
) -> Sequence[Any]:
    """(collector, segment, creditor, status, count) of promises resolved kept or broken
    on days first_day..last_day; the collector is who took the promise, else the case's."""
    who = func.coalesce(PromiseToPay.collector_id, Case.assigned_collector_id)
    stmt = (
        select(who, Case.segment, Case.creditor_id, PromiseToPay.status, func.count())
        .join(Case, Case.id == PromiseToPay.case_id)
        .where(
            PromiseToPay.status.in_([PromiseStatus.KEPT, PromiseStatus.BROKEN]),
            PromiseToPay.resolved_on >= first_day,
            PromiseToPay.resolved_on <= last_day,
        )
        .group_by(who, Case.segment, Case.creditor_id, PromiseToPay.status)
    )
    return session.execute(_scoped(stmt, creditor_id)).all()


def gate_decisions(
    session: Session, *, since: datetime, until: datetime, creditor_id: int | None
) -> Sequence[Any]:
    """(collector, segment, creditor, allowed, overridden, count) of the gate's decisions
    made in [since, until); the collector is who asked."""
    flag = DenyOverride.id.is_not(None)
    stmt = (
        select(
            ContactDecision.collector_id,
            Case.segment,
            Case.creditor_id,
            ContactDecision.allowed,
            flag,
            func.count(),
        )
        .join(Case, Case.id == ContactDecision.case_id)
        .outerjoin(DenyOverride, DenyOverride.decision_id == ContactDecision.id)
        .where(ContactDecision.decided_at >= since, ContactDecision.decided_at < until)
        .group_by(
            ContactDecision.collector_id,
            Case.segment,
            Case.creditor_id,
            ContactDecision.allowed,
            flag,
        )
    )
    return session.execute(_scoped(stmt, creditor_id)).all()


def assignments(
    session: Session, *, since: datetime, until: datetime, creditor_id: int | None
) -> Sequence[Any]:
    """Assignments made in [since, until): case, collector, segment, creditor, when,
    whether it fit the match rules, and when the case was next assigned (or None)."""
    spans = select(
        DispatchAssignment.case_id,
        DispatchAssignment.collector_id,
        DispatchAssignment.assigned_at,
        DispatchAssignment.fits,
        func.lead(DispatchAssignment.assigned_at, type_=UTCDateTime())
        .over(
            partition_by=DispatchAssignment.case_id,
            order_by=(DispatchAssignment.assigned_at, DispatchAssignment.id),
        )
        .label("ends_at"),
    ).where(DispatchAssignment.assigned_at >= since)
    span = spans.subquery()
    stmt = (
        select(
            span.c.case_id,
            span.c.collector_id,
            Case.segment,
            Case.creditor_id,
            span.c.assigned_at,
            span.c.fits,
            span.c.ends_at,
        )
        .join(Case, Case.id == span.c.case_id)
        .where(span.c.assigned_at < until)
        .order_by(span.c.assigned_at, span.c.case_id)
    )
    return session.execute(_scoped(stmt, creditor_id)).all()


def contact_times(
    session: Session, *, since: datetime, until: datetime, creditor_id: int | None
) -> Sequence[Any]:
    """(case, attempted_at) of the contact attempts since ``since`` on the cases assigned
    in [since, until), oldest first."""
    assigned = select(DispatchAssignment.case_id).where(
        DispatchAssignment.assigned_at >= since, DispatchAssignment.assigned_at < until
    )
    stmt = (
        select(ContactAttempt.case_id, ContactAttempt.attempted_at)
        .where(ContactAttempt.attempted_at >= since, ContactAttempt.case_id.in_(assigned))
        .order_by(ContactAttempt.case_id, ContactAttempt.attempted_at)
    )
    if creditor_id is not None:
        stmt = stmt.join(Case, Case.id == ContactAttempt.case_id).where(
            Case.creditor_id == creditor_id
        )
    return session.execute(stmt).all()


def payments_by_time(
    session: Session, *, since: datetime, until: datetime, creditor_id: int | None
) -> Sequence[Any]:
    """(paid_at, amount_fen) of the payments in [since, until)."""
    stmt = select(Payment.paid_at, Payment.amount_fen).where(
        Payment.paid_at >= since, Payment.paid_at < until
    )
    if creditor_id is not None:
        stmt = stmt.join(Case, Case.id == Payment.case_id).where(Case.creditor_id == creditor_id)
    return session.execute(stmt).all()


def bucket_moves(session: Session, *, first_day: date, creditor_id: int | None) -> Sequence[Any]:
    """Every move on or after ``first_day`` with its account's current bucket and
    placement time, by account then date."""
    stmt = (
        select(
            BucketTransition.account_id,
            BucketTransition.as_of,
            BucketTransition.from_bucket,
            BucketTransition.to_bucket,
            Account.bucket,
            Account.imported_at,
        )
        .join(Account, Account.id == BucketTransition.account_id)
        .where(BucketTransition.as_of >= first_day)
        .order_by(BucketTransition.account_id, BucketTransition.as_of, BucketTransition.id)
    )
    if creditor_id is not None:
        stmt = stmt.where(Account.creditor_id == creditor_id)
    return session.execute(stmt).all()


def unmoved_buckets(
    session: Session, *, first_day: date, placed_before: datetime, creditor_id: int | None
) -> Counter[str]:
    """Accounts placed before ``placed_before`` without a move since ``first_day``, by
    current bucket."""
    moved = exists().where(
        and_(BucketTransition.account_id == Account.id, BucketTransition.as_of >= first_day)
    )
    stmt = (
        select(Account.bucket, func.count())
        .where(Account.imported_at < placed_before, ~moved)
        .group_by(Account.bucket)
    )
    if creditor_id is not None:
        stmt = stmt.where(Account.creditor_id == creditor_id)
    return Counter({bucket: count for bucket, count in session.execute(stmt).all()})
