"""Solomon (1987) VRPTW instances: parse, solve with the platform's routing core, verify.

Distances are Euclidean at full double precision (no truncation); travel time equals
distance. Vehicles leave the depot at its ready time and must be back by its due date;
service at a customer starts inside its [ready, due] window (waiting is allowed) and
lasts its service time; a route's demand must not exceed the vehicle capacity.

The solver works in integer units (`SCALE` per unit of distance): arc costs are rounded,
travel times are rounded *up*, so every schedule the integer model accepts is also
feasible with exact distances. `verify_routes` checks that independently in floating
point before anything is reported as feasible.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from debtflow.core.dispatch.vrptw import (
    RuinAndRecreate,
    TimeWindowProblem,
    solve_time_window_routes,
)

SCALE = 10_000
FEASIBILITY_TOLERANCE = 1e-6
# time kept back from the search for building the final model and the check (at most
# RESERVE_S, at most RESERVE_SHARE of the limit); a command whose limit covers its own
# start-up passes only what is left of it (`debtflow route solomon` does)
RESERVE_S = 1.0
RESERVE_SHARE = 0.04
# iterated local search for the improvement phase (distance units; see docs/routing.md):
# strings of ~20 visits ruined per iteration, annealing from 10 down to 0.1
RUIN_VISITS = 20
RUIN_SEQUENCE = 15
ANNEALING_START = 10.0
ANNEALING_END = 0.1
# the largest coordinate, time, demand and capacity read: the solver's integer model
# (distances and times times SCALE, summed along routes) must stay well inside 64 bits
MAX_VALUE = 10**7
MAX_VEHICLES = 10_000


class SolomonFormatError(ValueError):
    """The text is not a Solomon VRPTW instance."""


@dataclass(frozen=True)
class SolomonCustomer:
    number: int
    x: float
    y: float
    demand: int
    ready: float
    due: float
    service: float


@dataclass(frozen=True)
class SolomonInstance:
    name: str
    vehicles: int
    capacity: int
    nodes: tuple[SolomonCustomer, ...]  # nodes[0] is the depot

    @property
    def customers(self) -> int:
        return len(self.nodes) - 1


@dataclass(frozen=True)
class SolomonResult:
    routes: tuple[tuple[int, ...], ...]  # customer numbers per vehicle, depot omitted
    vehicles: int
    distance: float
    feasible: bool
    violations: tuple[str, ...]
    seconds: float


def parse_solomon(text: str) -> SolomonInstance:
    """Parse the classic layout: name, VEHICLE block (number, capacity), CUSTOMER table."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise SolomonFormatError("empty file")
    name = lines[0]
    upper = [line.upper() for line in lines]
    try:
        vehicle_at = upper.index("VEHICLE")
        customer_at = upper.index("CUSTOMER")
    except ValueError as exc:
        raise SolomonFormatError("missing VEHICLE or CUSTOMER section") from exc
    fleet_line = next(
        (
            line
            for line in lines[vehicle_at + 1 : customer_at]
            if line.replace(" ", "").replace("\t", "").isdigit()
        ),
        None,
    )
    if fleet_line is None:
        raise SolomonFormatError("VEHICLE section has no 'number capacity' line")
    fleet = fleet_line.split()
    if len(fleet) != 2:
        raise SolomonFormatError("VEHICLE line must hold vehicle number and capacity")
    vehicles, capacity = int(fleet[0]), int(fleet[1])
    if vehicles < 1 or capacity < 0:
        raise SolomonFormatError("vehicle number must be positive, capacity not negative")
    if vehicles > MAX_VEHICLES or capacity > MAX_VALUE:
        raise SolomonFormatError(
            f"at most {MAX_VEHICLES:,} vehicles of capacity at most {MAX_VALUE:,}"
        )

    nodes: list[SolomonCustomer] = []
    for line in lines[customer_at + 1 :]:
        fields = line.split()
        if not fields or not _is_number(fields[0]):
            continue  # the column header
        if len(fields) != 7:
            raise SolomonFormatError(f"customer line needs 7 columns: {line!r}")
        try:
            number = int(fields[0])
            values = [float(v) for v in fields[1:7]]
        except ValueError as exc:
            raise SolomonFormatError(f"bad number in customer line {line!r}") from exc
        if not all(math.isfinite(v) and abs(v) <= MAX_VALUE for v in values):
            raise SolomonFormatError(
                f"customer line {line!r}: numbers must be finite and at most {MAX_VALUE:,} in size"
            )
        x, y, demand_value, ready, due, service = values
        demand = int(demand_value)
        if demand < 0 or service < 0 or ready > due:
            raise SolomonFormatError(f"customer {number}: negative demand/service or bad window")
        nodes.append(SolomonCustomer(number, x, y, demand, ready, due, service))
    if len(nodes) < 2:
        raise SolomonFormatError("need a depot and at least one customer")
    if [node.number for node in nodes] != list(range(len(nodes))):
        raise SolomonFormatError("customers must be numbered 0 (depot), 1, 2, ... in order")
    return SolomonInstance(name=name, vehicles=vehicles, capacity=capacity, nodes=tuple(nodes))


