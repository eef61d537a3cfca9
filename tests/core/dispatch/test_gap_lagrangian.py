"""Lagrangian (knapsack) phase of the GAP solver and the seeded type-D/E generators."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from debtflow.core.dispatch.gap import (
    _local_search,
    _solve_relaxation,
    is_feasible,
    objective_value,
    solve_gap,
)
from debtflow.core.dispatch.gap_generators import type_d_instance, type_e_instance
from debtflow.core.dispatch.gap_lagrangian import (
    knapsack_cells,
    lagrangian_search,
    solve_knapsacks,
    solve_residual,
)
from debtflow.core.dispatch.orlib import GapInstance


def _brute_knapsack(profit: np.ndarray, weight: np.ndarray, capacity: int) -> float:
    best = 0.0
    for picks in itertools.product([0, 1], repeat=profit.size):
        chosen = np.array(picks, dtype=bool)
        if weight[chosen].sum() <= capacity:
            best = max(best, float(profit[chosen].sum()))
    return best


def _brute_gap(instance: GapInstance) -> int:
    best = math.inf
    for agents in itertools.product(range(instance.agents), repeat=instance.jobs):
        assign = np.array(agents, dtype=np.int64)
        if is_feasible(instance, assign):
            best = min(best, objective_value(instance, assign))
    return int(best)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_knapsacks_match_brute_force_and_respect_capacity(seed: int) -> None:
    rng = np.random.default_rng(seed)
    profit = rng.integers(-20, 40, size=(3, 9)).astype(np.float64)
    resource = rng.integers(1, 15, size=(3, 9)).astype(np.int64)
    capacity = np.array([0, 17, 40], dtype=np.int64)
    chosen, values = solve_knapsacks(profit, resource, capacity)
    for agent in range(3):
        assert (resource[agent] * chosen[agent]).sum() <= capacity[agent]
        assert values[agent] == pytest.approx(float(profit[agent][chosen[agent]].sum()))
        expected = _brute_knapsack(profit[agent], resource[agent], int(capacity[agent]))
        assert values[agent] == pytest.approx(expected)
    assert not chosen[0].any()  # zero capacity takes nothing
    assert not chosen[profit <= 0].any()  # no job with a non-positive profit


def test_lagrangian_bound_lies_between_lp_bound_and_optimum() -> None:
    instance = type_d_instance(3, 8, seed=11)
    optimum = _brute_gap(instance)
    relaxation = _solve_relaxation(instance.cost, instance)
    assert relaxation is not None
    cost_f = instance.cost.astype(np.float64)
    resource_f = instance.resource.astype(np.float64)
    capacity_f = instance.capacity.astype(np.float64)

    def polish(start: np.ndarray) -> np.ndarray | None:
        out = _local_search(cost_f, resource_f, capacity_f, start, time.monotonic() + 1.0)
        return out if is_feasible(instance, out) else None

    outcome = lagrangian_search(
        instance.cost,
        instance.resource,
        instance.capacity,
        prices=relaxation.job_price,
        upper=math.inf,
        deadline=time.monotonic() + 2.0,
        polish=polish,
    )
    assert relaxation.bound - 1e-6 <= outcome.bound <= optimum + 1e-6
    assert outcome.assignment is not None and is_feasible(instance, outcome.assignment)
    assert outcome.cost == objective_value(instance, outcome.assignment) >= optimum
    assert outcome.iterations >= 1


def test_residual_placement_is_optimal_within_the_room_left() -> None:
    cost = np.array([[1, 1, 9], [5, 6, 2]], dtype=np.int64)
    resource = np.array([[4, 4, 1], [3, 3, 3]], dtype=np.int64)
    room = np.array([5, 6], dtype=np.int64)
    hint = np.zeros(3, dtype=np.int64)
    placed = solve_residual(cost, resource, room, np.arange(3), hint, 2.0, 0)
    # Agent 0 holds only one of the two cheap jobs: job 1 stays there (cost 1), job 0
    # goes to agent 1 (5, cheaper than moving job 1 there for 6), job 2 to agent 1 (2).
    assert placed == {0: 1, 1: 0, 2: 1}
    instance = GapInstance(cost=cost, resource=resource, capacity=room)
    assert sum(int(cost[a, j]) for j, a in placed.items()) == _brute_gap(instance) == 8


def test_residual_without_room_for_a_job_gives_none() -> None:
    cost = np.array([[1, 1]], dtype=np.int64)
    resource = np.array([[4, 4]], dtype=np.int64)
    placed = solve_residual(
        cost, resource, np.array([5]), np.arange(2), np.zeros(2, dtype=np.int64), 1.0, 0
    )
    assert placed is None


def test_type_d_generator_follows_the_chu_beasley_rule() -> None:
    instance = type_d_instance(5, 40, seed=7)
    assert (instance.agents, instance.jobs) == (5, 40)
    assert instance.resource.min() >= 1 and instance.resource.max() <= 100
    noise = instance.cost - (111 - instance.resource)
    assert noise.min() >= -10 and noise.max() <= 10
    expected = np.floor(0.8 * instance.resource.sum(axis=1) / 5).astype(np.int64)
    assert (instance.capacity == expected).all()
    again = type_d_instance(5, 40, seed=7)
    assert (again.cost == instance.cost).all() and (again.resource == instance.resource).all()
    assert not (type_d_instance(5, 40, seed=8).resource == instance.resource).all()


def test_type_e_generator_follows_the_laguna_rule() -> None:
    instance = type_e_instance(5, 200, seed=7)
    assert instance.resource.min() >= 1
    # cost ~ 1000 / resource - 10 U[0, 1]: falls as the resource rises, within rounding.
    assert (instance.cost <= np.rint(1000.0 / np.maximum(instance.resource - 0.5, 0.5))).all()
    assert np.corrcoef(instance.resource.ravel(), instance.cost.ravel())[0, 1] < -0.3
    expected = np.floor(0.8 * instance.resource.sum(axis=1) / 5).astype(np.int64)
    assert (instance.capacity == expected).all()


@pytest.mark.parametrize("make", [type_d_instance, type_e_instance])
def test_generators_reject_empty_sizes(make: object) -> None:
    with pytest.raises(ValueError, match="positive"):
        make(0, 10, seed=0)  # type: ignore[operator]


def test_knapsack_cells_counts_jobs_agents_and_capacity() -> None:
    instance = type_d_instance(4, 30, seed=1)
    assert knapsack_cells(instance.resource, instance.capacity) == 30 * 4 * (
        int(instance.capacity.max()) + 1
    )


@pytest.mark.parametrize("make", [type_d_instance, type_e_instance])
def test_solver_is_feasible_and_close_to_its_bound_on_generated_problems(make: object) -> None:
    instance = make(8, 48, seed=5)  # type: ignore[operator]
    solution = solve_gap(instance, time_limit_s=6)
    assert solution.feasible and is_feasible(instance, solution.agent_of_job)
    assert solution.objective == objective_value(instance, solution.agent_of_job)
    assert solution.bound is not None
    relaxation = _solve_relaxation(instance.cost, instance)
    assert relaxation is not None
    # The reported bound is valid and at least as tight as the LP relaxation.
    assert relaxation.bound - 1e-6 <= solution.bound <= solution.objective + 1e-6
    assert (solution.objective - solution.bound) / solution.bound < 0.02
