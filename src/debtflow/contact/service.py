"""Contact operations. Every path that reaches a debtor goes through these two calls:

1. ``request_contact`` asks the compliance gate before the contact and stores its decision
   (allow or deny, reasons, pack version, next allowed time);
2. ``log_contact`` records what happened, only against an allowed (or supervisor-overridden)
   decision, re-checked at the actual contact time under the same per-debtor lock.

The API, the web pages, the dialer hook, field visits, part-time collectors and partners all
call these; nothing else writes a contact attempt.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from debtflow import evidence
from debtflow.compliance import service as compliance_service
from debtflow.compliance.service import ContactAsk
from debtflow.contact import repository
from debtflow.core.evidence.leaf import LeafKind
from debtflow.models import ContactAttempt, ContactDecision

# Ask the gate whether one contact may happen; the stored decision is returned either way
# (``allowed``, ``reasons``, ``next_allowed_at``). The gate itself is the compliance service.
request_contact = compliance_service.decide


def request_contacts(
    session: Session, *, asks: Sequence[ContactAsk], now: datetime | None = None
) -> list[ContactDecision]:
    """Ask the gate about a batch of contacts (a dialer's next numbers) in one transaction;
    every decision is stored, in order. Two asks for the same debtor in one batch are
    decided one after the other, so they cannot both take the last allowed call."""
    return compliance_service.decide_many(session, asks=asks, now=now)


def log_contact(
    session: Session,
    *,
    decision_id: int,
    attempted_at: datetime,
    connected: bool,
    conversation: bool = False,
    outcome: str | None = None,
    note: str | None = None,
    now: datetime | None = None,
    authorize: compliance_service.Authorize | None = None,
) -> ContactAttempt:
    """Record a contact made under ``decision_id``. Refused (ContactNotPermitted) for a deny
    without a supervisor override, an already used or expired decision, or a contact the
    gate refuses at ``attempted_at``; and by ``authorize``, run on the decision as soon as
    it is read under its debtor's lock."""
    decision = compliance_service.permit_attempt(
        session, decision_id=decision_id, attempted_at=attempted_at, now=now, authorize=authorize
    )
    attempt = repository.add_attempt(
        session,
        decision=decision,
        attempted_at=attempted_at,
        connected=connected,
        conversation=conversation,
        outcome=outcome,
        note=note,
    )
    session.flush()
    # appended when the request commits: the log's lock is then held for the append and the
    # COMMIT only, not for the rest of the request (see debtflow.evidence.log)
    evidence.append_at_commit(
        session,
        kind=LeafKind.CONTACT_ATTEMPT,
        case_id=decision.case_id,
        occurred_at=attempted_at,
        payload={
            "attempt_id": attempt.id,
            "channel": decision.channel,
            "collecting_party": decision.collecting_party,
            "connected": connected,
            "conversation": conversation,
            "gate": {
                "allowed": decision.allowed,
                "decision_id": decision.id,
                "pack_version": decision.pack_version,
                "reasons": list(decision.reasons),
            },
            "outcome": outcome,
            "requested_by": decision.requested_by,
            "target": decision.target,
        },
    )
    return attempt


def contacts_of_case(session: Session, *, case_id: int) -> Sequence[ContactAttempt]:
    return repository.attempts_of_case(session, case_id=case_id)


def contact_of_case(
    session: Session, *, case_id: int, attempt_id: int, for_update: bool = False
) -> ContactAttempt | None:
    """The logged contact ``attempt_id`` when it belongs to case ``case_id``, else None
    (``for_update``: locked until the transaction ends)."""
    return repository.attempt_of_case(
        session, case_id=case_id, attempt_id=attempt_id, for_update=for_update
    )
