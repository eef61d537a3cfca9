"""All SQL of contact attempts. The ONLY place in debtflow that creates a ContactAttempt
(tests/contact/test_no_bypass.py checks this): call it through ``service.log_contact``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import Session

from debtflow.db import BuiltOnce
from debtflow.models import Case, Collector, ContactAttempt, ContactDecision
from debtflow.models.enums import CollectorKind, ContactDirection, ContactParty


@BuiltOnce
def _reach_and_collector(
    dialect: str,
) -> Select[tuple[int, int | None, CollectorKind | None, str | None]]:
    statement = (
        select(Case.debtor_id, Case.assigned_collector_id, Collector.kind, Collector.code)
        .select_from(Case)
        .outerjoin(Collector, Collector.id == bindparam("collector_id", type_=Integer))
        .where(Case.id == bindparam("case_id"))
    )
    # the outer join makes the collector's columns optional, which the typing cannot see
    return cast(Select[tuple[int, int | None, CollectorKind | None, str | None]], statement)


def reach_and_collector(
    session: Session, *, case_id: int, collector_id: int | None
) -> tuple[int, int | None, CollectorKind | None, str | None] | None:
    """What asking the gate about a case needs besides the gate itself, in one statement:
    the case's debtor and assigned collector (the caller's scope check) and the kind and
    code of the caller's collector row (who the contact is made for; None, None without
    one). None for an unknown case."""
    row = session.execute(
        _reach_and_collector(session), {"case_id": case_id, "collector_id": collector_id}
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


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


def attempt_of_case(
    session: Session, *, case_id: int, attempt_id: int, for_update: bool = False
) -> ContactAttempt | None:
    stmt = select(ContactAttempt).where(
        ContactAttempt.id == attempt_id, ContactAttempt.case_id == case_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()
