"""A signed plan paid in full through the provider's webhook: the plan's interest is owed
from signing (booked onto the accounts), every instalment is accepted and booked without
overpayment, and after the last one the agreed relief is waived and the case settled —
fen-exact, each adjustment in the evidence log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from debtflow.core.evidence.leaf import parse_leaf
from debtflow.models import Account, Case, EvidenceLogLeaf, Payment, PlanInstalment
from debtflow.payment import service as payment_service
from debtflow.payment.provider import SimulatedProvider
from debtflow.portal import payments, service
from factories import make_creditor
from portal.conftest import ACCOUNTS, NOW, add_debtor_case, sign_plan

SECRET = b"test-webhook-secret"
OWED = 842_000

HARDSHIP = {"kind": "restructuring", "term_months": 12, "repayment_months": 12, "refused": []}


def provider() -> SimulatedProvider:
    return SimulatedProvider(secret=SECRET, tolerance_s=300)


def sign(session, world, term_months):
    return sign_plan(session, world, term_months=term_months)


def pay_next_due(session, world, n):
    """Start the next amount due and have the provider's webhook confirm it."""
    intent = payments.start_payment(
        session,
        case_id=world.case.id,
        user=world.user,
        idempotency_key=f"plan-key-{n:04d}",
        provider=provider(),
    )
    at = NOW + timedelta(minutes=n)
    headers, body = provider().signed_webhook(
        provider_payment_id=intent.provider_payment_id,
        amount_fen=intent.amount_fen,
        paid_at=at,
        event_id=f"evt_plan_{n}",
    )
    outcome = payments.receive_webhook(
        session, provider=provider(), headers=headers, body=body, now=at
    )
    assert outcome.outcome == "booked"
    return intent.amount_fen


def pay_whole_plan(session, world):
    paid, n = 0, 0
    while (current := service.plan_of(session, case_id=world.case.id, user=world.user)) and (
        current.next_due() is not None
    ):
        n += 1
        assert n <= 40, "the plan never ends"
        paid += pay_next_due(session, world, n)
    return paid, n


def case_state(session, world):
    session.expire_all()
    case = session.get(Case, world.case.id)
    accounts = session.scalars(select(Account).where(Account.case_id == world.case.id)).all()
    booked = session.scalars(select(Payment).where(Payment.case_id == world.case.id)).all()
    return case, accounts, booked


def adjustments(session, case_id):
    leaves = session.scalars(
        select(EvidenceLogLeaf)
        .where(EvidenceLogLeaf.case_id == case_id, EvidenceLogLeaf.kind == "adjustment")
        .order_by(EvidenceLogLeaf.idx)
    ).all()
    return [parse_leaf(leaf.canonical_bytes).payload for leaf in leaves]


@pytest.fixture
def hardship(session):
    creditor = make_creditor(session, code="HARDSHIP")
    creditor.min_first_payment_bp = 100  # the 2 % down payment is of what is due after relief
    return add_debtor_case(
        session,
        creditor_id=creditor.id,
        name="赵困难",
        accounts=ACCOUNTS,
        treatment=HARDSHIP,
        segment="hardship",
    )


def test_relief_plan_paid_in_full_waives_the_relief_and_settles(session, world):
    mine = world.mine
    plan = sign(session, mine, 6)
    assert (plan.total_fen, plan.relief_fen) == (815_000, 27_000)
    assert adjustments(session, mine.case.id) == []  # no interest in a zero-rate plan
    paid, payments_made = pay_whole_plan(session, mine)
    assert (paid, payments_made) == (815_000, 6)
    case, accounts, booked = case_state(session, mine)
    assert case.outstanding_fen == 0 and case.status.value == "settled"
    assert all(a.outstanding_fen == 0 for a in accounts)
    assert sum(p.amount_fen for p in booked) == 815_000
    assert sum(p.overpaid_fen for p in booked) == 0
    [waiver] = adjustments(session, mine.case.id)
    assert waiver["reason"] == "plan_relief"
    assert waiver["amount_fen"] == waiver["agreed_relief_fen"] == 27_000
    # fen-exact: what was owed = what was paid + what was waived
    assert paid + waiver["amount_fen"] == OWED
    current = service.plan_of(session, case_id=mine.case.id, user=mine.user)
    assert current.plan.status == "completed" and current.signed
    # the case is settled: nothing more can be started on it
    with pytest.raises(service.CaseFinal, match="settled"):
        payments.start_payment(
            session,
            case_id=mine.case.id,
            user=mine.user,
            idempotency_key="plan-key-after",
            provider=provider(),
        )


