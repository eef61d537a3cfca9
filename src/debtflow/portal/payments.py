"""Paying through the payment provider: starting a payment on the signed plan, the
provider's signed webhook booked exactly once, the development simulator, mismatches."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, require
from debtflow.core.errors import (
    NotFound,
)
from debtflow.core.payment_provider.signing import (
    EVENT_PAYMENT_SUCCEEDED,
    WebhookEvent,
    WebhookRejected,
)
from debtflow.core.portal.plan import (
    AccountDue,
    split_payment,
)
from debtflow.db import utcnow
from debtflow.models import (
    PaymentIntent,
    User,
)
from debtflow.models.portal import (
    INTENT_MISMATCHED,
    INTENT_PENDING,
    INTENT_SUCCEEDED,
    PLAN_SIGNED,
)
from debtflow.payment import service as payment_service
from debtflow.payment.provider import PaymentProvider, SimulatedProvider, require_provider
from debtflow.portal import repository
from debtflow.portal.access import own_case
from debtflow.portal.errors import (
    IdempotencyConflict,
    InvalidPortalPayment,
    InvalidWebhook,
    PaymentInProgress,
)
from debtflow.portal.plan_ending import complete_plan_if_paid
from debtflow.portal.plans import (
    OPEN_PAYMENT_HOLD,
    load_case_plan,
    payment_refusal,
)

log = logging.getLogger(__name__)


# --- payments through the provider -------------------------------------------------------


_KEY_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:.")


def start_payment(
    session: Session,
    *,
    case_id: int,
    user: User,
    idempotency_key: str,
    provider: PaymentProvider | None,
    amount_fen: int | None = None,
) -> PaymentIntent:
    """Start a payment on the debtor's case: the next amount due on the signed plan, less
    what payments started on the case in the last 30 minutes and not booked yet already
    pay of it, or ``amount_fen`` (at most what is owed, less those payments). When they pay
    all of it, the debtor's own latest such payment is returned (the case page opened in
    two tabs leads to one payment), or 409 ``payment_in_progress``. The same idempotency
    key returns the same intent; the same key for another case or amount is refused.
    Without a configured provider (None) paying is unavailable (503)."""
    case = own_case(session, case_id=case_id, user=user, for_update=True)  # one start at a time
    provider = require_provider(provider)
    if not 8 <= len(idempotency_key) <= 100 or not set(idempotency_key) <= _KEY_ALPHABET:
        raise InvalidPortalPayment(
            "the idempotency key must be 8 to 100 letters, digits or - _ : ."
        )
    existing = repository.intent_by_key(session, user_id=user.id, idempotency_key=idempotency_key)
    if existing is not None:
        return _same_intent(existing, case.id, amount_fen)
    refused = payment_refusal(case)
    if refused is not None:
        raise refused
    current = load_case_plan(session, case.id)
    since = utcnow() - OPEN_PAYMENT_HOLD
    started = repository.open_intents_fen(session, case_id=case.id, since=since)
    if amount_fen is None:
        due = current.next_due() if current is not None and current.signed else None
        if due is None:
            raise InvalidPortalPayment("no signed plan with an amount due: give amount_fen")
        # what payments started and not booked yet already pay of it is not asked twice
        # (the case page opened in two tabs, each with its own key)
        amount_fen = due[1] - started
        if amount_fen <= 0:
            pending = repository.latest_open_intent(
                session, case_id=case.id, user_id=user.id, since=since
            )
            if pending is not None:
                return pending  # the debtor goes back to the payment they started
            raise PaymentInProgress(
                f"payments of {started} fen started on case {case.id} in the last "
                f"{OPEN_PAYMENT_HOLD.seconds // 60} minutes already pay the "
                f"{due[1]} fen due next and are not booked yet"
            )
    if amount_fen <= 0:
        raise InvalidPortalPayment("a payment must be a positive amount of fen")
    if amount_fen > case.outstanding_fen:
        raise InvalidPortalPayment(
            f"{amount_fen} fen is more than the {case.outstanding_fen} fen owed on the case"
        )
    payable = case.outstanding_fen
    if current is not None and current.plan.status == PLAN_SIGNED:
        # what the signed plan still asks for: its relief is waived, not paid
        payable = min(payable, current.plan.total_fen - current.paid_since_signing_fen)
        if amount_fen > payable:
            raise InvalidPortalPayment(
                f"the signed plan asks for {payable} fen more; its relief of "
                f"{current.plan.relief_fen} fen is waived once that is paid"
            )
    if amount_fen > payable - started:
        raise InvalidPortalPayment(
            f"payments of {started} fen started on this case in the last "
            f"{OPEN_PAYMENT_HOLD.seconds // 60} minutes are not finished yet; with them no more "
            f"than {max(payable - started, 0)} fen is still to pay"
        )
    redirect = provider.create_payment(
        amount_fen=amount_fen,
        idempotency_key=f"{user.id}:{idempotency_key}",
        description=f"debtflow case {case.id}",
        return_url=f"/portal/cases/{case.id}?paid=1",
    )
    intent = PaymentIntent(
        case_id=case.id,
        user_id=user.id,
        idempotency_key=idempotency_key,
        provider=redirect.provider,
        provider_payment_id=redirect.provider_payment_id,
        redirect_url=redirect.redirect_url,
        amount_fen=amount_fen,
        status=INTENT_PENDING,
    )
    try:
        with session.begin_nested():
            session.add(intent)
    except IntegrityError:  # the same key started at the same moment elsewhere
        existing = repository.intent_by_key(
            session, user_id=user.id, idempotency_key=idempotency_key
        )
        if existing is None:
            raise
        return _same_intent(existing, case.id, amount_fen)
    return intent


def _same_intent(existing: PaymentIntent, case_id: int, amount_fen: int | None) -> PaymentIntent:
    if existing.case_id != case_id or (
        amount_fen is not None and amount_fen != existing.amount_fen
    ):
        raise IdempotencyConflict(
            "this idempotency key was used for another payment; use a new key"
        )
    return existing


def own_intent(session: Session, *, provider_payment_id: str, user: User) -> PaymentIntent:
    """A payment the signed-in debtor started (404 for anybody else's)."""
    require(user, Permission.VIEW_OWN_DEBTS)
    intent = repository.intent_by_provider_id(
        session, provider_payment_id=provider_payment_id, for_update=True
    )
    if intent is None or intent.user_id != user.id:
        raise NotFound(f"payment {provider_payment_id} does not exist")
    return intent


@dataclass(frozen=True)
class WebhookOutcome:
    outcome: str
    """booked, duplicate, ignored_type, unknown_payment, amount_mismatch, already_paid"""
    payment_ids: tuple[int, ...] = ()


def receive_webhook(
    session: Session,
    *,
    provider: PaymentProvider | None,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
) -> WebhookOutcome:
    """Act on a provider webhook once per provider event id: book the payment (split over
    the case's accounts, each part through ``payment.service.book``, which appends a
    PAYMENT evidence leaf). A replayed or concurrent duplicate books nothing."""
    now = now or utcnow()
    provider = require_provider(provider)
    try:
        event = provider.verify_webhook(headers, body, now=now)
    except WebhookRejected as error:
        raise InvalidWebhook(str(error)) from None
    row_id = repository.record_event_once(
        session,
        values={
            "provider": provider.name,
            "event_id": event.event_id,
            "event_type": event.event_type,
            "provider_payment_id": event.provider_payment_id,
            "amount_fen": event.amount_fen,
            "outcome": "received",
            "received_at": now,
        },
    )
    if row_id is None:
        return WebhookOutcome("duplicate")
    outcome = _book_event(session, event, now)
    repository.set_event_outcome(session, event_row_id=row_id, outcome=outcome.outcome)
    return outcome


def _book_event(session: Session, event: WebhookEvent, now: datetime) -> WebhookOutcome:
    if event.event_type != EVENT_PAYMENT_SUCCEEDED:
        return WebhookOutcome("ignored_type")
    intent = repository.intent_by_provider_id(
        session, provider_payment_id=event.provider_payment_id, for_update=True
    )
    if intent is None:
        return WebhookOutcome("unknown_payment")
    if intent.status in (INTENT_SUCCEEDED, INTENT_MISMATCHED):
        return WebhookOutcome("already_paid")
    accounts = repository.accounts_of_cases(session, case_ids=[intent.case_id])
    parts = split_payment(
        event.amount_fen,
        [AccountDue(a.id, a.outstanding_fen, a.days_past_due) for a in accounts],
    )
    booked = []
    for number, (account_id, amount) in enumerate(parts, start=1):
        payment = payment_service.book(
            session,
            account_id=account_id,
            amount_fen=amount,
            paid_at=event.paid_at,
            reference=f"pi{intent.id}-{number}",
            channel=f"portal_{intent.provider}"[:30],
            actor="debtor portal",
            now=now,
        )
        booked.append(payment.id)
    intent.paid_at = event.paid_at
    if event.amount_fen == intent.amount_fen:
        intent.status = INTENT_SUCCEEDED
        outcome = "booked"
    else:
        # the money arrived: book what was received, and leave the difference to a person
        intent.status = INTENT_MISMATCHED
        outcome = "amount_mismatch"
        log.warning(
            "payment %s (intent %s, case %s): %s fen received for %s fen started; booked "
            "what was received, to be reconciled",
            intent.provider_payment_id,
            intent.id,
            intent.case_id,
            event.amount_fen,
            intent.amount_fen,
        )
    session.flush()
    complete_plan_if_paid(session, case_id=intent.case_id, at=event.paid_at)
    return WebhookOutcome(outcome, tuple(booked))


def confirm_simulated_payment(
    session: Session,
    *,
    provider_payment_id: str,
    user: User,
    provider: SimulatedProvider,
    now: datetime | None = None,
) -> PaymentIntent:
    """The signed-in debtor confirmed their own payment on the simulated provider's pay
    page (development only): its signed event is booked in-process through the same
    verification as a delivered webhook, once per payment."""
    now = now or utcnow()
    intent = own_intent(session, provider_payment_id=provider_payment_id, user=user)
    headers, body = provider.confirmation(
        provider_payment_id=intent.provider_payment_id,
        amount_fen=intent.amount_fen,
        paid_at=now,
    )
    receive_webhook(session, provider=provider, headers=headers, body=body, now=now)
    return intent


def mismatched_payments(session: Session, *, user: User) -> Sequence[PaymentIntent]:
    """Payments whose provider amount differed from the one started (booked as
    received), newest first, for a manager to reconcile."""
    require(user, Permission.RECONCILE_PAYMENTS)
    return repository.intents_with_status(session, status=INTENT_MISMATCHED)
