"""The routing core's improvement phase: iterated local search by ruin and recreate."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from debtflow.core.dispatch.solomon import read_solomon, search_settings, to_problem
from debtflow.core.dispatch.vrptw import (
    RoutingInputError,
    RuinAndRecreate,
    TimeWindowProblem,
    solve_time_window_routes,
)

INSTANCES = Path(__file__).resolve().parents[3] / "data" / "vrptw" / "solomon_100"
SETTINGS = RuinAndRecreate(initial_temperature=50.0, final_temperature=0.5)


def _small_problem(seed: int) -> TimeWindowProblem:
    """7 customers, 3 vehicles of capacity 10, windows that rule out some orders."""
    rng = random.Random(seed)
    points = [(50, 50)] + [(rng.randint(0, 100), rng.randint(0, 100)) for _ in range(7)]
    travel = [
        [round(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5) for bx, by in points] for ax, ay in points
    ]
    opens = [0] + [rng.randint(0, 150) for _ in range(7)]
    return TimeWindowProblem(
        travel=travel,
        cost=travel,
        service=[0] + [10] * 7,
        window_start=opens,
        window_end=[400] + [start + 60 for start in opens[1:]],
        demand=[0] + [rng.randint(2, 5) for _ in range(7)],
        vehicle_capacity=10,
        vehicles=3,
    )


def _route_cost(problem: TimeWindowProblem, route: tuple[int, ...]) -> int | None:
    """Cost of depot -> route -> depot, or None when a window or the capacity is broken."""
    if sum(problem.demand[node] for node in route) > problem.vehicle_capacity:
        return None
    clock, previous, cost = problem.window_start[0], 0, 0
    for node in route:
        clock = max(
            clock + problem.service[previous] + problem.travel[previous][node],
            problem.window_start[node],
        )
        if clock > problem.window_end[node]:
            return None
        cost += problem.cost[previous][node]
        previous = node
    if clock + problem.service[previous] + problem.travel[previous][0] > problem.window_end[0]:
        return None
    return cost + problem.cost[previous][0]


def _brute_force_optimum(problem: TimeWindowProblem) -> int:
    customers = range(1, problem.size)
    best_route: dict[frozenset[int], int] = {}
    for size in range(1, problem.size):
        for subset in itertools.combinations(customers, size):
            costs = [_route_cost(problem, order) for order in itertools.permutations(subset)]
            feasible = [c for c in costs if c is not None]
            if feasible:
                best_route[frozenset(subset)] = min(feasible)
    # best partition of all customers into at most `vehicles` feasible routes
    everyone = frozenset(customers)
    layer: dict[frozenset[int], int] = {frozenset(): 0}
    best = None
    for _ in range(problem.vehicles):
        following: dict[frozenset[int], int] = {}
        for covered, cost in layer.items():
            for route, route_cost in best_route.items():
                if route & covered:
                    continue
                union, total = covered | route, cost + route_cost
                if total < following.get(union, total + 1):
                    following[union] = total
        layer = following
        if everyone in layer and (best is None or layer[everyone] < best):
            best = layer[everyone]
    assert best is not None, "the generated problem has no feasible solution"
    return best


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ruin_and_recreate_finds_the_optimum_of_a_small_problem(seed: int) -> None:
    problem = _small_problem(seed)
    optimum = _brute_force_optimum(problem)
    solution = solve_time_window_routes(problem, time_limit_s=1.0, ruin_and_recreate=SETTINGS)
    assert solution.found and not solution.dropped
    assert solution.objective == optimum
    assert sum(_route_cost(problem, route) or 10**9 for route in solution.routes) == optimum


def test_ruin_and_recreate_improves_on_the_screened_start_within_the_limit() -> None:
    problem = to_problem(read_solomon(INSTANCES / "RC101.txt"))
    screened = solve_time_window_routes(problem, time_limit_s=3.0, guided_local_search=False)
    improved = solve_time_window_routes(
        problem, time_limit_s=3.0, ruin_and_recreate=search_settings()
    )
    assert screened.found and improved.found
    assert improved.objective < screened.objective
    assert sorted(node for route in improved.routes for node in route) == list(range(1, 101))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (RuinAndRecreate(initial_temperature=1.0, final_temperature=2.0), "temperatures"),
        (RuinAndRecreate(initial_temperature=1.0, final_temperature=0.0), "temperatures"),
        (RuinAndRecreate(1.0, 0.5, removed_visits=0), "ruin sizes"),
        (RuinAndRecreate(1.0, 0.5, max_sequence=0), "ruin sizes"),
    ],
)
def test_bad_ruin_and_recreate_settings_are_refused(
    settings: RuinAndRecreate, message: str
) -> None:
    with pytest.raises(RoutingInputError, match=message):
        solve_time_window_routes(_small_problem(1), time_limit_s=0.2, ruin_and_recreate=settings)