def test_hardship_plan_with_interest_is_paid_in_full_and_ends_at_zero(session, hardship):
    offers = service.plan_offers(session, case_id=hardship.case.id, user=hardship.user, now=NOW)
    offer = offers[0]
    interest = sum(r.interest_fen for r in offer.schedule)
    assert interest > 0 and offer.total_fen > OWED - offer.offer.relief_fen
    plan = sign(session, hardship, offer.term_months)
    rows = session.scalars(select(PlanInstalment).where(PlanInstalment.plan_id == plan.id)).all()
    assert sum(r.interest_fen for r in rows) == interest
    # the plan's interest is owed from signing: booked onto the most overdue account
    case, accounts, _ = case_state(session, hardship)
    assert case.outstanding_fen == OWED + interest
    [booked] = adjustments(session, hardship.case.id)
    assert booked["reason"] == "plan_interest" and booked["amount_fen"] == interest
    assert booked["account_id"] == hardship.accounts[0].id

    paid, _ = pay_whole_plan(session, hardship)
    assert paid == plan.total_fen
    case, accounts, booked = case_state(session, hardship)
    assert case.outstanding_fen == 0 and case.status.value == "settled"
    assert all(a.outstanding_fen == 0 for a in accounts)
    assert sum(p.overpaid_fen for p in booked) == 0
    _, waiver = adjustments(session, hardship.case.id)
    assert waiver["reason"] == "plan_relief" and waiver["amount_fen"] == plan.relief_fen
    # fen-exact: owed + plan interest = paid + relief waived
    assert OWED + interest == paid + plan.relief_fen


def test_other_channel_payments_count_towards_the_plan_and_are_not_overpaid(session, hardship):
    """A bank transfer under a signed interest-bearing plan is applied to what the
    accounts owe (including the plan's interest), never booked as overpaid."""
    plan = sign(session, hardship, 14)  # 12 months after 2 months of grace
    half = plan.total_fen // 2
    transfer = payment_service.book(
        session,
        account_id=hardship.accounts[0].id,
        amount_fen=half,
        paid_at=NOW + timedelta(minutes=1),
        reference="bank-transfer-1",
    )
    assert transfer.overpaid_fen == 0
    paid, _ = pay_whole_plan(session, hardship)
    assert half + paid == plan.total_fen
    case, _, booked = case_state(session, hardship)
    assert case.outstanding_fen == 0 and case.status.value == "settled"
    assert sum(p.overpaid_fen for p in booked) == 0


def test_a_plan_finished_by_bank_transfer_waives_the_relief_and_settles(session, world):
    """The last instalments arrive outside the portal (a bank transfer booked by the
    creditor's file or an agent): the relief is waived and the case settled all the same."""
    mine = world.mine
    plan = sign(session, mine, 6)
    first = pay_next_due(session, mine, 1)
    rest = plan.total_fen - first
    _, accounts, _ = case_state(session, mine)
    transfers = []
    for number, account in enumerate(sorted(accounts, key=lambda a: a.id)):
        amount = min(rest, account.outstanding_fen)
        if amount > 0:
            transfers.append(
                (account.id, amount, f"bank-transfer-{number}")
            )  # one transfer per account, as a creditor's payment file lists them
            rest -= amount
    assert rest == 0
    for account_id, amount, reference in transfers:
        booked = payment_service.book(
            session,
            account_id=account_id,
            amount_fen=amount,
            paid_at=NOW + timedelta(days=40),
            reference=reference,
        )
        assert booked.overpaid_fen == 0
    case, accounts, _ = case_state(session, mine)
    assert case.outstanding_fen == 0 and case.status.value == "settled"
    assert all(a.outstanding_fen == 0 for a in accounts)
    [waiver] = adjustments(session, mine.case.id)
    assert waiver["amount_fen"] == plan.relief_fen == 27_000
    assert plan.total_fen + waiver["amount_fen"] == OWED
    # booking the same transfers again (a re-sent file) changes nothing
    for account_id, amount, reference in transfers:
        payment_service.book(
            session,
            account_id=account_id,
            amount_fen=amount,
            paid_at=NOW + timedelta(days=40),
            reference=reference,
        )
    assert len(adjustments(session, mine.case.id)) == 1


def test_an_unpaid_plan_waives_nothing(session, world):
    mine = world.mine
    sign(session, mine, 6)
    pay_next_due(session, mine, 1)
    case, _, _ = case_state(session, mine)
    assert case.outstanding_fen == OWED - 135_834 and case.status.value == "paying"
    assert adjustments(session, mine.case.id) == []


