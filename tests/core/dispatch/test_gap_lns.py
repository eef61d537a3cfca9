"""Large-neighbourhood search of the GAP solver (CP-SAT on the jobs of a few agents)."""

from __future__ import annotations

import time

import numpy as np

from debtflow.core.dispatch.gap import (
    _lagrangian_relaxation,
    _local_search,
    is_feasible,
    objective_value,
    solve_gap,
)
from debtflow.core.dispatch.gap_generators import type_d_instance, type_e_instance
from debtflow.core.dispatch.gap_lns import lns_search
from debtflow.core.dispatch.orlib import GapInstance


def _first_feasible(instance: GapInstance) -> np.ndarray:
    relaxation = _lagrangian_relaxation(instance.cost, instance, time.monotonic() + 2)
    assert relaxation is not None
    start = np.argmax(relaxation.share, axis=0).astype(np.int64)
    found = _local_search(
        instance.cost.astype(np.float64),
        instance.resource.astype(np.float64),
        instance.capacity.astype(np.float64),
        start,
        time.monotonic() + 5,
        swaps=False,
    )
    assert is_feasible(instance, found)
    return found


def test_search_improves_a_feasible_start_and_keeps_it_feasible() -> None:
    instance = type_d_instance(12, 120, seed=3)
    relaxation = _lagrangian_relaxation(instance.cost, instance, time.monotonic() + 2)
    assert relaxation is not None
    start = _first_feasible(instance)
    before = objective_value(instance, start)
    outcome = lns_search(
        instance.cost,
        instance.resource,
        instance.capacity,
        start,
        guide=relaxation.reduced_cost,
        deadline=time.monotonic() + 3,
        target=float(np.ceil(relaxation.bound)),
        seed=1,
    )
    assert is_feasible(instance, outcome.assignment)
    assert outcome.cost == objective_value(instance, outcome.assignment)
    assert outcome.cost < before
    assert outcome.improvements >= 1 and outcome.steps >= outcome.improvements
    assert outcome.cost >= relaxation.bound - 1e-6
    # The start is left as it was.
    assert objective_value(instance, start) == before


def test_search_stops_at_once_when_the_start_meets_the_target() -> None:
    instance = type_e_instance(6, 40, seed=2)
    start = _first_feasible(instance)
    cost = objective_value(instance, start)
    outcome = lns_search(
        instance.cost,
        instance.resource,
        instance.capacity,
        start,
        guide=np.zeros(instance.cost.shape),
        deadline=time.monotonic() + 5,
        target=float(cost),
        seed=0,
    )
    assert outcome.steps == 0
    assert outcome.cost == cost
    assert (outcome.assignment == start).all()


def test_search_never_uses_a_pair_that_does_not_fit() -> None:
    # Agent 2 can take no job at all; the search must never move one there.
    instance = type_d_instance(3, 30, seed=4)
    resource = instance.resource.copy()
    resource[2] = 10_000
    capacity = instance.capacity.copy()
    capacity[:2] = resource[:2].sum(axis=1) // 2 + 60
    tight = GapInstance(cost=instance.cost, resource=resource, capacity=capacity)
    start = _first_feasible(tight)
    guide = np.where(resource <= capacity[:, None], 0.0, np.inf)
    outcome = lns_search(
        tight.cost,
        tight.resource,
        tight.capacity,
        start,
        guide=guide,
        deadline=time.monotonic() + 1,
        target=0.0,
        seed=0,
    )
    assert is_feasible(tight, outcome.assignment)
    assert not (outcome.assignment == 2).any()


def test_large_models_stay_feasible_within_the_time_limit() -> None:
    # 30 x 300 = 9,000 pairs: past the small-model threshold, so the search above runs.
    instance = type_d_instance(30, 300, seed=7)
    began = time.monotonic()
    solution = solve_gap(instance, time_limit_s=6)
    assert time.monotonic() - began <= 6 + 1.0
    assert solution.feasible and is_feasible(instance, solution.agent_of_job)
    assert solution.bound is not None and solution.bound <= solution.objective + 1e-6
    assert (solution.objective - solution.bound) / solution.bound < 0.03


def test_two_threads_share_one_consistent_assignment() -> None:
    instance = type_e_instance(16, 160, seed=5)
    relaxation = _lagrangian_relaxation(instance.cost, instance, time.monotonic() + 2)
    assert relaxation is not None
    start = _first_feasible(instance)
    outcome = lns_search(
        instance.cost,
        instance.resource,
        instance.capacity,
        start,
        guide=relaxation.reduced_cost,
        deadline=time.monotonic() + 3,
        target=float(np.ceil(relaxation.bound)),
        seed=2,
        threads=2,
    )
    # Loads and cost kept by the threads agree with the assignment they leave behind.
    assert is_feasible(instance, outcome.assignment)
    assert outcome.cost == objective_value(instance, outcome.assignment)
    assert outcome.cost < objective_value(instance, start)