def read_solomon(path: Path) -> SolomonInstance:
    return parse_solomon(path.read_text(encoding="utf-8"))


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def distance(a: SolomonCustomer, b: SolomonCustomer) -> float:
    return math.hypot(a.x - b.x, a.y - b.y)


def route_distance(instance: SolomonInstance, routes: Sequence[Sequence[int]]) -> float:
    nodes = instance.nodes
    total = 0.0
    for route in routes:
        path = [0, *route, 0]
        total += sum(distance(nodes[a], nodes[b]) for a, b in zip(path, path[1:], strict=False))
    return total


def verify_routes(instance: SolomonInstance, routes: Sequence[Sequence[int]]) -> list[str]:
    """Every violation found with exact (float) distances; empty when feasible."""
    nodes = instance.nodes
    problems: list[str] = []
    seen: dict[int, int] = {}
    used = [route for route in routes if route]
    if len(used) > instance.vehicles:
        problems.append(f"{len(used)} routes but only {instance.vehicles} vehicles")
    depot = nodes[0]
    for number, route in enumerate(used):
        load = 0
        clock = depot.ready
        previous = depot
        for customer in route:
            if not 1 <= customer <= instance.customers:
                problems.append(f"route {number}: {customer} is not a customer")
                break
            seen[customer] = seen.get(customer, 0) + 1
            node = nodes[customer]
            clock = max(clock + previous.service + distance(previous, node), node.ready)
            if clock > node.due + FEASIBILITY_TOLERANCE:
                problems.append(
                    f"route {number}: customer {customer} served at {clock:.4f} after due "
                    f"{node.due:g}"
                )
            load += node.demand
            previous = node
        back = clock + previous.service + distance(previous, depot)
        if back > depot.due + FEASIBILITY_TOLERANCE:
            problems.append(f"route {number}: back at depot at {back:.4f} after {depot.due:g}")
        if load > instance.capacity:
            problems.append(f"route {number}: load {load} over capacity {instance.capacity}")
    for customer in range(1, instance.customers + 1):
        count = seen.get(customer, 0)
        if count != 1:
            problems.append(f"customer {customer} visited {count} times")
    return problems


def to_problem(instance: SolomonInstance, *, scale: int = SCALE) -> TimeWindowProblem:
    nodes = instance.nodes
    n = len(nodes)
    exact = [[distance(nodes[i], nodes[j]) for j in range(n)] for i in range(n)]
    cost = [[round(value * scale) for value in row] for row in exact]
    travel = [[math.ceil(value * scale) for value in row] for row in exact]
    return TimeWindowProblem(
        travel=travel,
        cost=cost,
        # windows shrink inward and service grows, so integer feasibility implies real
        service=[math.ceil(node.service * scale) for node in nodes],
        window_start=[math.ceil(node.ready * scale) for node in nodes],
        window_end=[math.floor(node.due * scale) for node in nodes],
        demand=[node.demand for node in nodes],
        vehicle_capacity=instance.capacity,
        vehicles=instance.vehicles,
    )


def search_settings(scale: int = SCALE) -> RuinAndRecreate:
    """The iterated-local-search settings, temperatures in the integer model's units."""
    return RuinAndRecreate(
        initial_temperature=ANNEALING_START * scale,
        final_temperature=ANNEALING_END * scale,
        removed_visits=RUIN_VISITS,
        max_sequence=RUIN_SEQUENCE,
    )


def solve_solomon(instance: SolomonInstance, *, time_limit_s: float = 60.0) -> SolomonResult:
    """Minimise total distance within `time_limit_s` seconds (wall clock, from the call).

    Screened starts, then iterated local search with ruin and recreate (`search_settings`).
    """
    started = time.perf_counter()
    problem = to_problem(instance)
    setup = time.perf_counter() - started
    search = max(0.2, time_limit_s - setup - min(RESERVE_S, RESERVE_SHARE * time_limit_s))
    solution = solve_time_window_routes(
        problem, time_limit_s=search, ruin_and_recreate=search_settings()
    )
    routes = solution.routes if solution.found else ()
    violations = verify_routes(instance, routes) if solution.found else ["no solution found"]
    return SolomonResult(
        routes=routes,
        vehicles=len(routes),
        distance=route_distance(instance, routes),
        feasible=solution.found and not violations,
        violations=tuple(violations),
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class BestKnown:
    instance: str
    vehicles: int
    distance: float


def read_best_known(path: Path) -> dict[str, BestKnown]:
    """`dist_min_bks_*` columns of solomon_bks.csv, keyed by instance name (upper case)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["instance"].upper(): BestKnown(
                instance=row["instance"],
                vehicles=int(row["dist_min_bks_vehicles"]),
                distance=float(row["dist_min_bks_distance"]),
            )
            for row in csv.DictReader(handle)
        }
