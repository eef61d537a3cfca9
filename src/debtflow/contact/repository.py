"""All SQL of contact attempts. The ONLY place in debtflow that creates a ContactAttempt
(tests/contact/test_no_bypass.py checks this): call it through ``service.log_contact``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from debtflow.models import ContactAttempt, ContactDecision
from debtflow.models.enums import ContactDirection, ContactParty


def add_attempt(
    session: Session,
    *,
    decision: ContactDecision,
    attempted_at: datetime,
    connected: bool,
    conversation: bool,
    outcome: str | None,
    note: str | None,
) -> ContactAttempt:
    """Write the attempt a gate decision permitted; who, what and to whom come from it."""
    attempt = ContactAttempt(
        decision_id=decision.id,
        case_id=decision.case_id,
        debtor_id=decision.debtor_id,
        account_id=decision.account_id,
        collector_id=decision.collector_id,
        collecting_party=decision.collecting_party,
        contact_point_id=decision.contact_point_id,
        channel=decision.channel,
        direction=ContactDirection.OUTBOUND,
        party=ContactParty(decision.target),
        attempted_at=attempted_at,
        connected=connected or conversation,
        conversation=conversation,
        outcome=outcome,
        note=note,
    )
    session.add(attempt)
    return attempt


def attempts_of_case(session: Session, *, case_id: int) -> Sequence[ContactAttempt]:
    stmt = (
        select(ContactAttempt)
        .where(ContactAttempt.case_id == case_id)
        .order_by(ContactAttempt.attempted_at, ContactAttempt.id)
    )
    return session.scalars(stmt).all()


def attempt_of_case(session: Session, *, case_id: int, attempt_id: int) -> ContactAttempt | None:
    stmt = select(ContactAttempt).where(
        ContactAttempt.id == attempt_id, ContactAttempt.case_id == case_id
    )
    return session.scalars(stmt).first()
