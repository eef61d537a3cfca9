"""Field-visit routes: one field agent, one working day, debtors' time windows.

`plan_field_route` orders the day's visits so that every visit starts and ends inside
the debtor's available window and the agent is back by the end of the working day,
keeping first as many visits as possible, then as much value as possible, then the least
travel. Days with at most EXACT_MAX_VISITS candidate visits are searched exhaustively
(dynamic programming over subsets), so that order is met exactly; larger days use OR-Tools
routing (guided local search) with drop penalties that encode it. Travel times are
pluggable: any callable `(origin, destination) -> timedelta`; the default is haversine
distance at a configurable speed.

A visit that cannot be made is never silently dropped: it is returned in `unvisited`
with a reason code and readable English / zh-CN reasons.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from debtflow.core.dispatch.geo import GeoPoint, haversine_km
from debtflow.core.dispatch.vrptw import TimeWindowProblem, solve_time_window_routes


class FieldRouteError(ValueError):
    """The day or the visits are malformed (naive times, negative durations, duplicates)."""


VALUE_STEPS = 1000
EXACT_MAX_VISITS = 8  # up to this many candidate visits the day is searched exhaustively

TravelTime = Callable[[GeoPoint, GeoPoint], timedelta]


@dataclass(frozen=True)
class HaversineTravel:
    """Straight-line distance × `detour_factor` at `speed_kmh` (urban default 25 km/h)."""

    speed_kmh: float = 25.0
    detour_factor: float = 1.3

    def __post_init__(self) -> None:
        if self.speed_kmh <= 0 or self.detour_factor < 1.0:
            raise FieldRouteError("speed must be positive and detour factor at least 1")

    def __call__(self, origin: GeoPoint, destination: GeoPoint) -> timedelta:
        hours = haversine_km(origin, destination) * self.detour_factor / self.speed_kmh
        return timedelta(hours=hours)


@dataclass(frozen=True)
class FieldVisit:
    """A debtor to visit: the whole visit must fit inside [available_from, available_until].

    `value_fen` (e.g. the pair's match value) decides which visits to keep when the day
    cannot hold them all; the number of visits made comes first.
    """

    case_id: int
    location: GeoPoint
    available_from: datetime
    available_until: datetime
    duration: timedelta
    value_fen: int = 0


@dataclass(frozen=True)
class FieldDay:
    agent_id: int
    start_location: GeoPoint
    day_start: datetime
    day_end: datetime
    end_location: GeoPoint | None = None  # None: back to the start location


@dataclass(frozen=True)
class PlannedVisit:
    case_id: int
    arrive: datetime
    start: datetime
    end: datetime
    travel_before: timedelta  # from the previous stop (or the start location)


@dataclass(frozen=True)
class UnvisitedStop:
    case_id: int
    code: str
    reason_en: str
    reason_zh: str


@dataclass(frozen=True)
class FieldRoute:
    agent_id: int
    visits: tuple[PlannedVisit, ...]
    unvisited: tuple[UnvisitedStop, ...]
    leave_at: datetime
    back_at: datetime
    travel: timedelta  # total, including the trip back


REASONS: dict[str, tuple[str, str]] = {
    "window_shorter_than_visit": (
        "the debtor's available window is shorter than the visit",
        "债务人可接待时段短于拜访所需时长",
    ),
    "window_outside_working_day": (
        "the debtor's available window does not overlap the working day enough for the visit",
        "债务人可接待时段与工作时间重叠不足以完成拜访",
    ),
    "unreachable_in_window": (
        "even going there first, the agent cannot arrive in time to finish inside the window",
        "即使首站前往，外访员也无法在可接待时段内到达并完成拜访",
    ),
    "cannot_return_in_time": (
        "after this visit the agent could not be back before the working day ends",
        "完成该拜访后外访员无法在工作时间结束前返回",
    ),
    "day_full": (
        "the working day is full: fitting it in would cost more or more valuable visits",
        "当日行程已满：安排该拜访会挤掉更多或更有价值的拜访",
    ),
}


def _unvisited(case_id: int, code: str) -> UnvisitedStop:
    english, chinese = REASONS[code]
    return UnvisitedStop(case_id=case_id, code=code, reason_en=english, reason_zh=chinese)


def _seconds_up(delta: timedelta) -> int:
    return math.ceil(delta.total_seconds() - 1e-9)


def _check_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise FieldRouteError(f"{what} must be timezone-aware")


def _validate(day: FieldDay, visits: Sequence[FieldVisit]) -> None:
    _check_aware(day.day_start, "day_start")
    _check_aware(day.day_end, "day_end")
    if day.day_end <= day.day_start:
        raise FieldRouteError("the working day must end after it starts")
    seen: set[int] = set()
    for visit in visits:
        if visit.case_id in seen:
            raise FieldRouteError(f"case {visit.case_id} is listed twice")
        seen.add(visit.case_id)
        _check_aware(visit.available_from, f"case {visit.case_id} available_from")
        _check_aware(visit.available_until, f"case {visit.case_id} available_until")
        if visit.duration < timedelta(0):
            raise FieldRouteError(f"case {visit.case_id}: visit duration must not be negative")
        if visit.value_fen < 0:
            raise FieldRouteError(f"case {visit.case_id}: value must not be negative")


def plan_field_route(
    day: FieldDay,
    visits: Sequence[FieldVisit],
    *,
    travel_time: TravelTime | None = None,
    time_limit_s: float = 1.0,
) -> FieldRoute:
    """The agent's ordered route for the day; visits that cannot fit come back with why."""
    _validate(day, visits)
    travel = travel_time if travel_time is not None else HaversineTravel()
    end_location = day.end_location if day.end_location is not None else day.start_location
    day_length = math.floor((day.day_end - day.day_start).total_seconds())

    def offset(moment: datetime) -> float:
        return (moment - day.day_start).total_seconds()

    def seconds(origin: GeoPoint, destination: GeoPoint) -> int:
        delta = travel(origin, destination)
        if delta < timedelta(0):
            raise FieldRouteError("travel time must not be negative")
        return _seconds_up(delta)

    unvisited: list[UnvisitedStop] = []
    candidates: list[tuple[FieldVisit, int, int, int]] = []  # visit, earliest, latest, duration
    for visit in visits:
        duration = _seconds_up(visit.duration)
        if visit.available_until - visit.available_from < visit.duration:
            unvisited.append(_unvisited(visit.case_id, "window_shorter_than_visit"))
            continue
        earliest = max(0, math.ceil(offset(visit.available_from)))
        latest = min(math.floor(offset(visit.available_until)), day_length) - duration
        if latest < earliest:
            unvisited.append(_unvisited(visit.case_id, "window_outside_working_day"))
            continue
        there = seconds(day.start_location, visit.location)
        start = max(there, earliest)
        if start > latest:
            unvisited.append(_unvisited(visit.case_id, "unreachable_in_window"))
            continue
        if start + duration + seconds(visit.location, end_location) > day_length:
            unvisited.append(_unvisited(visit.case_id, "cannot_return_in_time"))
            continue
        candidates.append((visit, earliest, latest, duration))

    if not candidates:
        return FieldRoute(
            agent_id=day.agent_id,
            visits=(),
            unvisited=tuple(unvisited),
            leave_at=day.day_start,
            back_at=day.day_start,
            travel=timedelta(0),
        )

    # nodes: 0 start, 1..k visits, k+1 end
    points = [day.start_location, *(c[0].location for c in candidates), end_location]
    n = len(points)
    end_node = n - 1
    travel_matrix = [
        [0 if i in (j, end_node) or j == 0 else seconds(points[i], points[j]) for j in range(n)]
        for i in range(n)
    ]
    # priorities: number of visits, then their value, then travel. Travel of any route is
    # below `travel_bound`; values count in steps of 1/VALUE_STEPS of the top value, each
    # step worth more than any travel; one more visit outweighs every value difference.
    longest = max(max(row) for row in travel_matrix)
    travel_bound = (n + 1) * (longest + 1)
    top_value = max(c[0].value_fen for c in candidates)
    value_penalty = [
        (VALUE_STEPS * c[0].value_fen // top_value if top_value else 0) * travel_bound
        for c in candidates
    ]
    visit_penalty = (len(candidates) + 1) * (VALUE_STEPS + 1) * travel_bound
    penalties = {
        node: visit_penalty + value_penalty[node - 1] for node in range(1, len(candidates) + 1)
    }
    problem = TimeWindowProblem(
        travel=travel_matrix,
        cost=travel_matrix,
        service=[0, *(c[3] for c in candidates), 0],
        window_start=[0, *(c[1] for c in candidates), 0],
        window_end=[day_length, *(c[2] for c in candidates), day_length],
        demand=[0] * n,
        vehicle_capacity=0,
        vehicles=1,
        depot=0,
        end_depot=end_node,
        drop_penalties=penalties,
    )
    if len(candidates) <= EXACT_MAX_VISITS:
        order: Sequence[int] = _best_small_day(candidates, travel_matrix, end_node, day_length)
    else:
        solution = solve_time_window_routes(problem, time_limit_s=time_limit_s)
        order = solution.routes[0] if solution.found and solution.routes else ()
    dropped = set(range(1, end_node)) - set(order)
    for node in sorted(dropped):
        unvisited.append(_unvisited(candidates[node - 1][0].case_id, "day_full"))

    planned, back, total_travel = _schedule(day, candidates, order, travel_matrix, end_node)
    # leave as late as the first visit allows, so nobody waits on a doorstep
    leave = 0
    if planned:
        node, start, _, leg = planned[0]
        leave = start - leg
        planned[0] = (node, start, start, leg)
    leave_at = day.day_start + timedelta(seconds=leave)
    return FieldRoute(
        agent_id=day.agent_id,
        visits=tuple(
            PlannedVisit(
                case_id=candidates[node - 1][0].case_id,
                arrive=day.day_start + timedelta(seconds=arrive),
                start=day.day_start + timedelta(seconds=start),
                end=day.day_start + timedelta(seconds=start + candidates[node - 1][3]),
                travel_before=timedelta(seconds=leg),
            )
            for node, start, arrive, leg in planned
        ),
        unvisited=tuple(unvisited),
        leave_at=leave_at,
        back_at=day.day_start + timedelta(seconds=back),
        travel=timedelta(seconds=total_travel),
    )


def _best_small_day(
    candidates: Sequence[tuple[FieldVisit, int, int, int]],
    travel_matrix: Sequence[Sequence[int]],
    end_node: int,
    day_length: int,
) -> tuple[int, ...]:
    """The route with the most visits, then the most value, then the least travel, by
    dynamic programming over (visited set, last stop) with earliest-start schedules. Each
    state keeps its Pareto front of (clock, travel): an earlier clock never hurts later
    windows, so nothing better is lost."""
    k = len(candidates)
    # (mask, last node) -> list of (clock, travel, order)
    fronts: dict[tuple[int, int], list[tuple[int, int, tuple[int, ...]]]] = {}

    def offer(key: tuple[int, int], clock: int, travel: int, order: tuple[int, ...]) -> None:
        front = fronts.setdefault(key, [])
        if any(c <= clock and t <= travel for c, t, _ in front):
            return
        front[:] = [(c, t, o) for c, t, o in front if not (clock <= c and travel <= t)]
        front.append((clock, travel, order))

    for node in range(1, k + 1):
        _, earliest, latest, duration = candidates[node - 1]
        leg = travel_matrix[0][node]
        start = max(leg, earliest)
        if start <= latest:
            offer((1 << (node - 1), node), start + duration, leg, (node,))
    for mask in range(1, 1 << k):  # supersets come later: masks only grow
        for last in range(1, k + 1):
            for clock, travel, order in fronts.get((mask, last), ()):
                for node in range(1, k + 1):
                    bit = 1 << (node - 1)
                    if mask & bit:
                        continue
                    _, earliest, latest, duration = candidates[node - 1]
                    leg = travel_matrix[last][node]
                    start = max(clock + leg, earliest)
                    if start <= latest:
                        offer((mask | bit, node), start + duration, travel + leg, order + (node,))

    best_key: tuple[int, int, int] = (0, 0, 0)
    best_order: tuple[int, ...] = ()
    for (_, last), front in fronts.items():
        home = travel_matrix[last][end_node]
        for clock, travel, order in front:
            if clock + home > day_length:
                continue
            value = sum(candidates[node - 1][0].value_fen for node in order)
            key = (len(order), value, -(travel + home))
            if key > best_key:
                best_key, best_order = key, order
    return best_order


def _schedule(
    day: FieldDay,
    candidates: Sequence[tuple[FieldVisit, int, int, int]],
    order: Sequence[int],
    travel_matrix: Sequence[Sequence[int]],
    end_node: int,
) -> tuple[list[tuple[int, int, int, int]], int, int]:
    """Earliest-start schedule of `order`: (node, start, arrive, leg) per stop, return time."""
    clock = 0
    previous = 0
    total = 0
    planned: list[tuple[int, int, int, int]] = []
    for node in order:
        leg = travel_matrix[previous][node]
        arrive = clock + leg
        _, earliest, latest, duration = candidates[node - 1]
        start = max(arrive, earliest)
        if start > latest:  # the solver's own model forbids this; never report a bad route
            raise AssertionError(f"route misses the window of case {candidates[node - 1][0]}")
        planned.append((node, start, arrive, leg))
        total += leg
        clock = start + duration
        previous = node
    leg = travel_matrix[previous][end_node]
    total += leg
    back = clock + leg
    if back > math.floor((day.day_end - day.day_start).total_seconds()):
        raise AssertionError("route ends after the working day")
    return planned, back, total
