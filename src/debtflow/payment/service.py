"""Booking a payment: idempotent on its reference, split fees → penalty → interest →
principal, and the case moved to paying (or settled when nothing is left)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from debtflow import evidence
from debtflow.case import service as case_service
from debtflow.core.case import reasons
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.errors import Conflict, InvalidInput, NotFound
from debtflow.core.evidence.leaf import LeafKind
from debtflow.core.strategy.allocation import Outstanding, allocate
from debtflow.db import utcnow
from debtflow.models import Payment
from debtflow.payment import repository


class InvalidPayment(InvalidInput):
    code = "invalid_payment"


def book(
    session: Session,
    *,
    account_id: int,
    amount_fen: int,
    paid_at: datetime,
    reference: str,
    channel: str = "bank_transfer",
    actor: str = "system",
    now: datetime | None = None,
) -> Payment:
    """Book a payment once. Booking the same reference again returns the first booking;
    the same reference with a different amount or account is refused. ``paid_at`` is when
    the money was paid (the provider's or the bank's word); ``now``, the server's time of
    booking (``recorded_at``), is what a signed repayment plan counts payments by."""
    if amount_fen <= 0:
        raise InvalidPayment("a payment must be a positive amount of fen")
    if paid_at.tzinfo is None:
        raise InvalidPayment("payment time must carry a time zone")
    if not reference.strip():
        raise InvalidPayment("a payment needs a reference (the provider's transaction id)")
    existing = repository.by_reference(session, reference=reference)
    if existing is not None:
        if existing.account_id != account_id or existing.amount_fen != amount_fen:
            raise Conflict(
                f"reference {reference} was already booked for {existing.amount_fen} fen "
                f"on account {existing.account_id}"
            )
        return existing
    account = repository.account_for_update(session, account_id=account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    split = allocate(
        amount_fen,
        Outstanding(
            fees_fen=account.fees_fen,
            penalty_fen=account.penalty_fen,
            interest_fen=account.interest_fen,
            principal_fen=account.principal_fen,
        ),
    )
    account.fees_fen = split.remaining.fees_fen
    account.penalty_fen = split.remaining.penalty_fen
    account.interest_fen = split.remaining.interest_fen
    account.principal_fen = split.remaining.principal_fen
    payment = Payment(
        account_id=account.id,
        case_id=account.case_id,
        amount_fen=amount_fen,
        paid_at=paid_at,
        channel=channel,
        reference=reference,
        to_fees_fen=split.to_fees_fen,
        to_penalty_fen=split.to_penalty_fen,
        to_interest_fen=split.to_interest_fen,
        to_principal_fen=split.to_principal_fen,
        overpaid_fen=split.overpaid_fen,
        recorded_at=now or utcnow(),
    )
    repository.add(session, payment)
    case = case_service.get(session, case_id=account.case_id, for_update=True)
    case.outstanding_fen = max(0, case.outstanding_fen - split.applied_fen)
    session.flush()
    evidence.append(
        session,
        kind=LeafKind.PAYMENT,
        case_id=payment.case_id,
        occurred_at=paid_at,
        payload={
            "account_id": payment.account_id,
            "amount_fen": amount_fen,
            "channel": channel,
            "overpaid_fen": split.overpaid_fen,
            "payment_id": payment.id,
            "reference": reference,
            "to_fees_fen": split.to_fees_fen,
            "to_interest_fen": split.to_interest_fen,
            "to_penalty_fen": split.to_penalty_fen,
            "to_principal_fen": split.to_principal_fen,
        },
    )
    if case.status in (CaseStatus.NEW, CaseStatus.ACTIVE, CaseStatus.PROMISED):
        case_service.apply_transition(
            session,
            case,
            to=CaseStatus.PAYING,
            reason=reasons.payment_booked(reference),
            actor=actor,
        )
    # whatever the channel, the payment that completes a signed repayment plan waives the
    # agreed relief and settles the case (the portal holds the plans; imported here because
    # the portal books its own payments through this service)
    from debtflow.portal import plan_ending

    plan_ending.complete_plan_if_paid(session, case_id=payment.case_id, at=paid_at)
    return payment
