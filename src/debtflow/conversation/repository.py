"""Every SQL statement of conversation intelligence: stored analyses, the case's overdue
cause learned from what the debtor said, and the alerts raised during calls."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TypeVar

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from debtflow.models import CallAlert, Case, ConversationAnalysis
from debtflow.models.enums import OverdueCause

T = TypeVar("T", bound=tuple[object, ...])


def add_analyses(session: Session, rows: Sequence[ConversationAnalysis]) -> None:
    session.add_all(rows)
    session.flush()


def analyses_of_case(session: Session, *, case_id: int) -> Sequence[ConversationAnalysis]:
    return session.scalars(
        select(ConversationAnalysis)
        .where(ConversationAnalysis.case_id == case_id)
        .order_by(ConversationAnalysis.id)
    ).all()


def analysis_ids_of_attempt(session: Session, *, contact_attempt_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ConversationAnalysis.id)
            .where(ConversationAnalysis.contact_attempt_id == contact_attempt_id)
            .order_by(ConversationAnalysis.id)
        )
    )


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


# --- alerts raised during a call ----------------------------------------------------------


def alert_of_rule(
    session: Session, *, case_id: int, call_ref: str, turn: int, rule: str
) -> CallAlert | None:
    return session.scalars(
        select(CallAlert).where(
            CallAlert.case_id == case_id,
            CallAlert.call_ref == call_ref,
            CallAlert.turn == turn,
            CallAlert.rule == rule,
        )
    ).one_or_none()


def add_alert_once(session: Session, alert: CallAlert) -> CallAlert:
    """Insert the alert unless the same rule already fired on the same turn of the call (two
    posts of the turn at once): then the one already stored is returned."""
    key = {
        "case_id": alert.case_id,
        "call_ref": alert.call_ref,
        "turn": alert.turn,
        "rule": alert.rule,
    }
    found = alert_of_rule(session, **key)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.add(alert)
            session.flush()
    except IntegrityError:  # another request stored the same flag between the read and here
        found = alert_of_rule(session, **key)
        if found is None:
            raise
        return found
    return alert


def alerts_of_turn(
    session: Session, *, case_id: int, call_ref: str, turn: int
) -> Sequence[CallAlert]:
    return session.scalars(
        select(CallAlert)
        .where(CallAlert.case_id == case_id, CallAlert.call_ref == call_ref, CallAlert.turn == turn)
        .order_by(CallAlert.span_start, CallAlert.id)
    ).all()


def alerts_of_call(session: Session, *, case_id: int, call_ref: str) -> Sequence[CallAlert]:
    return session.scalars(
        select(CallAlert)
        .where(CallAlert.case_id == case_id, CallAlert.call_ref == call_ref)
        .order_by(CallAlert.turn, CallAlert.span_start, CallAlert.id)
    ).all()


def _alert_filter(
    query: Select[T], *, open_only: bool, case_id: int | None, severities: Collection[str] | None
) -> Select[T]:
    if open_only:
        query = query.where(CallAlert.acknowledged_at.is_(None))
    if case_id is not None:
        query = query.where(CallAlert.case_id == case_id)
    if severities is not None:
        query = query.where(CallAlert.severity.in_(sorted(severities)))
    return query


def find_alerts(
    session: Session,
    *,
    open_only: bool,
    case_id: int | None,
    severities: Collection[str] | None,
    limit: int,
) -> Sequence[CallAlert]:
    """Newest first."""
    query = _alert_filter(
        select(CallAlert), open_only=open_only, case_id=case_id, severities=severities
    )
    return session.scalars(
        query.order_by(CallAlert.raised_at.desc(), CallAlert.id.desc()).limit(limit)
    ).all()


def count_alerts(
    session: Session, *, open_only: bool, case_id: int | None, severities: Collection[str] | None
) -> int:
    query = _alert_filter(
        select(func.count()).select_from(CallAlert),
        open_only=open_only,
        case_id=case_id,
        severities=severities,
    )
    return int(session.scalar(query) or 0)


def get_alert(session: Session, *, alert_id: int, for_update: bool = False) -> CallAlert | None:
    query = select(CallAlert).where(CallAlert.id == alert_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()
