"""All SQL of payments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from debtflow.models import Account, Payment


def by_reference(session: Session, *, reference: str) -> Payment | None:
    return session.scalars(select(Payment).where(Payment.reference == reference)).one_or_none()


def account_for_update(session: Session, *, account_id: int) -> Account | None:
    return session.scalars(
        select(Account).where(Account.id == account_id).with_for_update()
    ).one_or_none()


def add(session: Session, payment: Payment) -> None:
    session.add(payment)


def paid_by_account_before(
    session: Session, *, account_ids: Sequence[int], before: datetime
) -> dict[int, int]:
    """Sum of payments per account made strictly before ``before``."""
    out: dict[int, int] = {}
    for start in range(0, len(account_ids), 5000):
        chunk = list(account_ids[start : start + 5000])
        stmt = (
            select(Payment.account_id, func.sum(Payment.amount_fen))
            .where(Payment.account_id.in_(chunk), Payment.paid_at < before)
            .group_by(Payment.account_id)
        )
        out.update({a: int(s) for a, s in session.execute(stmt).all()})
    return out


def payments_of_cases(
    session: Session, *, case_ids: Sequence[int], before: datetime
) -> dict[int, list[tuple[datetime, int]]]:
    out: dict[int, list[tuple[datetime, int]]] = {}
    for start in range(0, len(case_ids), 5000):
        chunk = list(case_ids[start : start + 5000])
        stmt = select(Payment.case_id, Payment.paid_at, Payment.amount_fen).where(
            Payment.case_id.in_(chunk), Payment.paid_at < before
        )
        for case_id, paid_at, amount in session.execute(stmt).all():
            out.setdefault(case_id, []).append((paid_at, int(amount)))
    return out
