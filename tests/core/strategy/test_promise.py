from datetime import date

import pytest

from debtflow.core.strategy.promise import PromiseOutcome, PromiseTerms, promise_outcome

TERMS = PromiseTerms(amount_fen=500_00, due=date(2026, 5, 10), grace_days=3, tolerance_fen=100)
MADE = date(2026, 5, 1)


def test_paid_in_full_by_the_due_date_is_kept():
    outcome = promise_outcome(
        TERMS, [(date(2026, 5, 9), 500_00)], made_on=MADE, today=date(2026, 5, 9)
    )
    assert outcome == PromiseOutcome.KEPT


def test_small_underpayment_within_tolerance_is_kept():
    outcome = promise_outcome(
        TERMS, [(date(2026, 5, 12), 499_00)], made_on=MADE, today=date(2026, 5, 20)
    )
    assert outcome == PromiseOutcome.KEPT


def test_payment_within_grace_counts_and_after_grace_does_not():
    inside = promise_outcome(
        TERMS, [(date(2026, 5, 13), 500_00)], made_on=MADE, today=date(2026, 5, 20)
    )
    late = promise_outcome(
        TERMS, [(date(2026, 5, 14), 500_00)], made_on=MADE, today=date(2026, 5, 20)
    )
    assert inside == PromiseOutcome.KEPT
    assert late == PromiseOutcome.BROKEN


def test_unpaid_promise_is_pending_until_the_grace_ends():
    assert (
        promise_outcome(TERMS, [], made_on=MADE, today=date(2026, 5, 13)) == PromiseOutcome.PENDING
    )
    assert (
        promise_outcome(TERMS, [], made_on=MADE, today=date(2026, 5, 14)) == PromiseOutcome.BROKEN
    )


def test_payments_before_the_promise_was_made_do_not_count():
    outcome = promise_outcome(
        TERMS, [(date(2026, 4, 30), 500_00)], made_on=MADE, today=date(2026, 5, 20)
    )
    assert outcome == PromiseOutcome.BROKEN


@pytest.mark.parametrize("kwargs", [{"amount_fen": 0}, {"amount_fen": 1, "grace_days": -1}])
def test_impossible_terms_are_refused(kwargs):
    with pytest.raises(ValueError):
        PromiseTerms(due=date(2026, 1, 1), **kwargs)


def test_a_promise_within_the_tolerance_is_not_kept_by_paying_nothing():
    small = PromiseTerms(amount_fen=100, due=date(2026, 5, 10), tolerance_fen=100)
    assert promise_outcome(small, [], made_on=MADE, today=date(2026, 5, 2)) == (
        PromiseOutcome.PENDING
    )
    assert promise_outcome(small, [], made_on=MADE, today=date(2026, 6, 1)) == (
        PromiseOutcome.BROKEN
    )
    paid = [(date(2026, 5, 9), 1)]
    assert promise_outcome(small, paid, made_on=MADE, today=date(2026, 6, 1)) == (
        PromiseOutcome.KEPT
    )
