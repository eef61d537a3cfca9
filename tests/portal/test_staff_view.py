"""What the debtor did in the portal, as staff meet it: a dispute holds the case (no promise
to pay, no field visit), and the case page and case API show the signed plan, the dispute
and the legal-advice requests instead of proposing a fresh plan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from debtflow.compliance import service as compliance_service
from debtflow.compliance.service import CaseUnderDispute
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.field import service as field_service
from debtflow.models import FieldVisitRequest, PromiseToPay
from debtflow.payment import service as payment_service
from debtflow.portal import requests as debtor_requests
from debtflow.portal import service
from debtflow.promise import service as promise_service
from portal.conftest import NOW


def sign_plan_and_pay_down(session, world, *, term_months: int = 6):
    """The debtor of ``world.mine`` chooses and signs ``term_months`` at NOW and pays the
    first payment due an hour later; returns the plan as the portal reads it."""
    case_id, user = world.mine.case.id, world.mine.user
    service.choose_plan(session, case_id=case_id, user=user, term_months=term_months, now=NOW)
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
    first = service.load_case_plan(session, case_id).next_due()
    payment_service.book(
        session,
        account_id=world.mine.accounts[0].id,
        amount_fen=first[1],
        paid_at=NOW + timedelta(hours=1),
        reference="down-payment",
        now=NOW + timedelta(hours=1),
    )
    return service.load_case_plan(session, case_id)


def dispute(session, world, *, at=NOW + timedelta(hours=2)):
    return debtor_requests.file_dispute(
        session,
        case_id=world.mine.case.id,
        user=world.mine.user,
        reason="利息计算有误，我要求核实",
        now=at,
    )


def promise(session, world, *, now=NOW + timedelta(hours=3)):
    return promise_service.record(
        session,
        case_id=world.mine.case.id,
        amount_fen=10_000,
        due=now.date() + timedelta(days=7),
        made_on=now.date(),
        actor=world.manager.username,
        now=now,
    )


def visit(session, world, *, now=NOW + timedelta(hours=3)):
    return field_service.request_visit(
        session, case_id=world.mine.case.id, user=world.manager, reason="上门核实", now=now
    )


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_promise_is_refused_while_the_debtor_disputes_the_case(session, world):
    sign_plan_and_pay_down(session, world)
    status_before = world.mine.case.status
    held = dispute(session, world)
    with pytest.raises(CaseUnderDispute, match="disputed") as caught:
        promise(session, world)
    assert (caught.value.status_code, caught.value.code) == (409, "case_under_dispute")
    assert count(session, PromiseToPay) == 0
    session.refresh(world.mine.case)
    assert world.mine.case.status == status_before
    # the dispute dealt with (its restriction lifted): the promise is recorded
    compliance_service.lift_restriction(
        session,
        restriction_id=held.restriction_id,
        lifted_by="officer",
        now=NOW + timedelta(hours=3),
    )
    assert promise(session, world, now=NOW + timedelta(hours=4)).id is not None
    assert world.mine.case.status is CaseStatus.PROMISED


def test_a_field_visit_is_refused_while_the_debtor_disputes_the_case(session, world):
    dispute(session, world)
    with pytest.raises(CaseUnderDispute) as caught:
        visit(session, world)
    assert caught.value.status_code == 409
    assert count(session, FieldVisitRequest) == 0
    # the other debtor's case is not held
    other = field_service.request_visit(
        session,
        case_id=world.other.case.id,
        user=world.manager,
        reason="上门",
        now=NOW + timedelta(hours=3),
    )
    assert other.id is not None


def test_an_officers_dispute_restriction_holds_every_case_of_the_debtor_until_it_ends(
    session, world
):
    """The gate's notion of a dispute: a ``dispute`` restriction an officer recorded, on one
    case or on every case of the debtor, from its start until its end or its lifting."""
    compliance_service.set_restriction(
        session,
        debtor_id=world.mine.debtor.id,
        flag="dispute",
        reason="debtor disputed by letter",
        set_by="officer",
        starts_at=NOW,
        ends_at=NOW + timedelta(days=1),
        now=NOW,
    )
    with pytest.raises(CaseUnderDispute):
        promise(session, world)
    with pytest.raises(CaseUnderDispute):
        visit(session, world)
    later = NOW + timedelta(days=1, hours=1)
    assert promise(session, world, now=later).id is not None
    assert visit(session, world, now=later).id is not None


def test_the_contact_gate_still_denies_contacts_under_a_dispute(session, world):
    dispute(session, world)
    decision = compliance_service.decide(
        session,
        case_id=world.mine.case.id,
        channel="sms",
        planned_at=NOW + timedelta(hours=3),
        collecting_party="in-house",
        requested_by="agent-1",
        now=NOW + timedelta(hours=3),
    )
    assert not decision.allowed and "dispute" in decision.reasons
