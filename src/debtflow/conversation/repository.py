"""Every SQL statement of conversation intelligence: stored analyses and the case's
overdue cause learned from what the debtor said."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from debtflow.models import Case, ConversationAnalysis
from debtflow.models.enums import OverdueCause


def add_analyses(session: Session, rows: Sequence[ConversationAnalysis]) -> None:
    session.add_all(rows)
    session.flush()


def analyses_of_case(session: Session, *, case_id: int) -> Sequence[ConversationAnalysis]:
    return session.scalars(
        select(ConversationAnalysis)
        .where(ConversationAnalysis.case_id == case_id)
        .order_by(ConversationAnalysis.id)
    ).all()


def set_cause_if_unknown(session: Session, *, case_id: int, cause: OverdueCause) -> bool:
    """Set the case's overdue cause only while it is still unknown (one guarded UPDATE, so a
    cause recorded meanwhile by someone else is never overwritten). True when it changed."""
    result = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.overdue_cause == OverdueCause.UNKNOWN)
        .values(overdue_cause=cause)
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(result, "rowcount", 0))
