"""Seeded synthetic assignment tables for benchmarks and tests (no real data)."""

from __future__ import annotations

import numpy as np

from debtflow.core.dispatch.assignment import CandidateTable


def synthetic_table(
    cases: int,
    collectors: int,
    candidates: int,
    *,
    seed: int = 0,
    uniform_effort: bool = False,
    load_factor: float = 1.3,
    with_current: bool = False,
) -> CandidateTable:
    """Cases with log-normal recoverable value, per-pair fit between 0.5 and 1.5, effort
    0.1-0.6 h (or a flat 0.3 h), and weekly capacities sized so that the total effort is
    ``load_factor`` times the total capacity (so capacities bind)."""
    rng = np.random.default_rng(seed)
    k = min(candidates, collectors)
    collector = np.empty((cases, k), dtype=np.int32)
    # k distinct collectors per case: a random start and stride over a permutation.
    start = rng.integers(0, collectors, size=cases)
    offsets = np.sort(rng.choice(collectors, size=k, replace=False))
    collector[:] = (start[:, None] + offsets[None, :]) % collectors
    base = rng.lognormal(mean=np.log(20_000.0), sigma=0.8, size=cases)
    fit = rng.uniform(0.5, 1.5, size=(cases, k))
    value = np.rint(base[:, None] * fit).astype(np.int64)
    effort = np.full(cases, 0.3) if uniform_effort else rng.uniform(0.1, 0.6, size=cases)
    weights = rng.uniform(0.6, 1.4, size=collectors)
    capacity = weights / weights.sum() * effort.sum() / load_factor
    current = None
    if with_current:
        current = np.where(
            rng.random(cases) < 0.5, collector[np.arange(cases), rng.integers(0, k, cases)], -1
        ).astype(np.int32)
    return CandidateTable(
        collector=collector,
        value_fen=value,
        effort_hours=effort,
        capacity_hours=capacity,
        current_collector=current,
    )
