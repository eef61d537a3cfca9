"""All SQL of creditors."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from debtflow.models import Creditor


def by_code(session: Session, *, code: str) -> Creditor | None:
    return session.scalars(select(Creditor).where(Creditor.code == code)).one_or_none()


def all_creditors(session: Session) -> Sequence[Creditor]:
    return session.scalars(select(Creditor).order_by(Creditor.code)).all()


def add(session: Session, creditor: Creditor) -> None:
    session.add(creditor)
