import math

import pytest

from debtflow.core.strategy.experiments import (
    CaseOutcome,
    Experiment,
    ExperimentError,
    Variant,
    assign,
    assign_many,
    bucket_of,
    experiment_from_weights,
    newcombe_difference,
    report,
    wilson_interval,
)

EXPERIMENT = experiment_from_weights(
    "ptp-script-2026-12", {"control": 2_000, "gentle": 4_000, "firm": 4_000}, control="control"
)


def test_assignment_is_stable_and_order_independent() -> None:
    ids = list(range(1, 2_001))
    first = assign_many(EXPERIMENT, ids)
    again = [assign(EXPERIMENT, i) for i in reversed(ids)][::-1]
    assert first == again
    assert assign(EXPERIMENT, 1234) == assign(EXPERIMENT, "1234")


def test_assignment_follows_the_weights() -> None:
    names = assign_many(EXPERIMENT, range(40_000))
    shares = {n: names.count(n) / len(names) for n in ("control", "gentle", "firm")}
    assert shares["control"] == pytest.approx(0.2, abs=0.01)
    assert shares["gentle"] == pytest.approx(0.4, abs=0.01)


def test_another_experiment_key_reshuffles_cases() -> None:
    other = experiment_from_weights(
        "other", {"control": 2_000, "gentle": 4_000, "firm": 4_000}, "control"
    )
    same = sum(assign(EXPERIMENT, i) == assign(other, i) for i in range(5_000))
    assert 0.3 < same / 5_000 < 0.42  # what independent splits give: 0.04 + 0.16 + 0.16


def test_bucket_is_the_documented_hash() -> None:
    import hashlib

    digest = hashlib.sha256(b"key:42").digest()
    assert bucket_of("key", 42) == int.from_bytes(digest[:8], "big") % 10_000


@pytest.mark.parametrize(
    ("variants", "control", "message"),
    [
        ((Variant("a", 5_000), Variant("b", 4_000)), "a", "sum to 10000"),
        ((Variant("a", 5_000), Variant("b", 5_000)), "c", "control group"),
        ((Variant("a", 10_000), Variant("a", 0)), "a", "unique"),
        ((Variant("a", 10_000), Variant("b", 0)), "a", "positive weight"),
    ],
)
def test_bad_experiments_are_refused(
    variants: tuple[Variant, ...], control: str, message: str
) -> None:
    with pytest.raises(ExperimentError, match=message):
        Experiment("key", variants, control)


def test_wilson_interval_matches_the_textbook_value() -> None:
    # Newcombe (1998) example: 81 / 263 -> 0.2553 .. 0.3662
    interval = wilson_interval(81, 263)
    assert interval.low == pytest.approx(0.2553, abs=1e-4)
    assert interval.high == pytest.approx(0.3662, abs=1e-4)
    assert wilson_interval(0, 10).low == 0.0
    assert math.isnan(wilson_interval(0, 0).estimate)
    with pytest.raises(ValueError):
        wilson_interval(5, 3)


def test_newcombe_difference_matches_the_published_example() -> None:
    # Newcombe (1998) method 10, example 56/70 vs 48/80: 0.0524 .. 0.3339
    difference = newcombe_difference(56, 70, 48, 80)
    assert difference.estimate == pytest.approx(0.2)
    assert difference.low == pytest.approx(0.0524, abs=1e-4)
    assert difference.high == pytest.approx(0.3339, abs=1e-4)


def test_report_compares_each_variant_with_the_control() -> None:
    outcomes = (
        [CaseOutcome("control", 10_000, 0, 1, 0, 0)] * 60
        + [CaseOutcome("control", 10_000, 5_000, 1, 1, 1)] * 40
        + [CaseOutcome("gentle", 10_000, 10_000, 2, 2, 0)] * 70
        + [CaseOutcome("gentle", 10_000, 0, 0, 0, 0)] * 30
    )
    rows = {r.variant: r for r in report(EXPERIMENT, outcomes)}
    control, gentle, firm = rows["control"], rows["gentle"], rows["firm"]
    assert control.recovery.rate.estimate == pytest.approx(0.4)
    assert control.recovery.difference_vs_control is None
    assert gentle.recovery.rate.estimate == pytest.approx(0.7)
    diff = gentle.recovery.difference_vs_control
    assert diff is not None and diff.low > 0  # clearly better than control
    assert gentle.amount_recovery_rate == pytest.approx(0.7)
    assert control.amount_recovery_rate == pytest.approx(0.2)
    assert gentle.promise_kept.rate.estimate == pytest.approx(1.0)
    assert control.complaints.rate.estimate == pytest.approx(0.4)
    assert firm.cases == 0 and math.isnan(firm.recovery.rate.estimate)


def test_report_refuses_inconsistent_outcomes() -> None:
    with pytest.raises(ExperimentError, match="unknown variant"):
        report(EXPERIMENT, [CaseOutcome("bold", 1, 0)])
    with pytest.raises(ExperimentError, match="more promises"):
        report(EXPERIMENT, [CaseOutcome("gentle", 1, 0, promises_made=1, promises_kept=2)])
