"""Champion / challenger: stable assignment of cases to strategy variants and a results report.

Assignment hashes ``experiment key + ":" + case id`` with SHA-256 and maps the first 8 bytes to
a bucket in [0, 10000); variants own consecutive ranges of buckets in proportion to their
weights (basis points, summing to 10000).  The same case in the same experiment always lands in
the same variant, on any machine and in any order; a new experiment key reshuffles.

The report compares each variant with the control group: recovery rate (share of cases that
recovered any money, and money recovered / money owed), promise-kept rate and complaint rate,
with Wilson score intervals for rates and Newcombe's hybrid score interval for the difference
of a variant's rate and the control's.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

BUCKETS = 10_000
Z_95 = 1.959963984540054


class ExperimentError(ValueError):
    """An experiment definition that cannot assign cases."""


@dataclass(frozen=True)
class Variant:
    name: str
    weight_bp: int


@dataclass(frozen=True)
class Experiment:
    key: str
    variants: tuple[Variant, ...]
    control: str

    def __post_init__(self) -> None:
        if not self.key:
            raise ExperimentError("an experiment needs a key")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ExperimentError("variant names must be unique")
        if self.control not in names:
            raise ExperimentError(f"control group {self.control!r} is not one of the variants")
        if any(v.weight_bp <= 0 for v in self.variants):
            raise ExperimentError("every variant needs a positive weight")
        total = sum(v.weight_bp for v in self.variants)
        if total != BUCKETS:
            raise ExperimentError(f"variant weights must sum to 10000 basis points, not {total}")


def bucket_of(experiment_key: str, case_id: int | str) -> int:
    digest = hashlib.sha256(f"{experiment_key}:{case_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def assign(experiment: Experiment, case_id: int | str) -> str:
    """The variant a case belongs to in ``experiment`` (stable and reproducible)."""
    bucket = bucket_of(experiment.key, case_id)
    upper = 0
    for variant in experiment.variants:
        upper += variant.weight_bp
        if bucket < upper:
            return variant.name
    raise AssertionError("weights sum to BUCKETS")  # pragma: no cover


def assign_many(experiment: Experiment, case_ids: Iterable[int | str]) -> list[str]:
    return [assign(experiment, case_id) for case_id in case_ids]


@dataclass(frozen=True)
class CaseOutcome:
    """What happened to one case during the experiment."""

    variant: str
    owed_fen: int
    recovered_fen: int
    promises_made: int = 0
    promises_kept: int = 0
    complaints: int = 0


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class RateComparison:
    rate: Interval
    difference_vs_control: Interval | None
    """None for the control group itself."""
    successes: int
    trials: int


@dataclass(frozen=True)
class VariantReport:
    variant: str
    cases: int
    owed_fen: int
    recovered_fen: int
    amount_recovery_rate: float
    """Money recovered / money owed (no interval: amounts are not Bernoulli trials)."""
    recovery: RateComparison
    """Share of cases that recovered any money."""
    promise_kept: RateComparison
    complaints: RateComparison
    """Share of cases with at least one complaint."""


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> Interval:
    if trials < 0 or not 0 <= successes <= max(trials, 0):
        raise ValueError("need 0 <= successes <= trials")
    if trials == 0:
        return Interval(math.nan, 0.0, 1.0)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def newcombe_difference(
    successes: int, trials: int, control_successes: int, control_trials: int, z: float = Z_95
) -> Interval:
    """Difference of two proportions (this − control), Newcombe's method 10 (hybrid score)."""
    a = wilson_interval(successes, trials, z)
    b = wilson_interval(control_successes, control_trials, z)
    if trials == 0 or control_trials == 0:
        return Interval(math.nan, -1.0, 1.0)
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return Interval(d, max(-1.0, low), min(1.0, high))


def _compare(successes: int, trials: int, control: tuple[int, int] | None) -> RateComparison:
    return RateComparison(
        rate=wilson_interval(successes, trials),
        difference_vs_control=None
        if control is None
        else newcombe_difference(successes, trials, *control),
        successes=successes,
        trials=trials,
    )


def report(experiment: Experiment, outcomes: Sequence[CaseOutcome]) -> tuple[VariantReport, ...]:
    """One row per variant, in the experiment's order; differences are against the control."""
    names = {v.name for v in experiment.variants}
    totals: dict[str, list[int]] = {v.name: [0] * 8 for v in experiment.variants}
    for outcome in outcomes:
        if outcome.variant not in names:
            raise ExperimentError(f"outcome for unknown variant {outcome.variant!r}")
        if outcome.promises_kept > outcome.promises_made:
            raise ExperimentError("a case cannot keep more promises than it made")
        row = totals[outcome.variant]
        row[0] += 1
        row[1] += outcome.owed_fen
        row[2] += outcome.recovered_fen
        row[3] += 1 if outcome.recovered_fen > 0 else 0
        row[4] += outcome.promises_made
        row[5] += outcome.promises_kept
        row[6] += 1 if outcome.complaints > 0 else 0
        row[7] += outcome.complaints
    control = totals[experiment.control]
    reports = []
    for variant in experiment.variants:
        row = totals[variant.name]
        is_control = variant.name == experiment.control
        reports.append(
            VariantReport(
                variant=variant.name,
                cases=row[0],
                owed_fen=row[1],
                recovered_fen=row[2],
                amount_recovery_rate=row[2] / row[1] if row[1] else math.nan,
                recovery=_compare(row[3], row[0], None if is_control else (control[3], control[0])),
                promise_kept=_compare(
                    row[5], row[4], None if is_control else (control[5], control[4])
                ),
                complaints=_compare(
                    row[6], row[0], None if is_control else (control[6], control[0])
                ),
            )
        )
    return tuple(reports)


def experiment_from_weights(key: str, weights: Mapping[str, int], control: str) -> Experiment:
    return Experiment(key, tuple(Variant(n, w) for n, w in weights.items()), control)
