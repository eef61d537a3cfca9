"""The agreement's term 2 as arithmetic: the first instalment not covered by what was paid
breaks the plan once it is more than 30 days late."""

from __future__ import annotations

from datetime import date

from debtflow.core.portal.plan import DatedInstalment, breach, interest_not_due, monthly_instalment

SCHEDULE = (
    DatedInstalment(0, date(2026, 11, 29), 10_000, 0),
    DatedInstalment(1, date(2026, 12, 29), 20_000, 500),
    DatedInstalment(2, date(2027, 1, 29), 20_000, 400),
)


def test_30_days_late_is_not_a_breach_31_is():
    assert breach(SCHEDULE, 0, date(2026, 12, 29)) is None
    found = breach(SCHEDULE, 0, date(2026, 12, 30))
    assert found is not None
    assert (found.instalment.number, found.owed_fen, found.days_late) == (0, 10_000, 31)


def test_payments_cover_the_schedule_in_order():
    assert breach(SCHEDULE, 10_000, date(2027, 1, 28)) is None
    found = breach(SCHEDULE, 15_000, date(2027, 1, 29))
    assert found is not None and (found.instalment.number, found.owed_fen) == (1, 15_500)


def test_a_paid_plan_is_never_broken():
    assert breach(SCHEDULE, 50_900, date(2030, 1, 1)) is None


def test_interest_of_instalments_not_yet_due():
    assert interest_not_due(SCHEDULE, date(2026, 12, 29)) == 400
    assert interest_not_due(SCHEDULE, date(2026, 12, 28)) == 900


def test_the_monthly_instalment_is_the_first_one_not_paid_past_the_down_payment():
    """What the plan asks a month (the capacity report's payment here): not the down
    payment, not a grace month with nothing due; 0 once all is paid."""
    grace = (
        SCHEDULE[0],
        DatedInstalment(1, date(2026, 12, 29), 0, 0),
        DatedInstalment(2, date(2027, 1, 29), 20_000, 500),
    )
    assert monthly_instalment(SCHEDULE, 0) == 20_500
    assert monthly_instalment(grace, 0) == 20_500
    assert monthly_instalment(SCHEDULE, 10_000) == 20_500
    assert monthly_instalment(SCHEDULE, 30_500) == 20_400
    assert monthly_instalment(SCHEDULE, 50_000) == 20_400
    assert monthly_instalment(SCHEDULE, 50_900) == 0
