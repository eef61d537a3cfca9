"""What the debtor did in the portal, as staff meet it: a dispute holds the case (no promise
to pay, no field visit), and the case page and case API show the signed plan, the dispute
and the legal-advice requests instead of proposing a fresh plan."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.auth.deps import SESSION_COOKIE
from debtflow.compliance import service as compliance_service
from debtflow.compliance.service import CaseUnderDispute
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.money import fen_to_yuan
from debtflow.db import get_engine, unit_of_work, utcnow
from debtflow.field import service as field_service
from debtflow.migrate import upgrade
from debtflow.models import FieldVisitRequest, PromiseToPay
from debtflow.payment import service as payment_service
from debtflow.portal import requests as debtor_requests
from debtflow.portal import service
from debtflow.promise import service as promise_service
from debtflow.strategy import service as strategy_service
from portal.conftest import NOW, make_world, sign_plan


def sign_plan_and_pay_down(session, world, *, term_months: int = 6, at=NOW):
    """The debtor of ``world.mine`` chooses and signs ``term_months`` at ``at`` and pays the
    first payment due a minute later; returns the plan as the portal reads it."""
    case_id = world.mine.case.id
    sign_plan(session, world.mine, term_months=term_months, at=at, signer_name="李小梅")
    first = service.load_case_plan(session, case_id).next_due()
    payment_service.book(
        session,
        account_id=world.mine.accounts[0].id,
        amount_fen=first[1],
        paid_at=at + timedelta(minutes=1),
        reference="down-payment",
        now=at + timedelta(minutes=1),
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


def test_staff_see_the_signed_plan_the_dispute_and_the_legal_request(session, world):
    plan = sign_plan_and_pay_down(session, world)
    dispute(session, world)
    debtor_requests.request_legal_advice(
        session,
        case_id=world.mine.case.id,
        user=world.mine.user,
        question="减免后的金额是否合法？",
        contact_channel="call",
        contact_time="工作日晚上",
        now=NOW + timedelta(hours=2),
    )
    seen = service.arrangements_of_case(
        session, case_id=world.mine.case.id, user=world.manager, now=NOW + timedelta(hours=3)
    )
    assert seen.plan_in_force is not None and seen.plan.status == "signed"
    due = plan.next_due()
    assert (seen.plan.next_due_on, seen.plan.next_due_fen) == (due[0].due_on, due[1])
    assert seen.plan.paid_fen == plan.paid_since_signing_fen > 0
    assert seen.plan.term_months == 6 and seen.plan.monthly_fen == due[1]
    assert [(d.source, d.reason) for d in seen.disputes] == [("portal", "利息计算有误，我要求核实")]
    assert [r.question for r in seen.legal_requests] == ["减免后的金额是否合法？"]
    # who may not read legal-advice requests sees that one is open, not the question
    auditor = service.arrangements_of_case(
        session, case_id=world.mine.case.id, user=world.agent, now=NOW + timedelta(hours=3)
    )
    assert [r.question for r in auditor.legal_requests] == [None]
    # nothing of it on the other debtor's case
    other = service.arrangements_of_case(
        session, case_id=world.other.case.id, user=world.manager, now=NOW + timedelta(hours=3)
    )
    assert (other.plan, other.disputes, other.legal_requests) == (None, [], [])


def test_case_explain_describes_the_signed_plan_not_a_fresh_offer(session, world):
    """`debtflow case explain` (``strategy_service.explain_case``) speaks of the plan the
    debtor signed, as the case page shows it, and proposes no other."""
    case = world.mine.case
    case.propensity, case.segment_rule = 0.62, "early, likely to pay"
    session.flush()
    offered = strategy_service.explain_case(session, case_id=case.id)
    assert offered.plan == "offer" and "Plan: instalments" in offered.en
    plan = sign_plan_and_pay_down(session, world)
    explained = strategy_service.explain_case(session, case_id=case.id)
    signed = service.signed_plan_of(session, case_id=case.id)
    assert explained.plan == "signed" and signed is not None
    due_on, due_fen = plan.next_due()[0].due_on, plan.next_due()[1]
    line = next(x for x in explained.en.splitlines() if x.startswith("The debtor signed"))
    assert f"on {NOW.astimezone(ZoneInfo('Asia/Shanghai')).date()} (李小梅): 6 months" in line
    assert f"{fen_to_yuan(signed.paid_fen)} yuan paid" in line
    assert f"next payment {due_on}: {fen_to_yuan(due_fen)} yuan" in line
    assert line.endswith("No other plan is offered while it is in force.")
    assert "Plan: " not in explained.en and "方案：" not in explained.zh
    assert "债务人已于" in explained.zh and "review" in explained.en.splitlines()[-1]
    # closed, the case has no plan at all, signed or offered
    case.status = CaseStatus.CLOSED
    session.flush()
    closed = strategy_service.explain_case(session, case_id=case.id)
    assert closed.plan == "none" and "signed" not in closed.en
    assert closed.en.startswith(f"Case {case.id} is closed: no repayment plan applies.")


@pytest.fixture
def staff_http(database_url):
    """The portal world committed, the debtor's plan signed and paid down, a dispute and a
    legal-advice request filed a moment ago, and a manager signed in to the staff pages."""
    upgrade(get_engine())
    start = utcnow() - timedelta(minutes=10)
    with unit_of_work() as session:
        world = make_world(session)
        plan = sign_plan_and_pay_down(session, world, at=start)
        dispute(session, world, at=start + timedelta(minutes=2))
        debtor_requests.request_legal_advice(
            session,
            case_id=world.mine.case.id,
            user=world.mine.user,
            question="减免后的金额是否合法？",
            contact_channel="call",
            contact_time="工作日晚上",
            now=start + timedelta(minutes=3),
        )
        cookie, web_session = auth_service.start_session(session, user=world.manager)
        csrf = web_session.csrf_token
    browser = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    browser.cookies.set(SESSION_COOKIE, cookie)
    return world, plan, browser, csrf


def test_the_case_page_shows_the_plan_in_force_and_quotes_no_new_offer(staff_http):
    world, plan, browser, csrf = staff_http
    case_id = world.mine.case.id
    page = browser.get(f"/cases/{case_id}")
    assert page.status_code == 200
    html = page.text
    due = plan.next_due()
    assert 'id="agreed-plan"' in html and 'data-status="signed"' in html
    assert f"¥{fen_to_yuan(due[1])}" in html and str(due[0].due_on) in html
    assert 'id="plan-offer"' not in html  # no fresh plan proposed beside the signed one
    assert 'data-script-id="agreed-plan-next-due"' in html
    assert re.search(r"分\d+期", html) is None and "每期" not in html
    assert 'id="dispute-in-force"' in html and "利息计算有误，我要求核实" in html
    assert 'id="legal-requests"' in html and "减免后的金额是否合法？" in html
    capacity = re.search(r'id="capacity-instalments">([^<]*)<', html)
    assert capacity is not None and capacity.group(1).strip() == fen_to_yuan(due[1])
    # the reply script quotes no offer either
    reply = browser.post(
        f"/cases/{case_id}/script", data={"said": "我想分期还款", "csrf_token": csrf}
    )
    assert reply.status_code == 200
    assert "每期" not in reply.text and re.search(r"分\d+期", reply.text) is None
    # the JSON case view says the same
    body = browser.get(f"/api/cases/{case_id}").json()
    assert body["signed_plan"]["status"] == "signed"
    assert (body["signed_plan"]["next_due_on"], body["signed_plan"]["next_due_fen"]) == (
        str(due[0].due_on),
        due[1],
    )
    assert [d["source"] for d in body["disputes"]] == ["portal"]
    assert [r["question"] for r in body["legal_requests"]] == ["减免后的金额是否合法？"]


def test_the_case_page_refuses_a_promise_and_a_visit_under_the_dispute(staff_http):
    world, _plan, browser, csrf = staff_http
    case_id = world.mine.case.id
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    refused = browser.post(
        f"/cases/{case_id}/promises",
        data={"amount_yuan": "100", "due": tomorrow, "csrf_token": csrf},
    )
    assert refused.status_code == 409
    assert "争议处理期间只核实、不催收" in refused.text
    visit_refused = browser.post(
        f"/cases/{case_id}/field-visits", data={"reason": "上门核实", "csrf_token": csrf}
    )
    assert visit_refused.status_code == 409
    assert "争议处理期间只核实、不催收" in visit_refused.text
    with unit_of_work() as session:
        assert count(session, PromiseToPay) == count(session, FieldVisitRequest) == 0
        assert session.get(type(world.mine.case), case_id).status is not CaseStatus.PROMISED
