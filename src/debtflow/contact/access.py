"""Contacts on behalf of a signed-in user: the case must be in the user's reach, and who is
asking, for which collector and party, comes from the user — never from the request body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, require
from debtflow.case import service as case_service
from debtflow.collector import repository as collector_repository
from debtflow.compliance.repository import LockedDecision
from debtflow.compliance.service import ContactAsk, DecisionNotFound
from debtflow.contact import repository, service
from debtflow.models import Collector, ContactAttempt, ContactDecision, User
from debtflow.models.enums import CollectorKind


def collecting_party(collector: Collector | None) -> str:
    """The party the contact is made for: in-house staff, or the agency / law firm /
    part-time collector the user's collector row belongs to."""
    if collector is None:
        return "in-house"
    return party_of(collector.kind, collector.code)


def party_of(kind: CollectorKind, code: str) -> str:
    if kind in (CollectorKind.ONLINE_AGENT, CollectorKind.FIELD_AGENT):
        return "in-house"
    return f"{kind.value}:{code}"


def _identity(user: User, kind: CollectorKind | None, code: str | None) -> dict[str, Any]:
    return {
        "requested_by": user.username,
        "collector_id": user.collector_id,
        "collecting_party": "in-house" if kind is None or code is None else party_of(kind, code),
    }


def _identity_of(session: Session, user: User) -> dict[str, Any]:
    found = (
        collector_repository.kind_and_code(session, collector_id=user.collector_id)
        if user.collector_id is not None
        else None
    )
    return _identity(user, *(found or (None, None)))


def request_contact(session: Session, *, user: User, case_id: int, **ask: Any) -> ContactDecision:
    require(user, Permission.CONTACT_DEBTORS)
    # the scope check's two columns and the caller's collector in one statement
    found = repository.reach_and_collector(session, case_id=case_id, collector_id=user.collector_id)
    case_service.check_read_reach(
        user, case_id=case_id, reach=None if found is None else (found[0], found[1])
    )
    assert found is not None  # an unknown case was refused above
    return service.request_contact(
        session, case_id=case_id, **ask, **_identity(user, found[2], found[3])
    )


def request_contacts(
    session: Session, *, user: User, asks: Sequence[ContactAsk]
) -> list[ContactDecision]:
    require(user, Permission.CONTACT_DEBTORS)
    identity = _identity_of(session, user)
    for ask in asks:
        case_service.check_reach(session, case_id=ask.case_id, user=user)
    return service.request_contacts(session, asks=[replace(ask, **identity) for ask in asks])


def log_contact(
    session: Session,
    *,
    user: User,
    decision_id: int,
    attempted_at: datetime,
    connected: bool,
    conversation: bool = False,
    outcome: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> ContactAttempt:
    """Only the user who asked the gate may log the contact it decided, and only while the
    case is in their reach. Both are checked on the decision read with its debtor's lock
    (one statement: no separate read of the decision before the lock)."""
    require(user, Permission.CONTACT_DEBTORS)

    def the_caller_asked(locked: LockedDecision) -> None:
        decision = locked.decision
        if decision.requested_by != user.username:
            raise DecisionNotFound(f"gate decision {decision_id} does not exist")
        case_service.check_read_reach(
            user,
            case_id=decision.case_id,
            reach=(locked.subject.debtor_id, locked.assigned_collector_id),
        )

    return service.log_contact(
        session,
        decision_id=decision_id,
        attempted_at=attempted_at,
        connected=connected,
        conversation=conversation,
        outcome=outcome,
        note=note,
        authorize=the_caller_asked,
        now=now,
    )


def contacts_of_case(session: Session, *, user: User, case_id: int) -> Sequence[ContactAttempt]:
    require(user, Permission.VIEW_CASES)
    case_service.check_reach(session, case_id=case_id, user=user)
    return service.contacts_of_case(session, case_id=case_id)
