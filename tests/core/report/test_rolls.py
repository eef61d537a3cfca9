"""Bucket roll rates per month from the bucket history — no database."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from debtflow.core.report.rates import ReportInputError
from debtflow.core.report.rolls import (
    AccountPath,
    BucketMove,
    bucket_on,
    bucket_rank,
    month_starts,
    roll_matrices,
)

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)


def path(current: str, placed: date, *moves: tuple[date, str, str]) -> AccountPath:
    return AccountPath(
        current_bucket=current, placed_on=placed, moves=tuple(BucketMove(*m) for m in moves)
    )


def test_bucket_on_a_day_reads_the_history() -> None:
    account = path("M3", date(2026, 9, 1), (date(2026, 10, 5), "M1", "M2"),
                   (date(2026, 11, 5), "M2", "M3"))  # fmt: skip
    assert bucket_on(account, date(2026, 10, 1)) == "M1"
    assert bucket_on(account, date(2026, 10, 5)) == "M1"  # before that day's move
    assert bucket_on(account, date(2026, 10, 6)) == "M2"
    assert bucket_on(account, date(2026, 12, 1)) == "M3"


def test_months_and_ranks() -> None:
    assert month_starts(date(2026, 10, 15), date(2026, 12, 1)) == [OCT, NOV]
    assert month_starts(date(2026, 12, 31), date(2027, 1, 2)) == [date(2026, 12, 1),
                                                                  date(2027, 1, 1)]  # fmt: skip
    assert sorted(["M6+", "M10", "M2", "M0"], key=bucket_rank) == ["M0", "M2", "M6+", "M10"]
    with pytest.raises(ReportInputError):
        month_starts(NOV, OCT)


def test_roll_matrix_hand_computed() -> None:
    paths = [
        # M1 -> M2 in October, M2 -> M3 in November
        path(
            "M3", date(2026, 9, 1), (date(2026, 10, 5), "M1", "M2"), (date(2026, 11, 5), "M2", "M3")
        ),  # fmt: skip
        # M1 -> M2 -> M1 within October: stayed M1 over the month; cured to M0 in November
        path(
            "M0",
            date(2026, 9, 1),
            (date(2026, 10, 3), "M1", "M2"),
            (date(2026, 10, 20), "M2", "M1"),
            (date(2026, 11, 2), "M1", "M0"),
        ),  # fmt: skip
        # placed in November: starts M0, first ageing puts it in M2
        path("M2", date(2026, 11, 10), (date(2026, 11, 10), "M0", "M2")),
    ]
    october, november = roll_matrices(
        paths, [OCT, NOV], unmoved={OCT: Counter({"M1": 2}), NOV: Counter({"M1": 2})}
    )
    assert october.counts == {("M1", "M2"): 1, ("M1", "M1"): 3}
    assert october.roll_rate("M1") == pytest.approx(0.25)
    assert october.cure_rate("M1") == 0.0
    assert october.share("M1", "M1") == pytest.approx(0.75)
    assert october.roll_rate("M5") is None
    assert november.counts == {("M2", "M3"): 1, ("M1", "M0"): 1, ("M0", "M2"): 1,
                               ("M1", "M1"): 2}  # fmt: skip
    assert november.buckets == ["M0", "M1", "M2", "M3"]
    assert november.roll_rate("M2") == 1.0
    assert november.cure_rate("M1") == pytest.approx(1 / 3)
    assert november.roll_rate("M0") == 1.0


def test_roll_inputs_are_checked() -> None:
    with pytest.raises(ReportInputError):
        roll_matrices([], [date(2026, 10, 2)])
    with pytest.raises(ReportInputError):
        roll_matrices([], [OCT], unmoved={NOV: Counter({"M1": 1})})
    backwards = path("M2", OCT, (date(2026, 10, 9), "M1", "M2"), (date(2026, 10, 2), "M0", "M1"))
    with pytest.raises(ReportInputError):
        roll_matrices([backwards], [OCT])
    assert roll_matrices([], [OCT])[0].counts == {}
