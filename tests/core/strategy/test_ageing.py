from datetime import date

import pytest

from debtflow.core.strategy.ageing import Schedule, add_months, days_past_due

SCHEDULE = Schedule(first_due=date(2026, 1, 31), instalment_fen=100_00, instalment_count=12)


def test_months_are_added_with_month_end_clamping():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


def test_nothing_due_yet_is_current():
    aged = days_past_due(SCHEDULE, paid_before_fen=0, payments=[], as_of=date(2026, 1, 30))
    assert aged.days_past_due == 0 and aged.overdue_fen == 0


def test_days_count_from_the_oldest_uncovered_instalment():
    # three instalments due (31 Jan, 28 Feb, 31 Mar); one and a half paid
    aged = days_past_due(SCHEDULE, paid_before_fen=150_00, payments=[], as_of=date(2026, 4, 10))
    assert aged.oldest_unpaid_due == date(2026, 2, 28)
    assert aged.days_past_due == (date(2026, 4, 10) - date(2026, 2, 28)).days
    assert aged.overdue_fen == 150_00
    assert aged.instalments_overdue == 2


def test_later_payments_cure_and_future_payments_do_not_count():
    payments = [(date(2026, 4, 5), 200_00), (date(2026, 4, 20), 100_00)]
    aged = days_past_due(SCHEDULE, paid_before_fen=0, payments=payments, as_of=date(2026, 4, 10))
    assert aged.oldest_unpaid_due == date(2026, 3, 31)
    assert aged.days_past_due == 10
    cured = days_past_due(SCHEDULE, paid_before_fen=0, payments=payments, as_of=date(2026, 4, 25))
    assert cured.days_past_due == 0


def test_schedule_total_puts_the_remainder_in_the_last_instalment():
    schedule = Schedule(
        first_due=date(2026, 1, 1),
        instalment_fen=3334,
        instalment_count=3,
        schedule_total_fen=10000,
    )
    assert [i.amount_fen for i in schedule.instalments()] == [3334, 3334, 3332]
    assert schedule.total_fen == 10000


@pytest.mark.parametrize(
    "kwargs",
    [
        {"instalment_fen": 0, "instalment_count": 3},
        {"instalment_fen": 100, "instalment_count": 0},
        {"instalment_fen": 100, "instalment_count": 3, "schedule_total_fen": 150},
    ],
)
def test_impossible_schedules_are_refused(kwargs):
    with pytest.raises(ValueError):
        Schedule(first_due=date(2026, 1, 1), **kwargs).instalments()
