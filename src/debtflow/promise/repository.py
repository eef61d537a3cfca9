"""All SQL of promises to pay."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from debtflow.models import PromiseToPay
from debtflow.models.enums import PromiseStatus


def pending(session: Session) -> Sequence[PromiseToPay]:
    stmt = select(PromiseToPay).where(PromiseToPay.status == PromiseStatus.PENDING)
    return session.scalars(stmt.order_by(PromiseToPay.id)).all()


def pending_for_case(session: Session, *, case_id: int) -> Sequence[PromiseToPay]:
    stmt = select(PromiseToPay).where(
        PromiseToPay.case_id == case_id, PromiseToPay.status == PromiseStatus.PENDING
    )
    return session.scalars(stmt).all()


def add(session: Session, promise: PromiseToPay) -> None:
    session.add(promise)
