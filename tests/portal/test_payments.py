"""Payment intents with idempotency keys, and the signed provider webhook that books a
payment exactly once (replayed, or sent twice at the same moment)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from debtflow.auth.scoping import NotPermitted
from debtflow.case.service import CaseNotFound
from debtflow.core.payment_provider.signing import (
    WebhookRejected,
    parse_event,
    sign,
    verify_signature,
)
from debtflow.db import get_engine
from debtflow.migrate import upgrade
from debtflow.models import EvidenceLogLeaf, Payment, PaymentIntent, PaymentWebhookEvent
from debtflow.payment.provider import SimulatedProvider
from debtflow.portal import payments, service
from portal.conftest import NOW, make_world

SECRET = b"test-webhook-secret"


def provider() -> SimulatedProvider:
    return SimulatedProvider(secret=SECRET, tolerance_s=300)


def signed_plan(session, world):
    case_id, user = world.mine.case.id, world.mine.user
    service.choose_plan(session, case_id=case_id, user=user, term_months=6, now=NOW)
    service.sign_agreement(
        session,
        case_id=case_id,
        user=user,
        signer_name="李小梅",
        read_confirmed=True,
        ip=None,
        user_agent=None,
        now=NOW,
    )


def webhook_for(intent, *, event_id="evt_1", sent_at=None, amount_fen=None):
    return provider().signed_webhook(
        provider_payment_id=intent.provider_payment_id,
        amount_fen=amount_fen or intent.amount_fen,
        paid_at=NOW + timedelta(minutes=1),
        event_id=event_id,
        sent_at=sent_at or NOW + timedelta(minutes=1),
    )


def count(session, model) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- the signing scheme ------------------------------------------------------------------


def test_signature_good_bad_and_stale():
    body = b'{"id":"evt_1"}'
    stamp = int(NOW.timestamp())
    header = sign(SECRET, body, stamp)
    assert verify_signature(SECRET, body, header, NOW) == stamp
    assert verify_signature(SECRET, body, header, NOW + timedelta(seconds=300)) == stamp
    with pytest.raises(WebhookRejected, match="does not match"):
        verify_signature(b"another secret", body, header, NOW)
    with pytest.raises(WebhookRejected, match="does not match"):
        verify_signature(SECRET, body + b" ", header, NOW)
    with pytest.raises(WebhookRejected, match="does not match"):  # timestamp is signed too
        verify_signature(SECRET, body, header.replace(f"t={stamp}", f"t={stamp + 1}"), NOW)
    with pytest.raises(WebhookRejected, match="300 s"):
        verify_signature(SECRET, body, header, NOW + timedelta(seconds=301))
    with pytest.raises(WebhookRejected, match="300 s"):
        verify_signature(SECRET, body, header, NOW - timedelta(seconds=301))
    for broken in (None, "", "v1=abc", f"t={stamp}", "t=soon,v1=00"):
        with pytest.raises(WebhookRejected):
            verify_signature(SECRET, body, broken, NOW)


def test_odd_signature_headers_are_rejected_not_crashed():
    """Non-ASCII digits pass str.isdigit() and non-ASCII MACs break compare_digest: both
    must be a plain rejection (400), never a ValueError/TypeError (500)."""
    body = b'{"id":"evt_1"}'
    stamp = int(NOW.timestamp())
    good_mac = sign(SECRET, body, stamp).split("v1=")[1]
    for header in (
        f"t=\u00b2,v1={good_mac}",  # superscript two
        f"t=\u0661\u0662,v1={good_mac}",  # Arabic-Indic digits
        f"t={stamp},v1=\u00e9" + "0" * 63,
        f"t={stamp},v1=" + "\u4e00" * 64,
        f"t={stamp},v1={good_mac.upper()}",
        f"t={stamp},v1={good_mac}0",
        f"t=1234567890123,v1={good_mac}",
    ):
        with pytest.raises(WebhookRejected):
            verify_signature(SECRET, body, header, NOW)
    # a malformed entry next to a good one (secret rotation) still verifies
    assert verify_signature(SECRET, body, f"t={stamp},v1=\u00e9,v1={good_mac}", NOW) == stamp


def test_payment_ids_do_not_use_the_signing_key_directly():
    ids = provider().payment_id_for("1:key-00000001")
    direct = hmac.new(SECRET, b"1:key-00000001", hashlib.sha256).hexdigest()
    assert ids.startswith("sim_") and ids != f"sim_{direct[:32]}"
    id_key = hmac.new(SECRET, b"payment-id", hashlib.sha256).digest()
    assert ids == "sim_" + hmac.new(id_key, b"1:key-00000001", hashlib.sha256).hexdigest()[:32]
    assert provider().payment_id_for("1:key-00000001") == ids  # stable per key


def test_malformed_event_bodies_are_rejected():
    for body in (
        b"not json",
        b'{"id":"e","type":"payment.succeeded","data":{}}',
        b'{"id":"e","type":"t","data":{"payment_id":"p","amount_fen":1.5,'
        b'"paid_at":"2026-11-29T02:00:00+00:00"}}',
        b'{"id":"e","type":"t","data":{"payment_id":"p","amount_fen":100,'
        b'"paid_at":"2026-11-29T02:00:00"}}',
    ):
        with pytest.raises(WebhookRejected):
            parse_event(body)


# --- intents -------------------------------------------------------------------------------


def test_next_amount_due_and_idempotency_key(session, world):
    signed_plan(session, world)
    case_id, user = world.mine.case.id, world.mine.user
    first = payments.start_payment(
        session, case_id=case_id, user=user, idempotency_key="key-00000001", provider=provider()
    )
    assert first.amount_fen == 135_834  # the first instalment of the 6-month plan
    assert first.redirect_url == f"/pay/sim/{first.provider_payment_id}"
    again = payments.start_payment(
        session, case_id=case_id, user=user, idempotency_key="key-00000001", provider=provider()
    )
    assert again.id == first.id
    with pytest.raises(service.IdempotencyConflict):
        payments.start_payment(
            session,
            case_id=case_id,
            user=user,
            idempotency_key="key-00000001",
            amount_fen=100,
            provider=provider(),
        )
    other = payments.start_payment(
        session,
        case_id=case_id,
        user=user,
        idempotency_key="key-00000002",
        amount_fen=5_000,
        provider=provider(),
    )
    assert other.id != first.id and other.provider_payment_id != first.provider_payment_id


def test_bad_payment_requests(session, world):
    case_id, user = world.mine.case.id, world.mine.user
    with pytest.raises(service.InvalidPortalPayment, match="no signed plan"):
        payments.start_payment(
            session, case_id=case_id, user=user, idempotency_key="key-00000003", provider=provider()
        )
    with pytest.raises(service.InvalidPortalPayment, match="more than"):
        payments.start_payment(
            session,
            case_id=case_id,
            user=user,
            idempotency_key="key-00000004",
            amount_fen=842_001,
            provider=provider(),
        )
    with pytest.raises(service.InvalidPortalPayment, match="idempotency key"):
        payments.start_payment(
            session,
            case_id=case_id,
            user=user,
            idempotency_key="short",
            amount_fen=100,
            provider=provider(),
        )
    with pytest.raises(CaseNotFound):
        payments.start_payment(
            session,
            case_id=world.other.case.id,
            user=user,
            idempotency_key="key-00000005",
            amount_fen=100,
            provider=provider(),
        )


def test_payments_started_and_not_finished_count_against_what_is_owed(session, world):
    """Two checkouts opened side by side cannot together pay more than the case owes; a
    checkout left unfinished stops counting after OPEN_PAYMENT_HOLD."""
    case_id, user = world.mine.case.id, world.mine.user
    owed = world.mine.case.outstanding_fen

    def start(key: str, amount_fen: int):
        return payments.start_payment(
            session,
            case_id=case_id,
            user=user,
            idempotency_key=key,
            amount_fen=amount_fen,
            provider=provider(),
        )

    first = start("key-open-0001", owed - 100_000)
    with pytest.raises(service.InvalidPortalPayment, match="not finished") as refused:
        start("key-open-0002", 100_001)
    assert "no more than 100000 fen is still to pay" in str(refused.value)
    start("key-open-0003", 100_000)  # exactly the rest
    with pytest.raises(service.InvalidPortalPayment, match="not finished"):
        start("key-open-0004", 1)
    first.created_at = first.created_at - payments.OPEN_PAYMENT_HOLD - timedelta(seconds=1)
    session.flush()
    assert start("key-open-0005", owed - 100_000).amount_fen == owed - 100_000


def test_the_next_instalment_started_twice_is_charged_once(session, world):
    """The case page open in two tabs: each posts the next amount due with its own key. The
    second start does not charge the instalment again; it returns the payment already
    started, and after it is booked the next instalment is what is due."""
    signed_plan(session, world)
    case_id, user = world.mine.case.id, world.mine.user

    def start(key: str, amount_fen: int | None = None):
        return payments.start_payment(
            session,
            case_id=case_id,
            user=user,
            idempotency_key=key,
            amount_fen=amount_fen,
            provider=provider(),
        )

    first = start("tab-one-key-01")
    second = start("tab-two-key-02")
    assert first.amount_fen == 135_834 and second.id == first.id
    assert count(session, PaymentIntent) == 1
    headers, body = webhook_for(first, event_id="evt_two_tabs")
    payments.receive_webhook(
        session, provider=provider(), headers=headers, body=body, now=NOW + timedelta(minutes=1)
    )
    assert count(session, Payment) == 1
    current = service.plan_of(session, case_id=case_id, user=user)
    assert current.next_due()[0].number == 2 and current.next_due()[1] == 135_834
    # a part of the instalment started with an amount: the next amount due is the rest
    part = start("part-key-0003", amount_fen=35_834)
    rest = start("rest-key-0004")
    assert rest.id != part.id and rest.amount_fen == 100_000
    assert start("more-key-0005").id == rest.id


def test_an_instalment_started_by_another_sign_in_is_not_started_again(session, world):
    """Payments started by another sign-in of the same debtor pay the next instalment: a
    start without an amount is refused (409 payment_in_progress), not charged again."""
    from debtflow.auth import service as auth_service
    from debtflow.models import Role

    signed_plan(session, world)
    case_id = world.mine.case.id
    payments.start_payment(
        session,
        case_id=case_id,
        user=world.mine.user,
        idempotency_key="first-sign-in-1",
        provider=provider(),
    )
    second_user = auth_service.create_user(
        session,
        username="debtor-second-phone",
        role=Role.DEBTOR,
        debtor_id=world.mine.debtor.id,
        phone="13911112222",
    )
    with pytest.raises(service.PaymentInProgress) as refused:
        payments.start_payment(
            session,
            case_id=case_id,
            user=second_user,
            idempotency_key="second-sign-in",
            provider=provider(),
        )
    assert refused.value.status_code == 409 and "135834 fen due next" in refused.value.message


# --- webhooks ------------------------------------------------------------------------------


def test_webhook_books_once_and_replays_book_nothing(session, world):
    signed_plan(session, world)
    case_id, user = world.mine.case.id, world.mine.user
    intent = payments.start_payment(
        session, case_id=case_id, user=user, idempotency_key="key-00000010", provider=provider()
    )
    leaves_before = count(session, EvidenceLogLeaf)
    headers, body = webhook_for(intent)
    now = NOW + timedelta(minutes=2)
    outcome = payments.receive_webhook(
        session, provider=provider(), headers=headers, body=body, now=now
    )
    assert outcome.outcome == "booked"
    booked = session.scalars(select(Payment).where(Payment.case_id == case_id)).all()
    assert sum(p.amount_fen for p in booked) == 135_834
    # the most overdue account (60 days) first, up to what it owes: one part is enough
    assert [p.account_id for p in booked] == [world.mine.accounts[0].id]
    assert intent.status == "succeeded"
    payment_leaves = session.scalars(
        select(EvidenceLogLeaf).where(EvidenceLogLeaf.idx >= leaves_before)
    ).all()
    assert [leaf.kind for leaf in payment_leaves if leaf.kind == "payment"] == ["payment"]
    replay = payments.receive_webhook(
        session, provider=provider(), headers=headers, body=body, now=now
    )
    assert replay.outcome == "duplicate" and replay.payment_ids == ()
    # the same payment under a new event id books nothing either
    headers2, body2 = webhook_for(intent, event_id="evt_2")
    assert (
        payments.receive_webhook(
            session, provider=provider(), headers=headers2, body=body2, now=now
        )
    ).outcome == "already_paid"
    assert count(session, Payment) == len(booked)
    current = service.plan_of(session, case_id=case_id, user=user)
    due = current.next_due()
    assert (due[0].number, due[1]) == (2, 135_834)


def test_webhook_refuses_bad_and_stale_signatures_and_odd_events(session, world):
    case_id, user = world.mine.case.id, world.mine.user
    intent = payments.start_payment(
        session,
        case_id=case_id,
        user=user,
        idempotency_key="key-00000020",
        amount_fen=1_000,
        provider=provider(),
    )
    headers, body = webhook_for(intent)
    forged = SimulatedProvider(secret=b"not the secret", tolerance_s=300)
    with pytest.raises(service.InvalidWebhook) as bad:
        payments.receive_webhook(
            session, provider=forged, headers=headers, body=body, now=NOW + timedelta(minutes=1)
        )
    assert bad.value.status_code == 400
    with pytest.raises(service.InvalidWebhook, match="300 s"):
        payments.receive_webhook(
            session,
            provider=provider(),
            headers=headers,
            body=body,
            now=NOW + timedelta(minutes=7),
        )
    assert count(session, PaymentWebhookEvent) == 0
    wrong_amount = webhook_for(intent, event_id="evt_amount", amount_fen=999)
    assert (
        payments.receive_webhook(
            session,
            provider=provider(),
            headers=wrong_amount[0],
            body=wrong_amount[1],
            now=NOW + timedelta(minutes=1),
        ).outcome
        == "amount_mismatch"
    )
    unknown = provider().signed_webhook(
        provider_payment_id="sim_nobody", amount_fen=1_000, paid_at=NOW, event_id="evt_unknown"
    )
    assert (
        payments.receive_webhook(
            session, provider=provider(), headers=unknown[0], body=unknown[1], now=NOW
        ).outcome
        == "unknown_payment"
    )
    # only the mismatched event booked anything: what was received, not what was started
    amounts = session.scalars(select(Payment.amount_fen).where(Payment.case_id == case_id)).all()
    assert amounts == [999]
    assert intent.status == "mismatched"
    # listed for a manager to reconcile; not for the debtor
    assert [i.id for i in payments.mismatched_payments(session, user=world.manager)] == [intent.id]
    with pytest.raises(NotPermitted):
        payments.mismatched_payments(session, user=user)
    # the same mismatched event again books nothing more
    assert (
        payments.receive_webhook(
            session,
            provider=provider(),
            headers=wrong_amount[0],
            body=wrong_amount[1],
            now=NOW + timedelta(minutes=1),
        ).outcome
        == "duplicate"
    )
    assert count(session, Payment) == 1


def test_concurrent_duplicate_webhooks_book_once(database_url):
    """Two deliveries of one event at the same moment: the second waits on the first's
    unique (provider, event id) row and then books nothing."""
    engine = get_engine()
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as setup:
        world = make_world(setup)
        intent = payments.start_payment(
            setup,
            case_id=world.mine.case.id,
            user=world.mine.user,
            idempotency_key="key-00000030",
            amount_fen=300_000,
            provider=provider(),
        )
        setup.commit()
    headers, body = webhook_for(intent)
    now = NOW + timedelta(minutes=2)
    outcomes: list[str] = []

    def deliver() -> None:
        with Session(engine) as second:
            outcome = payments.receive_webhook(
                second, provider=provider(), headers=headers, body=body, now=now
            )
            second.commit()
            outcomes.append(outcome.outcome)

    with Session(engine) as first:
        booked = payments.receive_webhook(
            first, provider=provider(), headers=headers, body=body, now=now
        )
        assert booked.outcome == "booked"
        thread = threading.Thread(target=deliver)
        thread.start()
        time.sleep(0.5)
        assert outcomes == [], "the duplicate must wait for the first delivery"
        first.commit()
    thread.join(timeout=30)
    assert outcomes == ["duplicate"]
    with Session(engine) as check:
        amounts = check.scalars(
            select(Payment.amount_fen).where(Payment.case_id == world.mine.case.id)
        ).all()
        # 300,000 fen: 642,000 owed on the most overdue account, so one part
        assert sorted(amounts) == [300_000]
        assert count(check, PaymentWebhookEvent) == 1


def test_a_signed_plan_is_paid_without_paying_its_relief(session, world):
    signed_plan(session, world)
    case_id, user = world.mine.case.id, world.mine.user
    plan = service.plan_of(session, case_id=case_id, user=user).plan
    assert (
        plan.relief_fen > 0 and world.mine.case.outstanding_fen == plan.total_fen + plan.relief_fen
    )
    with pytest.raises(service.InvalidPortalPayment, match="relief of") as refused:
        payments.start_payment(
            session,
            case_id=case_id,
            user=user,
            idempotency_key="key-relief-01",
            amount_fen=plan.total_fen + 1,
            provider=provider(),
        )
    assert f"asks for {plan.total_fen} fen more" in str(refused.value)
    everything = payments.start_payment(
        session,
        case_id=case_id,
        user=user,
        idempotency_key="key-relief-02",
        amount_fen=plan.total_fen,
        provider=provider(),
    )
    assert everything.amount_fen == plan.total_fen
