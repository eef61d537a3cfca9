"""Vehicle routing with time windows: the one OR-Tools routing core the platform uses.

Field-visit routes (`routing.py`) and the Solomon benchmark (`solomon.py`) both build a
`TimeWindowProblem` in integer units and call `solve_time_window_routes`; field routes
improve the start with guided local search, the Solomon benchmark (many vehicles, tight
windows) with iterated local search by ruin and recreate (`RuinAndRecreate`). Integer units
are the callers' business: they scale real times and distances so that rounding can
only make the model *stricter* than reality (travel times rounded up), never looser.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2

# first solutions screened before the improvement phase: insertion heuristics that
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
class RuinAndRecreate:
    """Iterated local search settings (OR-Tools `use_iterated_local_search`).

    Each iteration removes strings of neighbouring visits from nearby routes (the SISR
    ruin of Christiaens & Vanden Berghe: on average `removed_visits` visits, at most
    `max_sequence` consecutive ones from one route), reinserts them by local cheapest
    insertion, descends with the usual local-search operators and accepts the result
    by simulated annealing, the temperature falling from `initial_temperature` to
    `final_temperature` (objective units, i.e. the caller's cost scale) over the time
    limit. Measured on Solomon instances within a minute: shorter routes than guided
    local search on most, above all the tight-window classes (docs/routing.md).
    """

    initial_temperature: float
    final_temperature: float
    removed_visits: int = 20
    max_sequence: int = 15

    def validate(self) -> None:
        if not self.initial_temperature >= self.final_temperature > 0:
            raise RoutingInputError(
                "annealing temperatures must be positive, the initial one not lower"
            )
        if self.removed_visits < 1 or self.max_sequence < 1:
            raise RoutingInputError("ruin sizes must be at least 1")


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
    ruin_and_recreate: RuinAndRecreate | None = None,
) -> TimeWindowSolution:
    """Minimise total arc cost (plus drop penalties) with OR-Tools routing.

    Each first-solution strategy named (OR-Tools `FirstSolutionStrategy` names) builds a
    start that plain local search descends to a local optimum; together they get at most
    `SCREEN_SHARE` of the time limit. A metaheuristic then improves the best of them for
    the rest of the time: guided local search by default, iterated local search when
    `ruin_and_recreate` is given (it rebuilds the winning strategy's start itself, OR-Tools
    offering no way to hand it one). With `guided_local_search=False` there is no
    improvement phase (the screened start only). The result is never worse than the best
    screened start. `found` is False when no solution honouring every hard constraint was
    found within the limit.
    """
    validate_problem(problem)
    if ruin_and_recreate is not None:
        ruin_and_recreate.validate()
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
            ruin_and_recreate=ruin_and_recreate,
        )
    best = TimeWindowSolution(routes=(), dropped=(), objective=0, found=False)
    best_strategy = first_solutions[0]
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
            best_strategy = strategy
    remaining = deadline - time.perf_counter()
    if not guided_local_search or remaining <= 0.05:
        return best
    improved = _search(
        problem,
        time_limit_s=remaining,
        guided_local_search=True,
        first_solution=best_strategy,
        lambda_coefficient=lambda_coefficient,
        start=best.routes if best.found else None,
        ruin_and_recreate=ruin_and_recreate,
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


def _set_ruin_and_recreate(parameters: Any, settings: RuinAndRecreate) -> None:
    parameters.use_iterated_local_search = True
    ils = parameters.iterated_local_search_parameters
    ils.perturbation_strategy = routing_ils_pb2.PerturbationStrategy.RUIN_AND_RECREATE
    ils.improve_perturbed_solution = True
    ruin_recreate = ils.ruin_recreate_parameters
    del ruin_recreate.ruin_strategies[:]
    sisr = ruin_recreate.ruin_strategies.add().sisr
    sisr.avg_num_removed_visits = settings.removed_visits
    sisr.max_removed_sequence_size = settings.max_sequence
    sisr.bypass_factor = 0.01  # the paper's alpha
    ruin_recreate.recreate_strategy.heuristic = (
        routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    )
    annealing = ils.reference_solution_acceptance_strategy.simulated_annealing
    annealing.cooling_schedule_strategy = routing_ils_pb2.CoolingScheduleStrategy.EXPONENTIAL
    annealing.automatic_temperatures = False
    annealing.initial_temperature = settings.initial_temperature
    annealing.final_temperature = settings.final_temperature
    ils.best_solution_acceptance_strategy.greedy_descent.SetInParent()


def _search(
    problem: TimeWindowProblem,
    *,
    time_limit_s: float,
    guided_local_search: bool,
    first_solution: str,
    lambda_coefficient: float | None,
    start: Sequence[Sequence[int]] | None = None,
    ruin_and_recreate: RuinAndRecreate | None = None,
) -> TimeWindowSolution:
    manager, model = _build(problem)
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, first_solution
    )
    iterated = guided_local_search and ruin_and_recreate is not None
    if iterated and ruin_and_recreate is not None:
        _set_ruin_and_recreate(parameters, ruin_and_recreate)
    elif guided_local_search:
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
    if iterated:
        assignment = model.SolveWithIteratedLocalSearch(parameters)
    elif start is not None:
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
