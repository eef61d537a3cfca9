"""All SQL of the nightly ageing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.models import Account, BucketTransition, Case


def latest_aged_on(session: Session) -> date | None:
    return session.scalar(select(func.max(Account.aged_on)))


def open_account_chunks(session: Session, *, size: int = 5000) -> Iterator[Sequence[Any]]:
    """Accounts of open cases, in id order, ``size`` at a time (keyset pagination)."""
    last_id = 0
    while True:
        stmt = (
            select(
                Account.id,
                Account.case_id,
                Account.first_due_date,
                Account.instalment_fen,
                Account.instalment_count,
                Account.paid_before_fen,
                Account.days_past_due,
                Account.bucket,
                Account.overdue_fen,
                Account.aged_on,
            )
            .join(Case, Case.id == Account.case_id)
            .where(Case.status.in_(list(OPEN_STATUSES)), Account.id > last_id)
            .order_by(Account.id)
            .limit(size)
        )
        rows = session.execute(stmt).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def update_accounts(session: Session, values: Sequence[dict[str, Any]]) -> None:
    """Bulk UPDATE by primary key (``id`` plus the changed columns, same keys in each)."""
    if values:
        session.execute(update(Account), list(values))


def add_transitions(session: Session, values: Sequence[dict[str, Any]]) -> None:
    if values:
        session.execute(BucketTransition.__table__.insert(), list(values))


def case_rollups(session: Session) -> Sequence[Any]:
    """Per open case: worst days past due and total outstanding of its accounts, next to
    what the case row holds now."""
    accounts = (
        select(
            Account.case_id.label("case_id"),
            func.max(Account.days_past_due).label("dpd"),
            func.sum(
                Account.principal_fen
                + Account.interest_fen
                + Account.fees_fen
                + Account.penalty_fen
            ).label("outstanding"),
            func.max(Account.aged_on).label("aged_on"),
        )
        .group_by(Account.case_id)
        .subquery()
    )
    stmt = (
        select(
            Case.id,
            Case.days_past_due,
            Case.bucket,
            Case.outstanding_fen,
            Case.aged_on,
            Case.status,
            accounts.c.dpd,
            accounts.c.outstanding,
            accounts.c.aged_on.label("accounts_aged_on"),
        )
        .join(accounts, accounts.c.case_id == Case.id)
        .where(Case.status.in_(list(OPEN_STATUSES)))
    )
    return session.execute(stmt).all()


def update_cases(session: Session, values: Sequence[dict[str, Any]]) -> None:
    if values:
        session.execute(update(Case), list(values))
