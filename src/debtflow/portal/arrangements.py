"""What the debtor arranged or asked for in the portal, as staff meet it on the case page and
in the case API: the plan they signed (its terms, the monthly instalment it asks now, the next
payment and what was paid towards it), the disputes holding the case and the open
legal-advice requests. Re-exported by ``service.py``; nothing here commits.

A dispute is what the contact gate calls one: a ``dispute`` restriction in force on the case
or on every case of its debtor (``compliance_service.disputes_in_force``) — filed by the
debtor in the portal, or recorded by an agent or officer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, permits, require
from debtflow.case import service as case_service
from debtflow.compliance import service as compliance_service
from debtflow.core.conversation.scripts import AgreedPlan
from debtflow.core.portal.plan import instalment_ordinals, monthly_instalment, next_due
from debtflow.db import utcnow
from debtflow.models import User
from debtflow.models.portal import LEGAL_OPEN, PLAN_SIGNED
from debtflow.portal import repository
from debtflow.portal.plans import dated_instalments


@dataclass(frozen=True)
class SignedPlan:
    """The plan the debtor signed (``signed``: in force; ``completed``: paid in full)."""

    plan_id: int
    status: str
    signed_at: datetime | None
    signer_name: str | None
    term_months: int
    #: monthly instalments with something due (the down payment and grace months left out)
    instalment_count: int
    #: the monthly instalment the plan asks now (0 once everything is paid)
    monthly_fen: int
    relief_fen: int
    down_payment_fen: int
    total_fen: int
    #: booked on the case since the signature
    paid_fen: int
    #: the next payment not covered yet and what is still owed on it (None: all paid)
    next_due_on: date | None
    next_due_fen: int

    @property
    def in_force(self) -> bool:
        return self.status == PLAN_SIGNED

    def script_terms(self) -> AgreedPlan:
        """The plan as a script may speak of it."""
        return AgreedPlan(
            instalment_count=self.instalment_count,
            instalment_fen=self.monthly_fen,
            next_due=self.next_due_on,
            next_due_fen=self.next_due_fen,
        )


@dataclass(frozen=True)
class DisputeHold:
    """A dispute holding the case: since when, why, and whether the debtor filed it in the
    portal (``portal``) or someone recorded it (``recorded``, with who)."""

    restriction_id: int
    since: datetime
    reason: str
    status: str
    source: str
    set_by: str
    file_name: str | None


@dataclass(frozen=True)
class LegalRequest:
    """An open legal-advice request (one recorded as handled is not shown on the case); the
    question only for those who may read the legal-advice requests (managers, admins),
    otherwise None."""

    id: int
    created_at: datetime
    contact_channel: str
    contact_time: str
    status: str
    question: str | None


@dataclass(frozen=True)
class Arrangements:
    plan: SignedPlan | None
    disputes: Sequence[DisputeHold]
    legal_requests: Sequence[LegalRequest]

    @property
    def plan_in_force(self) -> SignedPlan | None:
        """The signed plan while it is being paid, else None."""
        return self.plan if self.plan is not None and self.plan.in_force else None

    @property
    def disputed(self) -> bool:
        return bool(self.disputes)


def arrangements_of_case(
    session: Session, *, case_id: int, user: User, now: datetime | None = None
) -> Arrangements:
    """The debtor's signed plan, disputes in force at ``now`` and open legal-advice requests
    of a case in ``user``'s reach (404 otherwise, as for a missing case)."""
    require(user, Permission.VIEW_CASES)
    case = case_service.get_for_user(session, case_id=case_id, user=user)
    at = now or utcnow()
    holds = compliance_service.disputes_in_force(session, case=case, at=at)
    filed = repository.disputes_of_restrictions(session, restriction_ids=[h.id for h in holds])
    disputes = []
    for hold in holds:
        dispute = filed.get(hold.id)
        disputes.append(
            DisputeHold(
                restriction_id=hold.id,
                since=dispute.created_at if dispute is not None else hold.starts_at,
                reason=dispute.reason if dispute is not None else hold.reason,
                status=dispute.status if dispute is not None else "open",
                source="portal" if dispute is not None else "recorded",
                set_by=hold.set_by,
                file_name=dispute.file_name if dispute is not None else None,
            )
        )
    readable = permits(user, Permission.VIEW_LEGAL_REQUESTS)
    legal = [
        LegalRequest(
            id=row.id,
            created_at=row.created_at,
            contact_channel=row.contact_channel,
            contact_time=row.contact_time,
            status=row.status,
            question=row.question if readable else None,
        )
        for row in repository.legal_requests_of_case(session, case_id=case.id, status=LEGAL_OPEN)
    ]
    return Arrangements(
        plan=_signed_plan(session, case_id=case.id), disputes=disputes, legal_requests=legal
    )


def signed_plan_of_case(session: Session, *, case_id: int, user: User) -> SignedPlan | None:
    """The plan the debtor signed on a case in ``user``'s reach, or None."""
    require(user, Permission.VIEW_CASES)
    case = case_service.get_for_user(session, case_id=case_id, user=user)
    return _signed_plan(session, case_id=case.id)


def signed_plan_of(session: Session, *, case_id: int) -> SignedPlan | None:
    """The plan the debtor signed on a case, or None — for callers that read every case
    (the operator's ``debtflow case explain``); routes use :func:`signed_plan_of_case`."""
    return _signed_plan(session, case_id=case_id)


def _signed_plan(session: Session, *, case_id: int) -> SignedPlan | None:
    found = repository.signed_plan_with_instalments(session, case_id=case_id)
    if found is None:
        return None
    plan, rows, paid = found
    schedule = dated_instalments(rows)
    due = next_due(schedule, paid)
    return SignedPlan(
        plan_id=plan.id,
        status=plan.status,
        signed_at=plan.signed_at,
        signer_name=plan.signer_name,
        term_months=plan.term_months,
        # as the debtor's card and agreement count them: after the grace months, which
        # repay no principal even where they carry interest
        instalment_count=len(instalment_ordinals(schedule)),
        monthly_fen=monthly_instalment(schedule, paid),
        relief_fen=plan.relief_fen,
        down_payment_fen=plan.down_payment_fen,
        total_fen=plan.total_fen,
        paid_fen=paid,
        next_due_on=due[0].due_on if due is not None else None,
        next_due_fen=due[1] if due is not None else 0,
    )
