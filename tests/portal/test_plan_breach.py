"""A signed plan whose instalment is more than 30 days late (the agreement's term 2) is
ended by the nightly step: the plan is broken, the relief lapses, a paying case goes back
to active, the breach is in the evidence log, and the debtor may choose a new plan — which
counts only what is paid after its own signature."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.evidence.leaf import parse_leaf
from debtflow.db import unit_of_work, utcnow
from debtflow.models import Account, Case, EvidenceLogLeaf, PortalPlan
from debtflow.nightly import service as nightly
from debtflow.payment import service as payment_service
from debtflow.portal import nightly as plan_nightly
from debtflow.portal import service
from factories import make_creditor
from portal.conftest import ACCOUNTS, NOW, SHANGHAI, add_debtor_case, sign_plan
from portal.test_http import http  # noqa: F401  (the HTTP world fixture)

HARDSHIP = {"kind": "restructuring", "term_months": 12, "repayment_months": 12, "refused": []}


def sign(session, world, term_months=6, now=NOW):
    return sign_plan(session, world, term_months=term_months, at=now)


def schedule(session, world):
    current = service.load_case_plan(session, world.case.id)
    return [r for r in current.instalments if r.amount_fen > 0]


def book(session, world, amount_fen, at, ref):
    account = world.accounts[0]
    payment_service.book(
        session, account_id=account.id, amount_fen=amount_fen, paid_at=at, reference=ref, now=at
    )


def breach_leaves(session, case_id):
    leaves = session.scalars(
        select(EvidenceLogLeaf)
        .where(EvidenceLogLeaf.case_id == case_id, EvidenceLogLeaf.kind == "case_status")
        .order_by(EvidenceLogLeaf.idx)
    ).all()
    payloads = [parse_leaf(leaf.canonical_bytes).payload for leaf in leaves]
    return [p for p in payloads if p.get("event") == "plan_broken"]


def run_step(session, as_of):
    counts = plan_nightly.break_late_plans(session, as_of)
    session.flush()
    session.expire_all()
    return counts


def test_the_step_runs_after_settling_and_before_strategy():
    order = [s.name for s in nightly.steps()]
    assert order.index("settle") < order.index("plan_breach") < order.index("strategy")
    assert order.index("promises") < order.index("plan_breach")


def test_an_instalment_31_days_late_breaks_the_plan_once(session, world):
    mine = world.mine
    plan = sign(session, mine)
    rows = schedule(session, mine)
    # the first payment is made, on time: the case is paying
    book(session, mine, rows[0].amount_fen, NOW + timedelta(minutes=5), "breach-1")
    session.expire_all()
    assert session.get(Case, mine.case.id).status.value == "paying"
    late = rows[1]
    owed_before = session.get(Case, mine.case.id).outstanding_fen

    counts = run_step(session, late.due_on + timedelta(days=31))

    assert counts["plans_broken"] == 1 and counts["cases_reactivated"] == 1
    broken = session.get(PortalPlan, plan.id)
    assert broken.status == "broken"
    assert broken.broken_instalment == late.number and broken.broken_at is not None
    case = session.get(Case, mine.case.id)
    assert case.status.value == "active"
    # the relief was never taken off the accounts: they still say what is owed
    assert case.outstanding_fen == owed_before
    [leaf] = breach_leaves(session, mine.case.id)
    assert leaf["plan_id"] == plan.id and leaf["instalment_number"] == late.number
    assert leaf["days_late"] == 31 and leaf["owed_on_instalment_fen"] == late.amount_fen
    assert leaf["relief_lapsed_fen"] == plan.relief_fen == 27_000
    # no longer the case's plan
    assert service.plan_of(session, case_id=mine.case.id, user=mine.user) is None
    # the second run changes nothing
    again = run_step(session, late.due_on + timedelta(days=31))
    assert again["plans_broken"] == 0 and again["cases_reactivated"] == 0
    assert len(breach_leaves(session, mine.case.id)) == 1
    assert session.get(Case, mine.case.id).status.value == "active"


def test_30_days_late_is_not_yet_a_breach(session, world):
    mine = world.mine
    plan = sign(session, mine)
    first = schedule(session, mine)[0]
    counts = run_step(session, first.due_on + timedelta(days=30))
    assert counts["plans_broken"] == 0 and counts["plans_checked"] >= 1
    assert session.get(PortalPlan, plan.id).status == "signed"
    assert breach_leaves(session, mine.case.id) == []


def test_a_plan_paid_on_time_is_not_broken(session, world):
    mine = world.mine
    plan = sign(session, mine)
    rows = schedule(session, mine)
    for n, row in enumerate(rows[:3]):
        at = datetime.combine(row.due_on, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(
            hours=12
        )
        book(session, mine, row.amount_fen, max(at, NOW + timedelta(minutes=1)), f"ontime-{n}")
    # 31 days after the third payment's due date, the fourth is not yet due + 30
    counts = run_step(session, rows[2].due_on + timedelta(days=31))
    assert counts["plans_broken"] == 0
    assert session.get(PortalPlan, plan.id).status == "signed"
    assert session.get(Case, mine.case.id).status.value == "paying"


def test_late_days_are_the_debtors_local_dates(session, world):
    """The business date is Shanghai's; at its last moment a debtor in Kiritimati (6 h
    ahead) is already on the next day, so their 31st day late is business day 30."""
    mine = world.mine
    plan = sign(session, mine)
    first = schedule(session, mine)[0]
    mine.debtor.timezone = "Pacific/Kiritimati"
    session.flush()
    assert run_step(session, first.due_on + timedelta(days=29))["plans_broken"] == 0
    assert run_step(session, first.due_on + timedelta(days=30))["plans_broken"] == 1
    assert session.get(PortalPlan, plan.id).status == "broken"


def test_after_a_breach_a_new_plan_is_chosen_and_signed_and_counts_only_its_own_payments(
    session, world
):
    mine = world.mine
    old = sign(session, mine)
    rows = schedule(session, mine)
    first_paid = rows[0].amount_fen
    book(session, mine, first_paid, NOW + timedelta(minutes=5), "old-plan-1")
    as_of = rows[1].due_on + timedelta(days=31)
    assert run_step(session, as_of)["plans_broken"] == 1
    # before a new plan: the case page tells why and offers plans again
    view = service.portal_case(session, case_id=mine.case.id, user=mine.user, now=utcnow())
    assert view.plan is None and view.broken_plan.id == old.id
    assert view.offers, "an active case with an instalment treatment is offered plans again"

    later = datetime.combine(as_of, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=10)
    new = sign(session, mine, now=later)
    assert new.id != old.id and new.status == "signed"
    assert session.get(PortalPlan, old.id).status == "broken"
    current = service.plan_of(session, case_id=mine.case.id, user=mine.user)
    assert current.plan.id == new.id
    # the new plan was worked out on what is owed now; what was paid under the old plan
    # lowered that debt and does not count again towards the new schedule
    assert current.paid_since_signing_fen == 0
    due, owed = current.next_due()
    assert owed == due.amount_fen and due.due_on >= as_of
    assert new.total_fen < old.total_fen
    # the new plan is no longer broken by the old plan's late instalment
    assert run_step(session, as_of)["plans_broken"] == 0
    # once signed, no other plan may be chosen
    with pytest.raises(service.AgreementAlreadySigned):
        service.choose_plan(session, case_id=mine.case.id, user=mine.user, term_months=6, now=later)


def test_one_live_plan_per_case_is_kept_by_the_database(session, world):
    mine = world.mine
    plan = sign(session, mine)
    twin = PortalPlan(
        **{
            c.key: getattr(plan, c.key)
            for c in PortalPlan.__table__.columns
            if c.key not in ("id", "status")
        },
        status="chosen",
    )
    session.add(twin)
    with pytest.raises(Exception, match="(?i)unique"):
        session.flush()


def test_plan_interest_of_months_not_yet_due_is_taken_off_again(session):
    creditor = make_creditor(session, code="BREACHHARD")
    creditor.min_first_payment_bp = 100
    world = add_debtor_case(
        session,
        creditor_id=creditor.id,
        name="赵困难",
        accounts=ACCOUNTS,
        treatment=HARDSHIP,
        segment="hardship",
    )
    sign(session, world, term_months=14)
    rows = schedule(session, world)
    booked_interest = sum(r.interest_fen for r in rows)
    assert booked_interest > 0
    owed_signed = session.get(Case, world.case.id).outstanding_fen
    as_of = rows[0].due_on + timedelta(days=31)
    counts = run_step(session, as_of)
    assert counts["plans_broken"] == 1
    not_due = sum(r.interest_fen for r in rows if r.due_on > as_of)
    assert counts["plan_interest_reversed_fen"] == not_due > 0
    case = session.get(Case, world.case.id)
    accounts = session.scalars(select(Account).where(Account.case_id == world.case.id)).all()
    assert case.outstanding_fen == owed_signed - not_due
    assert sum(a.outstanding_fen for a in accounts) == case.outstanding_fen
    [leaf] = breach_leaves(session, world.case.id)
    assert leaf["interest_reversed_fen"] == not_due


def test_a_settled_case_is_left_alone(session, world):
    mine = world.mine
    plan = sign(session, mine)
    first = schedule(session, mine)[0]
    session.get(Case, mine.case.id).status = CaseStatus.CLOSED
    session.flush()
    assert run_step(session, first.due_on + timedelta(days=60))["plans_broken"] == 0
    assert session.get(PortalPlan, plan.id).status == "signed"


def test_the_case_page_says_why_the_plan_ended_and_offers_plans_again(http):  # noqa: F811
    world, _api, browser, _csrf, _webhook = http
    mine = world.mine
    with unit_of_work() as session:
        sign(session, mine)
        late = schedule(session, mine)[0]
        number = late.number
        assert run_step(session, late.due_on + timedelta(days=31))["plans_broken"] == 1
    page = browser.get(f"/portal/cases/{mine.case.id}")
    assert page.status_code == 200
    assert 'id="plan-broken"' in page.text
    assert "逾期超过30天未还，原还款方案已终止" in page.text
    assert 'id="sign-form"' not in page.text and "data-term=" in page.text
    browser.cookies.set("lang", "en")
    page = browser.get(f"/portal/cases/{mine.case.id}")
    what = "the down payment" if number == 0 else f"instalment {number}"
    assert f"because {what} was more than 30 days late" in page.text
    assert "data-term=" in page.text


def test_the_breach_reason_counts_instalments_as_the_debtor_does(session):
    """With grace months the first instalment is month 3 of the plan, but the debtor's
    page and agreement call it instalment 1: the status-change reason says the same."""
    creditor = make_creditor(session, code="BREACH-GRACE")
    graced = add_debtor_case(
        session,
        creditor_id=creditor.id,
        name="周雨",
        accounts=ACCOUNTS,
        treatment={"kind": "restructuring", "term_months": 26, "repayment_months": 24},
        segment="hardship",
    )
    offer = service.plan_offers(session, case_id=graced.case.id, user=graced.user, now=NOW)[0]
    plan = sign(session, graced, term_months=offer.term_months)
    rows = schedule(session, graced)
    down, first = rows[0], next(r for r in rows if r.principal_fen > 0 and r.number > 0)
    assert down.number == 0 and first.number > 1, "the offer has grace months"
    book(session, graced, down.amount_fen, NOW + timedelta(minutes=5), "grace-down")
    assert run_step(session, first.due_on + timedelta(days=31))["plans_broken"] == 1
    broken = session.get(PortalPlan, plan.id)
    assert broken.broken_instalment == first.number  # the schedule's month, as stored
    [leaf] = breach_leaves(session, graced.case.id)
    assert leaf["instalment_ordinal"] == 1 and leaf["instalment_number"] == first.number
    assert "broken: instalment 1 due" in leaf["reason"]
