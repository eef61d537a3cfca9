from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtflow.core.strategy.schedules import (
    BurdenChange,
    GraceInterest,
    ScheduleError,
    ScheduleMethod,
    ScheduleTerms,
    build_schedule,
    burden_change,
    monthly_rate_from_annual_bp,
)

rates = st.integers(min_value=0, max_value=5_000_000).map(lambda u: Decimal(u) / 10**8)
terms = st.builds(
    ScheduleTerms,
    principal_fen=st.integers(min_value=0, max_value=10**10),
    months=st.integers(min_value=1, max_value=60),
    monthly_rate=rates,
    method=st.sampled_from(ScheduleMethod),
    grace_months=st.integers(min_value=0, max_value=6),
    grace_interest=st.sampled_from(GraceInterest),
)


@settings(max_examples=150, deadline=None)
@given(terms)
def test_principal_parts_sum_to_principal_and_instalments_sum_to_total(t: ScheduleTerms) -> None:
    schedule = build_schedule(t)
    assert sum(i.principal_fen for i in schedule.instalments) == t.principal_fen
    assert schedule.total_fen == t.principal_fen + schedule.total_interest_fen
    assert schedule.term_months == t.months + t.grace_months
    assert schedule.instalments[-1].balance_after_fen == 0


@settings(max_examples=150, deadline=None)
@given(terms)
def test_no_part_is_negative_and_the_balance_only_falls(t: ScheduleTerms) -> None:
    schedule = build_schedule(t)
    balance = t.principal_fen
    for row in schedule.instalments:
        assert row.principal_fen >= 0 and row.interest_fen >= 0
        assert isinstance(row.principal_fen, int) and isinstance(row.interest_fen, int)
        assert row.balance_after_fen == balance - row.principal_fen >= 0
        balance = row.balance_after_fen


@settings(max_examples=200, deadline=None)
@given(terms)
def test_grace_months_come_first_and_repay_no_principal(t: ScheduleTerms) -> None:
    schedule = build_schedule(t)
    for row in schedule.instalments[: t.grace_months]:
        assert row.grace and row.principal_fen == 0
        if t.grace_interest is GraceInterest.WAIVED:
            assert row.interest_fen == 0
    assert not any(r.grace for r in schedule.instalments[t.grace_months :])


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=10**9),
    st.integers(min_value=2, max_value=60),
    rates.filter(lambda r: r > 0),
)
def test_annuity_pays_a_level_amount_until_the_last_instalment(
    principal: int, months: int, rate: Decimal
) -> None:
    schedule = build_schedule(ScheduleTerms(principal, months, rate, ScheduleMethod.ANNUITY))
    totals = [i.total_fen for i in schedule.instalments]
    if principal >= 100 * months:  # amounts large enough not to run out early
        assert len(set(totals[:-1])) == 1
        # each month's rounding (at most 1 fen) compounds at the rate until the last instalment
        r = float(rate)
        assert abs(totals[-1] - totals[0]) <= ((1 + r) ** months - 1) / r + 1


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=1, max_value=60),
    rates,
)
def test_equal_principal_parts_differ_by_at_most_one_fen(
    principal: int, months: int, rate: Decimal
) -> None:
    schedule = build_schedule(
        ScheduleTerms(principal, months, rate, ScheduleMethod.EQUAL_PRINCIPAL)
    )
    parts = [i.principal_fen for i in schedule.instalments]
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)
    interest = [i.interest_fen for i in schedule.instalments]
    assert interest == sorted(interest, reverse=True)


def test_worked_example_of_docs_matches_the_hand_calculation() -> None:
    # docs/strategy.md "Worked example": 3,000 yuan over 3 months at 1 % a month.
    # factor = 0.01 / (1 - 1.01^-3) = 0.340022...; payment = 300000 x factor = 102006.63 -> 102007
    schedule = build_schedule(ScheduleTerms(300_000, 3, Decimal("0.01"), ScheduleMethod.ANNUITY))
    rows = [(i.principal_fen, i.interest_fen, i.balance_after_fen) for i in schedule.instalments]
    assert rows == [
        (99_007, 3_000, 200_993),  # interest 300000 x 1 %
        (99_997, 2_010, 100_996),  # interest 2009.93 -> 2010
        (100_996, 1_010, 0),  # interest 1009.96 -> 1010; last takes the balance
    ]
    assert schedule.total_fen == 306_020
    change = burden_change(schedule, current_monthly_fen=170_000)
    assert change.change_bp == -4_000
    assert change.describe_en() == "3 instalments, \u221240 % a month"
    assert change.describe_zh() == "分3期，月供减少40%"


