"""Vehicle routing with time windows: the one OR-Tools routing core the platform uses.

Field-visit routes (`routing.py`) and the Solomon benchmark (`solomon.py`) both build a
`TimeWindowProblem` in integer units and call `solve_time_window_routes`. Integer units
are the callers' business: they scale real times and distances so that rounding can
only make the model *stricter* than reality (travel times rounded up), never looser.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

# first solutions screened before the guided local search: insertion heuristics that
# minimise vehicles and arc-based ones that do not; which start leads to the shortest
# routes depends on the instance, so each is built and descended to a local optimum
DEFAULT_STARTS: tuple[str, ...] = (
    "PARALLEL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_INSERTION",
    "SAVINGS",
    "PATH_CHEAPEST_ARC",
    "CHRISTOFIDES",
)
SCREEN_SHARE = 0.2  # at most this share of the time limit goes to screening starts


class RoutingInputError(ValueError):
    """The routing problem is malformed (sizes disagree, negative times, bad windows)."""


@dataclass(frozen=True)
class TimeWindowProblem:
    """Nodes 0..n-1; vehicles start at `depot` and end at `end_depot` (default: `depot`).

    travel[i][j]  time from i to j (integer units), excluding service at i
    cost[i][j]    what the arc costs in the objective (often the travel time itself)
    service[i]    time spent at i before leaving
    window_start/window_end[i]  service at i must start inside [start, end]; the depot's
                  window bounds when vehicles leave and must be back
    demand[i]     load picked up at i (0 where capacity does not matter)
    drop_penalties  {node: penalty} for nodes that may be left out at that cost in the
                  objective; every other node must be visited
    """

    travel: Sequence[Sequence[int]]
    cost: Sequence[Sequence[int]]
    service: Sequence[int]
    window_start: Sequence[int]
    window_end: Sequence[int]
    demand: Sequence[int]
    vehicle_capacity: int
    vehicles: int
    depot: int = 0
    end_depot: int | None = None
    drop_penalties: Mapping[int, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.service)


@dataclass(frozen=True)
class TimeWindowSolution:
    """Routes as node lists without the depot, in visiting order (empty routes omitted)."""

    routes: tuple[tuple[int, ...], ...]
    dropped: tuple[int, ...]
    objective: int
    found: bool


def validate_problem(problem: TimeWindowProblem) -> None:
    n = problem.size
    if n < 1:
        raise RoutingInputError("a routing problem needs at least the depot")
    if not 0 <= problem.depot < n:
        raise RoutingInputError(f"depot {problem.depot} is not a node (0..{n - 1})")
    for name, column in (
        ("window_start", problem.window_start),
        ("window_end", problem.window_end),
        ("demand", problem.demand),
    ):
        if len(column) != n:
            raise RoutingInputError(f"{name} has {len(column)} entries, expected {n}")
    end = problem.depot if problem.end_depot is None else problem.end_depot
    if not 0 <= end < n:
        raise RoutingInputError(f"end depot {end} is not a node (0..{n - 1})")
    for node, penalty in problem.drop_penalties.items():
        if not 0 <= node < n or node in (problem.depot, end):
            raise RoutingInputError(f"only visits may be optional, not node {node}")
        if penalty < 0:
            raise RoutingInputError(f"node {node}: drop penalty must not be negative")
    for name, matrix in (("travel", problem.travel), ("cost", problem.cost)):
        if len(matrix) != n or any(len(row) != n for row in matrix):
            raise RoutingInputError(f"{name} must be a {n}x{n} matrix")
        if any(value < 0 for row in matrix for value in row):
            raise RoutingInputError(f"{name} has a negative entry")
    if any(s < 0 for s in problem.service):
        raise RoutingInputError("service times must not be negative")
    for i in range(n):
        if problem.window_start[i] > problem.window_end[i]:
            raise RoutingInputError(f"node {i}: window opens after it closes")
    if problem.vehicles < 1:
        raise RoutingInputError("at least one vehicle is needed")
    if problem.vehicle_capacity < 0:
        raise RoutingInputError("vehicle capacity must not be negative")


def solve_time_window_routes(
    problem: TimeWindowProblem,
    *,
    time_limit_s: float,
    guided_local_search: bool = True,
    first_solutions: Sequence[str] = DEFAULT_STARTS,
    lambda_coefficient: float | None = None,
) -> TimeWindowSolution:
    """Minimise total arc cost (plus drop penalties) with OR-Tools routing.

    Each first-solution strategy named (OR-Tools `FirstSolutionStrategy` names) builds a
    start that plain local search descends to a local optimum; together they get at most
    `SCREEN_SHARE` of the time limit. Guided local search then improves the best of them
    for the rest of the time. `found` is False when no solution honouring every hard
    constraint was found within the limit.
    """
    validate_problem(problem)
    if time_limit_s <= 0:
        raise RoutingInputError("time limit must be positive")
    if not first_solutions:
        raise RoutingInputError("name at least one first-solution strategy")
    for strategy in first_solutions:
        if not hasattr(routing_enums_pb2.FirstSolutionStrategy, strategy):
            raise RoutingInputError(f"unknown first-solution strategy {strategy!r}")
    deadline = time.perf_counter() + time_limit_s
    if len(first_solutions) == 1:
        return _search(
            problem,
            time_limit_s=time_limit_s,
            guided_local_search=guided_local_search,
            first_solution=first_solutions[0],
            lambda_coefficient=lambda_coefficient,
        )
    best = TimeWindowSolution(routes=(), dropped=(), objective=0, found=False)
    share = time_limit_s * SCREEN_SHARE / len(first_solutions)
    for strategy in first_solutions:
        result = _search(
            problem,
            time_limit_s=share,
            guided_local_search=False,
            first_solution=strategy,
            lambda_coefficient=None,
        )
        if result.found and (not best.found or result.objective < best.objective):
            best = result
    remaining = deadline - time.perf_counter()
    if not guided_local_search or remaining <= 0.05:
        return best
    improved = _search(
        problem,
        time_limit_s=remaining,
        guided_local_search=True,
        first_solution=first_solutions[0],
        lambda_coefficient=lambda_coefficient,
        start=best.routes if best.found else None,
    )
    if improved.found and (not best.found or improved.objective <= best.objective):
        return improved
    return best


def _build(problem: TimeWindowProblem) -> tuple[Any, Any]:
    """The OR-Tools index manager and routing model (arc costs, load, time windows)."""
    n = problem.size
    depot = problem.depot
    end_depot = depot if problem.end_depot is None else problem.end_depot
    depots = {depot, end_depot}
    manager = pywrapcp.RoutingIndexManager(
        n, problem.vehicles, [depot] * problem.vehicles, [end_depot] * problem.vehicles
    )
    model = pywrapcp.RoutingModel(manager)

    cost_index = model.RegisterTransitMatrix([list(map(int, row)) for row in problem.cost])
    model.SetArcCostEvaluatorOfAllVehicles(cost_index)

    if any(problem.demand):
        demand_index = model.RegisterUnaryTransitVector(list(map(int, problem.demand)))
        model.AddDimensionWithVehicleCapacity(
            demand_index, 0, [int(problem.vehicle_capacity)] * problem.vehicles, True, "load"
        )

    horizon = int(max(problem.window_end)) + int(max(problem.service)) + 1
    time_matrix = [
        [int(problem.service[i]) + int(problem.travel[i][j]) for j in range(n)] for i in range(n)
    ]
    time_index = model.RegisterTransitMatrix(time_matrix)
    model.AddDimension(time_index, horizon, horizon, False, "time")
    time_dimension = model.GetDimensionOrDie("time")
    for node in range(n):
        if node in depots:
            continue
        time_dimension.CumulVar(manager.NodeToIndex(node)).SetRange(
            int(problem.window_start[node]), int(problem.window_end[node])
        )
    for vehicle in range(problem.vehicles):
        for index, node in ((model.Start(vehicle), depot), (model.End(vehicle), end_depot)):
            time_dimension.CumulVar(index).SetRange(
                int(problem.window_start[node]), int(problem.window_end[node])
            )

    for node, penalty in problem.drop_penalties.items():
        model.AddDisjunction([manager.NodeToIndex(node)], int(penalty))
    return manager, model


def _search(
    problem: TimeWindowProblem,
    *,
    time_limit_s: float,
    guided_local_search: bool,
    first_solution: str,
    lambda_coefficient: float | None,
    start: Sequence[Sequence[int]] | None = None,
) -> TimeWindowSolution:
    manager, model = _build(problem)
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, first_solution
    )
    if guided_local_search:
        parameters.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        if lambda_coefficient is not None:
            parameters.guided_local_search_lambda_coefficient = lambda_coefficient
    limit = max(time_limit_s, 0.01)
    whole = int(limit)
    parameters.time_limit.seconds = whole
    parameters.time_limit.nanos = int((limit - whole) * 1e9)

    assignment = None
    if start is not None:
        model.CloseModelWithParameters(parameters)
        routes = [[manager.NodeToIndex(node) for node in route] for route in start]
        routes += [[] for _ in range(problem.vehicles - len(routes))]
        initial = model.ReadAssignmentFromRoutes(routes, True)
        if initial is not None:
            assignment = model.SolveFromAssignmentWithParameters(initial, parameters)
    else:
        assignment = model.SolveWithParameters(parameters)
    if assignment is None:
        return TimeWindowSolution(routes=(), dropped=(), objective=0, found=False)

    depots = {problem.depot, problem.depot if problem.end_depot is None else problem.end_depot}
    routes_found: list[tuple[int, ...]] = []
    visited: set[int] = set()
    for vehicle in range(problem.vehicles):
        index = assignment.Value(model.NextVar(model.Start(vehicle)))
        route: list[int] = []
        while not model.IsEnd(index):
            node = manager.IndexToNode(index)
            route.append(node)
            visited.add(node)
            index = assignment.Value(model.NextVar(index))
        if route:
            routes_found.append(tuple(route))
    dropped = tuple(
        node for node in range(problem.size) if node not in depots and node not in visited
    )
    return TimeWindowSolution(
        routes=tuple(routes_found),
        dropped=dropped,
        objective=int(assignment.ObjectiveValue()),
        found=True,
    )
