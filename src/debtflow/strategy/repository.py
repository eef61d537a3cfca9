"""All SQL of the nightly strategy: what scoring, segmentation and treatment read, and the
results they write back to the case."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from debtflow.bulk import update_by_id
from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.models import Case, ContactAttempt, Creditor, Debtor, PromiseToPay
from debtflow.models.enums import PromiseStatus


def open_case_chunks(session: Session, *, size: int) -> Iterator[Sequence[Any]]:
    """Open cases with their debtor's profile and creditor's mandate, ``size`` at a time."""
    last_id = 0
    while True:
        stmt = (
            select(
                Case.id,
                Case.creditor_id,
                Case.days_past_due,
                Case.overdue_cause,
                Case.strategy_digest,
                Debtor.birth_date,
                Debtor.employer,
                Debtor.debtor_type,
                Debtor.monthly_income_fen,
                Debtor.other_debts_fen,
                Debtor.monthly_spending_fen,
                Debtor.monthly_revenue_fen,
                Creditor.max_relief_bp,
                Creditor.max_term_months,
                Creditor.min_first_payment_bp,
            )
            .join(Debtor, Debtor.id == Case.debtor_id)
            .join(Creditor, Creditor.id == Case.creditor_id)
            .where(Case.status.in_(list(OPEN_STATUSES)), Case.id > last_id)
            .order_by(Case.id)
            .limit(size)
        )
        rows = session.execute(stmt).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def accounts_between(session: Session, *, first: int, last: int) -> list[tuple[Any, ...]]:
    """(case id, principal, interest, fees, penalty, instalment, credit limit, original,
    repayment history as JSON text) of the accounts of cases ``first``..``last``.

    Read through the driver: the history stays JSON text for the caller to decode, which is
    several times faster than SQLAlchemy's per-row JSON processing on a million rows."""
    mark = "?" if session.get_bind().dialect.name == "sqlite" else "%s"
    history = "repayment_history" + (
        "::text" if session.get_bind().dialect.name == "postgresql" else ""
    )
    sql = (
        "SELECT case_id, principal_fen, interest_fen, fees_fen, penalty_fen, instalment_fen, "
        f"credit_limit_fen, original_fen, {history} FROM account "
        f"WHERE case_id BETWEEN {mark} AND {mark}"
    )
    cursor = session.connection().exec_driver_sql(sql, (first, last))
    return [tuple(row) for row in cursor.fetchall()]


def broken_promises_between(session: Session, *, first: int, last: int) -> dict[int, int]:
    stmt = (
        select(PromiseToPay.case_id, func.count())
        .where(
            PromiseToPay.case_id.between(first, last),
            PromiseToPay.status == PromiseStatus.BROKEN,
        )
        .group_by(PromiseToPay.case_id)
    )
    return {case_id: int(n) for case_id, n in session.execute(stmt).all()}


def failed_contact_streaks_between(session: Session, *, first: int, last: int) -> dict[int, int]:
    """Per case: attempts that reached nobody since the last connected one."""
    last_connected = (
        select(
            ContactAttempt.case_id.label("case_id"),
            func.max(ContactAttempt.attempted_at).label("at"),
        )
        .where(ContactAttempt.case_id.between(first, last), ContactAttempt.connected.is_(True))
        .group_by(ContactAttempt.case_id)
        .subquery()
    )
    stmt = (
        select(ContactAttempt.case_id, func.count())
        .outerjoin(last_connected, last_connected.c.case_id == ContactAttempt.case_id)
        .where(
            ContactAttempt.case_id.between(first, last),
            ContactAttempt.connected.is_(False),
            (last_connected.c.at.is_(None)) | (ContactAttempt.attempted_at > last_connected.c.at),
        )
        .group_by(ContactAttempt.case_id)
    )
    return {case_id: int(n) for case_id, n in session.execute(stmt).all()}


def save_strategy(session: Session, updates: Sequence[dict[str, Any]]) -> None:
    """Write strategy results by case id through the driver (one statement, many rows)."""
    update_by_id(session, "case", updates)


def case_inputs(session: Session, *, case_id: int) -> Any:
    stmt = (
        select(Case, Debtor, Creditor)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .where(Case.id == case_id)
    )
    return session.execute(stmt).one_or_none()
