"""All SQL of cases."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from debtflow.db import BuiltOnce, get_by_id
from debtflow.models import Case, CaseStatusChange, Collector, Creditor, Debtor
from debtflow.models.enums import CaseStatus


def get(session: Session, *, case_id: int, for_update: bool = False) -> Case | None:
    """The case; with ``for_update`` its row is locked until the transaction ends
    (PostgreSQL ``FOR UPDATE``; SQLite has no row locks, so a no-op UPDATE of the row takes
    the database write lock instead — made the transaction's first statement, it serialises
    the writers without stale reads). Without ``for_update`` a case this session already
    loaded comes from its identity map, without a statement (one request checks the scope
    of the same case several times); a locked read always refreshes it from the row."""
    if not for_update:
        return get_by_id(session, Case, case_id)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Case).where(Case.id == case_id).values(id=Case.id))
    # populate_existing: a copy this session loaded before the lock is overwritten with the
    # row as it is now, so a writer that waited for the lock never works on stale values
    stmt = (
        select(Case)
        .where(Case.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one_or_none()


@BuiltOnce
def _reach(dialect: str) -> Select[tuple[int, int | None]]:
    return select(Case.debtor_id, Case.assigned_collector_id).where(Case.id == bindparam("case_id"))


def reach(session: Session, *, case_id: int) -> tuple[int, int | None] | None:
    """(debtor id, assigned collector id) of the case — what a scope check needs — without
    loading the case; None for an unknown case."""
    row = session.execute(_reach(session), {"case_id": case_id}).one_or_none()
    return None if row is None else (row[0], row[1])


def get_with_accounts(session: Session, *, case_id: int) -> Case | None:
    stmt = select(Case).where(Case.id == case_id).options(selectinload(Case.accounts))
    return session.scalars(stmt).one_or_none()


def list_cases(
    session: Session,
    *,
    bucket: str | None = None,
    status: CaseStatus | None = None,
    collector_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[Sequence[tuple[Case, Debtor, Creditor, Collector | None]], int]:
    stmt = (
        select(Case, Debtor, Creditor, Collector)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .outerjoin(Collector, Collector.id == Case.assigned_collector_id)
    )
    count = select(func.count()).select_from(Case)
    if bucket is not None:
        stmt = stmt.where(Case.bucket == bucket)
        count = count.where(Case.bucket == bucket)
    if status is not None:
        stmt = stmt.where(Case.status == status)
        count = count.where(Case.status == status)
    if collector_id is not None:
        stmt = stmt.where(Case.assigned_collector_id == collector_id)
        count = count.where(Case.assigned_collector_id == collector_id)
    stmt = stmt.order_by(Case.days_past_due.desc(), Case.id).limit(limit).offset(offset)
    rows = [(r[0], r[1], r[2], r[3]) for r in session.execute(stmt).all()]
    return rows, int(session.scalar(count) or 0)


@BuiltOnce
def _row(dialect: str) -> Select[tuple[Case, Debtor, Creditor, Collector | None]]:
    return (
        select(Case, Debtor, Creditor, Collector)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .outerjoin(Collector, Collector.id == Case.assigned_collector_id)
        .where(Case.id == bindparam("case_id"))
    )


def get_row(
    session: Session, *, case_id: int
) -> tuple[Case, Debtor, Creditor, Collector | None] | None:
    row = session.execute(_row(session), {"case_id": case_id}).one_or_none()
    return None if row is None else (row[0], row[1], row[2], row[3])


def add_status_change(session: Session, change: CaseStatusChange) -> None:
    session.add(change)


@BuiltOnce
def _status_history(dialect: str) -> Select[tuple[CaseStatusChange]]:
    return (
        select(CaseStatusChange)
        .where(CaseStatusChange.case_id == bindparam("case_id"))
        .order_by(CaseStatusChange.id)
    )


def status_history(session: Session, *, case_id: int) -> Sequence[CaseStatusChange]:
    return session.scalars(_status_history(session), {"case_id": case_id}).all()


def bucket_summary(session: Session) -> Sequence[tuple[str, int, int]]:
    """(bucket, open cases, outstanding fen) for every bucket that has open cases."""
    from debtflow.core.case.lifecycle import OPEN_STATUSES

    stmt = (
        select(Case.bucket, func.count(), func.coalesce(func.sum(Case.outstanding_fen), 0))
        .where(Case.status.in_(list(OPEN_STATUSES)))
        .group_by(Case.bucket)
    )
    return [(b, int(n), int(f)) for b, n, f in session.execute(stmt).all()]
