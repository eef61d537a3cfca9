"""What the portal allows by the state of the case: nothing is planned or paid on a case
settled, closed or written off; no plan is chosen or signed on a case in legal proceedings
or under a dispute, though what is owed may still be paid."""

from __future__ import annotations

import pytest

from debtflow.case import service as case_service
from debtflow.compliance import service as compliance_service
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.payment.provider import SimulatedProvider
from debtflow.portal import payments, service
from debtflow.portal import requests as debtor_requests
from portal.conftest import NOW, sign_plan

SECRET = b"test-webhook-secret"


def provider() -> SimulatedProvider:
    return SimulatedProvider(secret=SECRET, tolerance_s=300)


def choose(session, mine, term_months=6):
    return service.choose_plan(
        session, case_id=mine.case.id, user=mine.user, term_months=term_months, now=NOW
    )


def sign(session, mine):
    return sign_plan(session, mine)


def start(session, mine, key, amount_fen=None):
    return payments.start_payment(
        session,
        case_id=mine.case.id,
        user=mine.user,
        idempotency_key=key,
        provider=provider(),
        amount_fen=amount_fen,
    )


def move(session, case, to):
    case_service.apply_transition(session, case, to=to, reason="test", actor="ops")


@pytest.mark.parametrize("final", [CaseStatus.CLOSED, CaseStatus.WRITTEN_OFF, CaseStatus.SETTLED])
def test_nothing_is_chosen_signed_or_paid_on_a_final_case(session, world, final):
    mine = world.mine
    choose(session, mine)  # chosen while the case was open
    move(session, mine.case, final)
    for act in (
        lambda: service.plan_offers(session, case_id=mine.case.id, user=mine.user, now=NOW),
        lambda: choose(session, mine),
        lambda: sign(session, mine),
        lambda: start(session, mine, "final-key-0001", amount_fen=10_000),
    ):
        with pytest.raises(service.CaseFinal) as refused:
            act()
        assert refused.value.status_code == 409 and refused.value.code == "case_final"
        assert final.value in refused.value.message
    view = service.portal_case(session, case_id=mine.case.id, user=mine.user, now=NOW)
    assert view.offers == [] and view.plan_refusal.code == "case_final"
    assert view.payment_refusal.code == "case_final"


def test_a_signed_plan_on_a_case_closed_afterwards_takes_no_more_payments(session, world):
    mine = world.mine
    choose(session, mine)
    sign(session, mine)
    move(session, mine.case, CaseStatus.CLOSED)
    with pytest.raises(service.CaseFinal):
        start(session, mine, "after-closing-01")


def test_no_plan_on_a_case_in_legal_proceedings_but_it_may_be_paid(session, world):
    mine = world.mine
    choose(session, mine)
    move(session, mine.case, CaseStatus.LEGAL)
    for act in (
        lambda: service.plan_offers(session, case_id=mine.case.id, user=mine.user, now=NOW),
        lambda: choose(session, mine),
        lambda: sign(session, mine),
    ):
        with pytest.raises(service.CaseInLegal) as refused:
            act()
        assert refused.value.status_code == 409 and refused.value.code == "case_in_legal"
    assert start(session, mine, "legal-pay-0001", amount_fen=10_000).amount_fen == 10_000
    view = service.portal_case(session, case_id=mine.case.id, user=mine.user, now=NOW)
    assert view.plan_refusal.code == "case_in_legal" and view.payment_refusal is None


def test_no_plan_while_a_dispute_holds_the_case_but_it_may_be_paid(session, world):
    mine = world.mine
    choose(session, mine)
    dispute = debtor_requests.file_dispute(
        session, case_id=mine.case.id, user=mine.user, reason="金额不对", now=NOW
    )
    for act in (lambda: choose(session, mine), lambda: sign(session, mine)):
        with pytest.raises(service.CaseDisputed) as refused:
            act()
        assert refused.value.status_code == 409 and refused.value.code == "case_disputed"
    assert start(session, mine, "disputed-pay-01", amount_fen=10_000).amount_fen == 10_000
    # once a compliance officer lifts it, a plan may be chosen (and the payment booked first)
    compliance_service.lift_restriction(
        session, restriction_id=dispute.restriction_id, lifted_by="officer-1", now=NOW
    )
    assert choose(session, mine).status == "chosen"


def test_a_dispute_recorded_by_staff_on_every_case_of_the_debtor_holds_plans_too(session, world):
    mine = world.mine
    compliance_service.set_restriction(
        session,
        debtor_id=mine.debtor.id,
        flag="dispute",
        reason="disputed by letter",
        set_by="agent-1",
        now=NOW,
    )
    with pytest.raises(service.CaseDisputed):
        choose(session, mine)
    # another debtor's case is not held
    assert choose(session, world.other).status == "chosen"
