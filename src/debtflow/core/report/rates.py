"""Rates with Wilson score intervals, and the money ratio of recovery.

A rate is ``hits / trials`` with its 95 % Wilson score interval, which stays inside 0..1
and behaves for small counts (a collector with 3 promises). No trials → no rate (None),
never a made-up zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from debtflow.core.errors import InvalidInput

Z_95 = 1.959963984540054


class ReportInputError(InvalidInput):
    code = "invalid_report_input"


@dataclass(frozen=True)
class Rate:
    hits: int
    trials: int
    value: float | None  # hits / trials; None without trials
    low: float | None  # Wilson lower bound
    high: float | None  # Wilson upper bound


def wilson_interval(hits: int, trials: int, *, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of ``hits`` successes in ``trials``."""
    if trials <= 0:
        raise ReportInputError("a Wilson interval needs at least one trial")
    if hits < 0 or hits > trials:
        raise ReportInputError(f"hits must be within 0..trials, got {hits} of {trials}")
    if z <= 0:
        raise ReportInputError("z must be positive")
    share = hits / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (share + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z2 / (4 * trials * trials)) / denominator
    # at the ends the bound is the share itself; float error must not move it past it
    low = 0.0 if hits == 0 else max(0.0, centre - half)
    high = 1.0 if hits == trials else min(1.0, centre + half)
    return low, high


def rate(hits: int, trials: int) -> Rate:
    """``hits`` of ``trials`` as a Rate; an empty rate when there are no trials."""
    if trials < 0 or hits < 0:
        raise ReportInputError("counts cannot be negative")
    if trials == 0:
        if hits:
            raise ReportInputError("hits without trials")
        return Rate(hits=0, trials=0, value=None, low=None, high=None)
    low, high = wilson_interval(hits, trials)
    return Rate(hits=hits, trials=trials, value=hits / trials, low=low, high=high)


@dataclass(frozen=True)
class Recovery:
    """Collected in the period over the balance placed with us (both fen)."""

    collected_fen: int
    placed_fen: int

    @property
    def value(self) -> float | None:
        return self.collected_fen / self.placed_fen if self.placed_fen > 0 else None

    @property
    def basis_points(self) -> int | None:
        """The recovery rate in basis points, rounded half up (integer arithmetic)."""
        if self.placed_fen <= 0:
            return None
        return (self.collected_fen * 10_000 * 2 + self.placed_fen) // (self.placed_fen * 2)


def recovery(*, collected_fen: int, placed_fen: int) -> Recovery:
    if collected_fen < 0 or placed_fen < 0:
        raise ReportInputError("money amounts in the recovery rate cannot be negative")
    if isinstance(collected_fen, float) or isinstance(placed_fen, float):
        raise ReportInputError("money is integer fen")
    return Recovery(collected_fen=collected_fen, placed_fen=placed_fen)