def test_a_payment_paid_before_signing_and_booked_after_counts_towards_the_plan(session, world):
    """The provider says the money was paid at 09:59, the plan was signed at 10:00 and the
    webhook booked it at 10:02: it lowered what the accounts owe after the plan was worked
    out, so it counts towards the plan. The debtor pays the plan's total and no more; the
    relief is waived and the case settled (before, it never counted: the debtor paid the
    plan's total on top of it and the plan stayed "next due")."""
    mine = world.mine
    early = payments.start_payment(
        session,
        case_id=mine.case.id,
        user=mine.user,
        idempotency_key="paid-before-signing",
        provider=provider(),
        amount_fen=100_000,
    )
    # the checkout was left open longer than a payment holds the case
    early.created_at -= payments.OPEN_PAYMENT_HOLD + timedelta(seconds=1)
    session.flush()
    plan = sign(session, mine, 6)
    assert (plan.total_fen, plan.relief_fen) == (815_000, 27_000)
    headers, body = provider().signed_webhook(
        provider_payment_id=early.provider_payment_id,
        amount_fen=100_000,
        paid_at=NOW - timedelta(minutes=1),
        event_id="evt_paid_before_signing",
        sent_at=NOW + timedelta(minutes=2),
    )
    outcome = payments.receive_webhook(
        session, provider=provider(), headers=headers, body=body, now=NOW + timedelta(minutes=2)
    )
    assert outcome.outcome == "booked"
    current = service.plan_of(session, case_id=mine.case.id, user=mine.user)
    assert current.paid_since_signing_fen == 100_000
    paid, _ = pay_whole_plan(session, mine)
    assert 100_000 + paid == plan.total_fen
    case, accounts, booked = case_state(session, mine)
    assert case.outstanding_fen == 0 and case.status.value == "settled"
    assert sum(p.overpaid_fen for p in booked) == 0
    [waiver] = adjustments(session, mine.case.id)
    assert waiver["amount_fen"] == plan.relief_fen
    assert plan.total_fen + waiver["amount_fen"] == OWED


def test_plan_payments_are_counted_by_when_they_were_booked(session, world):
    """A bank transfer dated before the plan was chosen but booked before it lowered what
    the plan was worked out on: it does not count again. One dated before the signature
    but booked after it counts."""
    mine = world.mine
    payment_service.book(
        session,
        account_id=mine.accounts[0].id,
        amount_fen=42_000,
        paid_at=NOW - timedelta(days=3),
        reference="transfer-before-choice",
        now=NOW - timedelta(hours=1),
    )
    plan = sign(session, mine, 6)
    assert plan.total_fen == 800_000  # 842,000 owed less 42,000, nothing left to relieve
    current = service.plan_of(session, case_id=mine.case.id, user=mine.user)
    assert current.paid_since_signing_fen == 0
    payment_service.book(
        session,
        account_id=mine.accounts[1].id,
        amount_fen=30_000,
        paid_at=NOW - timedelta(days=1),  # the bank's value date, before signing
        reference="transfer-booked-after-signing",
        now=NOW + timedelta(hours=5),
    )
    current = service.plan_of(session, case_id=mine.case.id, user=mine.user)
    assert current.paid_since_signing_fen == 30_000


def test_no_plan_is_signed_while_a_payment_started_on_the_case_is_not_booked(session, world):
    """Signed while the payment is under way, the plan would be worked out on a debt about
    to change: 409 payment_in_progress. Once it is booked the choice is made again on what
    is left, and signed."""
    mine = world.mine
    started = payments.start_payment(
        session,
        case_id=mine.case.id,
        user=mine.user,
        idempotency_key="under-way-0001",
        provider=provider(),
        amount_fen=100_000,
    )
    service.choose_plan(session, case_id=mine.case.id, user=mine.user, term_months=6, now=NOW)
    with pytest.raises(service.PaymentInProgress) as refused:
        service.sign_agreement(
            session,
            case_id=mine.case.id,
            user=mine.user,
            signer_name=mine.debtor.name,
            read_confirmed=True,
            ip=None,
            user_agent=None,
            now=NOW,
        )
    assert refused.value.status_code == 409 and refused.value.code == "payment_in_progress"
    headers, body = provider().signed_webhook(
        provider_payment_id=started.provider_payment_id,
        amount_fen=100_000,
        paid_at=NOW + timedelta(minutes=1),
        event_id="evt_under_way",
    )
    payments.receive_webhook(
        session, provider=provider(), headers=headers, body=body, now=NOW + timedelta(minutes=1)
    )
    with pytest.raises(service.PlanChoiceExpired):
        service.sign_agreement(
            session,
            case_id=mine.case.id,
            user=mine.user,
            signer_name=mine.debtor.name,
            read_confirmed=True,
            ip=None,
            user_agent=None,
            now=NOW,
        )
    later = NOW + timedelta(minutes=2)
    service.choose_plan(session, case_id=mine.case.id, user=mine.user, term_months=6, now=later)
    plan = service.sign_agreement(
        session,
        case_id=mine.case.id,
        user=mine.user,
        signer_name=mine.debtor.name,
        read_confirmed=True,
        ip=None,
        user_agent=None,
        now=later,
    )
    assert plan.status == "signed" and plan.total_fen == 742_000
    current = service.plan_of(session, case_id=mine.case.id, user=mine.user)
    assert current.paid_since_signing_fen == 0  # the payment is in what the plan is worked on
