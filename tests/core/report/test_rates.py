"""Rates, Wilson intervals and the recovery ratio — no database."""

from __future__ import annotations

import pytest

from debtflow.core.report.rates import ReportInputError, rate, recovery, wilson_interval


def test_wilson_interval_matches_published_values() -> None:
    # 8 of 10 and 0 of 10 at 95 %: the textbook Wilson score intervals
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
    low, high = wilson_interval(0, 10)
    assert low == 0.0
    assert high == pytest.approx(0.2775, abs=1e-4)


def test_interval_narrows_with_more_trials_and_contains_the_share() -> None:
    small = wilson_interval(3, 4)
    large = wilson_interval(300, 400)
    assert small[0] < 0.75 < small[1]
    assert large[0] < 0.75 < large[1]
    assert (large[1] - large[0]) < (small[1] - small[0]) / 5


def test_rate_without_trials_is_empty_not_zero() -> None:
    empty = rate(0, 0)
    assert empty.value is None and empty.low is None and empty.high is None
    full = rate(3, 3)
    assert full.value == 1.0 and full.high == 1.0 and full.low is not None and full.low < 1.0


@pytest.mark.parametrize(("hits", "trials"), [(-1, 3), (4, 3), (1, 0), (0, -2)])
def test_rate_refuses_impossible_counts(hits: int, trials: int) -> None:
    with pytest.raises(ReportInputError):
        rate(hits, trials)


def test_recovery_ratio_and_basis_points() -> None:
    figure = recovery(collected_fen=12_345, placed_fen=1_000_000)
    assert figure.value == pytest.approx(0.012345)
    assert figure.basis_points == 123  # 123.45 bp rounds half up to 123
    assert recovery(collected_fen=5, placed_fen=10_000).basis_points == 5
    assert recovery(collected_fen=1, placed_fen=20_000).basis_points == 1  # 0.5 bp -> 1
    nothing = recovery(collected_fen=0, placed_fen=0)
    assert nothing.value is None and nothing.basis_points is None


def test_recovery_refuses_negative_or_float_money() -> None:
    with pytest.raises(ReportInputError):
        recovery(collected_fen=-1, placed_fen=10)
    with pytest.raises(ReportInputError):
        recovery(collected_fen=1.5, placed_fen=10)  # type: ignore[arg-type]


@pytest.mark.parametrize("trials", [1, 3, 7, 10, 97, 1999])
def test_an_interval_at_the_ends_reaches_its_share_exactly(trials: int) -> None:
    assert wilson_interval(0, trials)[0] == 0.0
    assert wilson_interval(trials, trials)[1] == 1.0
    none, every = rate(0, trials), rate(trials, trials)
    assert none.low == none.value == 0.0 and every.high == every.value == 1.0
