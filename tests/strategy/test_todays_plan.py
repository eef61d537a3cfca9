"""The plan a case would be given now, on SQLite and PostgreSQL: right after the night it is
exactly the stored plan; a creditor's new limits or a payment during the day make it
differ, and it always keeps to the creditor's limits as they are now."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from debtflow.case import service as case_service
from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.core.strategy.treatment import check_mandate
from debtflow.models import Case, Creditor
from debtflow.nightly import service as nightly
from debtflow.portfolio import service as portfolio_service
from debtflow.strategy.todays_plan import stored_plan_differs, todays_plan
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio


@pytest.fixture
def treated(session, tmp_path):
    """30 cases of one creditor, treated by the nightly cycle."""
    make_creditor(session)
    path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=30, seed=8))
    portfolio_service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    nightly.run(session, as_of=TODAY)
    cases = session.scalars(
        select(Case).where(Case.status.in_(list(OPEN_STATUSES))).order_by(Case.id)
    ).all()
    return session, cases


def _today(session, case):  # type: ignore[no-untyped-def]
    creditor = session.get(Creditor, case.creditor_id)
    accounts = case_service.get_with_accounts(session, case_id=case.id).accounts
    return todays_plan(case=case, creditor=creditor, accounts=accounts)


def test_right_after_the_night_todays_plan_is_the_stored_one(treated):
    session, cases = treated
    kinds = set()
    for case in cases:
        today = _today(session, case)
        assert today is not None
        assert today.headline() == case.treatment, case.id
        assert not stored_plan_differs(case.treatment, today)
        kinds.add(case.treatment["kind"])
    assert {"instalments", "legal"} <= kinds


def test_a_tightened_mandate_makes_todays_plan_keep_to_it_and_differ(treated):
    session, cases = treated
    offered = [
        c
        for c in cases
        if c.treatment["kind"] != "legal"
        and not c.treatment["refused"]
        and c.treatment["relief_fen"] > 0
    ]
    assert offered, "the test needs a case offered relief"
    creditor = session.get(Creditor, offered[0].creditor_id)
    creditor.max_relief_bp = 0
    creditor.max_term_months = 3
    session.flush()
    for case in offered:
        today = _today(session, case)
        assert today is not None
        assert today.plan is None, "no relief is allowed any more: every offer is refused"
        assert "relief" in today.refused
        assert today.refused_offer is not None
        assert check_mandate(today.refused_offer, today.mandate) == today.refusal
        assert stored_plan_differs(case.treatment, today)
        assert today.headline()["refused"] == list(today.refused)


def test_a_raised_minimum_first_payment_raises_todays_down_payment(treated):
    """A restructuring plan's down payment is raised to the creditor's minimum first payment
    (never bent otherwise): a creditor that raises its minimum during the day gets today's
    plan with the higher down payment, within its new limits."""
    session, cases = treated
    case = next(
        c for c in cases if c.treatment["kind"] == "restructuring" and not c.treatment["refused"]
    )
    creditor = session.get(Creditor, case.creditor_id)
    creditor.min_first_payment_bp = 1_000
    session.flush()
    today = _today(session, case)
    assert today is not None and today.plan is not None and today.plan.offer is not None
    offer = today.plan.offer
    assert offer.down_payment_fen > case.treatment["down_payment_fen"]
    assert offer.first_payment_fen >= today.debt.total_fen * 1_000 // 10_000
    assert check_mandate(offer, today.mandate) == ()
    assert stored_plan_differs(case.treatment, today)


def test_a_payment_changes_todays_plan(treated):
    session, cases = treated
    case = next(c for c in cases if c.treatment["kind"] == "instalments")
    accounts = case_service.get_with_accounts(session, case_id=case.id).accounts
    accounts[0].principal_fen //= 2
    session.flush()
    today = _today(session, case)
    assert today is not None
    assert today.headline() != case.treatment
    assert stored_plan_differs(case.treatment, today)


def test_an_unplanned_or_legal_case_has_nothing_that_differs(treated):
    session, cases = treated
    legal = next(c for c in cases if c.treatment["kind"] == "legal")
    creditor = session.get(Creditor, legal.creditor_id)
    creditor.max_relief_bp = 0
    session.flush()
    assert not stored_plan_differs(legal.treatment, _today(session, legal))
    unplanned = Case(segment=None, treatment=None)
    assert todays_plan(case=unplanned, creditor=creditor, accounts=[]) is None
    assert not stored_plan_differs(None, None)
