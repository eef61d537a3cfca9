"""All SQL of the debtor portal and of case histories."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from debtflow.models import Account, Case, ContactAttempt, Creditor, Payment, PromiseToPay


def cases_of_debtor(session: Session, *, debtor_id: int) -> Sequence[tuple[Case, Creditor]]:
    stmt = (
        select(Case, Creditor)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .where(Case.debtor_id == debtor_id)
        .order_by(Case.id)
    )
    return [(r[0], r[1]) for r in session.execute(stmt).all()]


def accounts_of_cases(session: Session, *, case_ids: Sequence[int]) -> Sequence[Account]:
    if not case_ids:
        return []
    stmt = select(Account).where(Account.case_id.in_(list(case_ids))).order_by(Account.id)
    return session.scalars(stmt).all()


def payments_of_case(session: Session, *, case_id: int, limit: int = 50) -> Sequence[Payment]:
    stmt = (
        select(Payment)
        .where(Payment.case_id == case_id)
        .order_by(Payment.paid_at.desc(), Payment.id.desc())
        .limit(limit)
    )
    return session.scalars(stmt).all()


def promises_of_case(session: Session, *, case_id: int, limit: int = 50) -> Sequence[PromiseToPay]:
    stmt = (
        select(PromiseToPay)
        .where(PromiseToPay.case_id == case_id)
        .order_by(PromiseToPay.id.desc())
        .limit(limit)
    )
    return session.scalars(stmt).all()


def contacts_of_case(
    session: Session, *, case_id: int, limit: int = 50
) -> Sequence[ContactAttempt]:
    stmt = (
        select(ContactAttempt)
        .where(ContactAttempt.case_id == case_id)
        .order_by(ContactAttempt.attempted_at.desc(), ContactAttempt.id.desc())
        .limit(limit)
    )
    return session.scalars(stmt).all()