def test_zero_rate_spreads_the_odd_fen_over_the_first_instalments() -> None:
    schedule = build_schedule(ScheduleTerms(100, 3))
    assert [i.total_fen for i in schedule.instalments] == [34, 33, 33]


def test_interest_only_grace_charges_the_months_interest() -> None:
    schedule = build_schedule(
        ScheduleTerms(
            1_000_000,
            2,
            Decimal("0.005"),
            ScheduleMethod.EQUAL_PRINCIPAL,
            grace_months=2,
            grace_interest=GraceInterest.INTEREST_ONLY,
        )
    )
    assert [i.total_fen for i in schedule.instalments] == [5_000, 5_000, 505_000, 502_500]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"principal_fen": -1, "months": 3}, "negative"),
        ({"principal_fen": 1.5, "months": 3}, "integer"),
        ({"principal_fen": 100, "months": 0}, "at least one"),
        ({"principal_fen": 100, "months": 3, "grace_months": -1}, "grace"),
        ({"principal_fen": 100, "months": 3, "monthly_rate": Decimal("-0.01")}, "negative"),
        ({"principal_fen": 100, "months": 3, "monthly_rate": Decimal("0.000000001")}, "decimal"),
        ({"principal_fen": 100, "months": 3, "monthly_rate": 0.01}, "Decimal"),
        ({"principal_fen": 100, "months": 400}, "longer"),
    ],
)
def test_bad_terms_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        ScheduleTerms(**kwargs)  # type: ignore[arg-type]


def test_annual_basis_points_become_a_monthly_rate() -> None:
    assert monthly_rate_from_annual_bp(1_800) == Decimal("0.015")
    assert monthly_rate_from_annual_bp(365) == Decimal("0.00304167")


def test_burden_change_wording_for_heavier_and_equal_payments() -> None:
    assert BurdenChange(100_000, 125_000, 6).describe_en() == "6 instalments, +25 % a month"
    assert BurdenChange(100_000, 125_000, 6).describe_zh() == "分6期，月供增加25%"
    assert BurdenChange(100_000, 100_000, 2).describe_zh() == "分2期，月供不变"
    with pytest.raises(ScheduleError):
        _ = BurdenChange(0, 100, 2).change_bp


def test_worked_example_table_in_the_docs_is_the_schedule() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[3] / "docs/strategy.md").read_text("utf-8")
    section = text.split("### Worked example", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith(("| 1 |", "| 2 |", "| 3 |"))]

    def last_number(cell: str) -> int:
        return int(cell.strip().split()[-1].replace(",", "").split("=")[-1])

    documented = []
    for line in rows:
        cells = [c for c in line.split("|")[1:-1]]
        principal_cell = cells[2].split("(")[0]
        documented.append(
            (last_number(principal_cell), last_number(cells[3]), last_number(cells[4]))
        )
    schedule = build_schedule(ScheduleTerms(300_000, 3, Decimal("0.01"), ScheduleMethod.ANNUITY))
    actual = [(i.principal_fen, i.total_fen, i.balance_after_fen) for i in schedule.instalments]
    assert documented == actual


def test_burden_percent_is_rounded_once_from_the_amounts() -> None:
    # 200,000 → 119,010 fen is −40.495 %: −40 %, though the basis points round to −4,050
    change = BurdenChange(200_000, 119_010, 12)
    assert change.change_bp == -4_050
    assert change.change_percent == -40
    assert change.describe_zh() == "分12期，月供减少40%"
    assert BurdenChange(200_000, 119_000, 12).change_percent == -41  # −40.5 %: away from 0


@pytest.mark.parametrize(
    ("principal", "rate"), [(81_198_149, "0.05"), (58_705_830, "0.02"), (10**9, "0.03")]
)
def test_a_long_annuity_at_a_high_rate_is_repaid_in_its_last_month(
    principal: int, rate: str
) -> None:
    schedule = build_schedule(ScheduleTerms(principal, 360, Decimal(rate), ScheduleMethod.ANNUITY))
    totals = [i.total_fen for i in schedule.instalments]
    assert min(totals) > 0 and len(set(totals[:-1])) == 1
    assert (
        schedule.instalments[-2].balance_after_fen > 0 == schedule.instalments[-1].balance_after_fen
    )
    assert sum(i.principal_fen for i in schedule.instalments) == principal
