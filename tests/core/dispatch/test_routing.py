"""Field-visit routes: windows, working day, pluggable travel times, reasons for misses."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from debtflow.core.dispatch.geo import GeoPoint, haversine_km
from debtflow.core.dispatch.routing import (
    FieldDay,
    FieldRoute,
    FieldRouteError,
    FieldVisit,
    HaversineTravel,
    plan_field_route,
)
from debtflow.core.dispatch.vrptw import (
    RoutingInputError,
    TimeWindowProblem,
    solve_time_window_routes,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 12, 1, tzinfo=SHANGHAI)
OFFICE = GeoPoint(30.25, 120.16)
LIMIT = 0.2


def at(hour: int, minute: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute)


def visit(
    case_id: int,
    place: GeoPoint,
    start: datetime,
    end: datetime,
    minutes: int = 30,
    value_fen: int = 0,
) -> FieldVisit:
    return FieldVisit(case_id, place, start, end, timedelta(minutes=minutes), value_fen)


def working_day(start: datetime = at(9), end: datetime = at(18)) -> FieldDay:
    return FieldDay(agent_id=7, start_location=OFFICE, day_start=start, day_end=end)


class Grid:
    """Travel time: 10 minutes per unit of |Δlat| + |Δlon| (easy to reason about)."""

    def __call__(self, origin: GeoPoint, destination: GeoPoint) -> timedelta:
        units = abs(origin.latitude - destination.latitude) + abs(
            origin.longitude - destination.longitude
        )
        return timedelta(minutes=10 * units)


def point(x: float, y: float) -> GeoPoint:
    return GeoPoint(OFFICE.latitude + x, OFFICE.longitude + y)


def assert_route_honours_windows(route: FieldRoute, visits: list[FieldVisit], day: FieldDay):
    by_case = {v.case_id: v for v in visits}
    clock = route.leave_at
    for planned in route.visits:
        asked = by_case[planned.case_id]
        assert planned.arrive >= clock
        assert planned.start >= max(planned.arrive, asked.available_from)
        assert planned.end == planned.start + asked.duration
        assert planned.end <= asked.available_until
        clock = planned.end
    assert route.back_at <= day.day_end
    assert route.leave_at >= day.day_start


def test_haversine_matches_a_known_distance() -> None:
    # Beijing Tiananmen to Shanghai People's Square: about 1,067 km great-circle
    km = haversine_km(GeoPoint(39.9087, 116.3975), GeoPoint(31.2304, 121.4737))
    assert 1060 < km < 1075
    assert haversine_km(OFFICE, OFFICE) == 0.0


def test_default_travel_time_follows_the_configured_speed() -> None:
    a, b = GeoPoint(30.0, 120.0), GeoPoint(30.1, 120.0)
    slow = HaversineTravel(speed_kmh=10, detour_factor=1.0)(a, b)
    fast = HaversineTravel(speed_kmh=40, detour_factor=1.0)(a, b)
    assert slow == 4 * fast
    assert abs(slow.total_seconds() / 3600 - haversine_km(a, b) / 10) < 1e-9
    with pytest.raises(FieldRouteError):
        HaversineTravel(speed_kmh=0)


def test_windows_force_an_order_the_map_alone_would_not() -> None:
    # c is nearest but only available late; a is farthest but only early
    visits = [
        visit(1, point(0.0, 3.0), at(9), at(11)),
        visit(2, point(0.0, 2.0), at(11), at(13)),
        visit(3, point(0.0, 1.0), at(14), at(16)),
    ]
    route = plan_field_route(working_day(), visits, travel_time=Grid(), time_limit_s=LIMIT)
    assert [v.case_id for v in route.visits] == [1, 2, 3]
    assert not route.unvisited
    assert_route_honours_windows(route, visits, working_day())


def test_route_minimises_travel_when_windows_allow_any_order() -> None:
    places = [point(0, 1), point(0, 2), point(0, 3), point(0, 4)]
    visits = [visit(i, p, at(9), at(18)) for i, p in zip((4, 2, 3, 1), places, strict=True)]
    route = plan_field_route(working_day(), visits, travel_time=Grid(), time_limit_s=LIMIT)
    # out along the line and back: 4 units out + 4 back = 80 minutes
    assert route.travel == timedelta(minutes=80)
    assert len(route.visits) == 4
    assert_route_honours_windows(route, visits, working_day())


def test_unvisitable_stops_come_back_with_their_reason() -> None:
    visits = [
        visit(1, point(0, 1), at(10), at(12)),  # fine
        visit(2, point(0, 1), at(10), at(10, 20), minutes=30),  # window shorter than visit
        visit(3, point(0, 1), at(19), at(21)),  # after the working day
        visit(4, point(0, 30), at(9), at(11)),  # 5 hours away, window over before arrival
        visit(5, point(0, 20), at(9), at(18)),  # 200 min out, 200 back: no time to return
    ]
    day = working_day(at(9), at(15))
    route = plan_field_route(day, visits, travel_time=Grid(), time_limit_s=LIMIT)
    assert [v.case_id for v in route.visits] == [1]
    reasons = {u.case_id: u.code for u in route.unvisited}
    assert reasons == {
        2: "window_shorter_than_visit",
        3: "window_outside_working_day",
        4: "unreachable_in_window",
        5: "cannot_return_in_time",
    }
    assert all(u.reason_en and u.reason_zh for u in route.unvisited)


def test_when_the_day_is_full_the_more_valuable_visit_stays() -> None:
    # two visits that both need 10:00-12:00 entirely; only one fits
    visits = [
        visit(1, point(0, 1), at(10), at(12), minutes=120, value_fen=10_000),
        visit(2, point(0, 1), at(10), at(12), minutes=120, value_fen=900_000),
    ]
    route = plan_field_route(working_day(), visits, travel_time=Grid(), time_limit_s=LIMIT)
    assert [v.case_id for v in route.visits] == [2]
    assert [(u.case_id, u.code) for u in route.unvisited] == [(1, "day_full")]


def test_more_visits_beat_one_valuable_visit() -> None:
    visits = [
        visit(1, point(0, 1), at(10), at(13), minutes=180, value_fen=5_000_000),
        visit(2, point(0, 1), at(10), at(11, 30), minutes=60, value_fen=1_000),
        visit(3, point(0, 1), at(11, 30), at(13), minutes=60, value_fen=1_000),
    ]
    day = working_day(at(9), at(14))
    route = plan_field_route(day, visits, travel_time=Grid(), time_limit_s=LIMIT)
    assert sorted(v.case_id for v in route.visits) == [2, 3]


def test_agent_leaves_just_in_time_for_the_first_visit() -> None:
    visits = [visit(1, point(0, 3), at(13), at(15))]
    route = plan_field_route(working_day(), visits, travel_time=Grid(), time_limit_s=LIMIT)
    assert route.leave_at == at(12, 30)
    assert route.visits[0].arrive == route.visits[0].start == at(13)
    assert route.back_at == at(14)


def test_separate_end_location_is_honoured() -> None:
    day = FieldDay(7, OFFICE, at(9), at(18), end_location=point(0, 5))
    visits = [visit(1, point(0, 2), at(9), at(18))]
    route = plan_field_route(day, visits, travel_time=Grid(), time_limit_s=LIMIT)
    assert route.travel == timedelta(minutes=50)


def test_no_visits_gives_an_empty_route() -> None:
    route = plan_field_route(working_day(), [], time_limit_s=LIMIT)
    assert route.visits == () and route.unvisited == ()


@pytest.mark.parametrize(
    "day, visits, message",
    [
        (FieldDay(1, OFFICE, datetime(2026, 12, 1, 9), at(18)), [], "timezone-aware"),
        (working_day(at(18), at(9)), [], "end after it starts"),
        (
            working_day(),
            [visit(1, OFFICE, at(9), at(10)), visit(1, OFFICE, at(11), at(12))],
            "listed twice",
        ),
        (working_day(), [visit(1, OFFICE, at(9), at(10), minutes=-5)], "negative"),
    ],
)
def test_bad_input_is_refused(day: FieldDay, visits: list[FieldVisit], message: str) -> None:
    with pytest.raises(FieldRouteError, match=message):
        plan_field_route(day, visits, time_limit_s=LIMIT)


def test_core_rejects_malformed_problems() -> None:
    good = TimeWindowProblem(
        travel=[[0, 1], [1, 0]],
        cost=[[0, 1], [1, 0]],
        service=[0, 0],
        window_start=[0, 0],
        window_end=[10, 10],
        demand=[0, 0],
        vehicle_capacity=0,
        vehicles=1,
    )
    assert solve_time_window_routes(good, time_limit_s=LIMIT).routes == ((1,),)
    with pytest.raises(RoutingInputError, match="2x2"):
        solve_time_window_routes(
            TimeWindowProblem(**{**good.__dict__, "travel": [[0, 1]]}), time_limit_s=LIMIT
        )
    with pytest.raises(RoutingInputError, match="window"):
        solve_time_window_routes(
            TimeWindowProblem(**{**good.__dict__, "window_start": [0, 11]}), time_limit_s=LIMIT
        )
    with pytest.raises(RoutingInputError, match="time limit"):
        solve_time_window_routes(good, time_limit_s=0)
    with pytest.raises(RoutingInputError, match="unknown first-solution"):
        solve_time_window_routes(good, time_limit_s=LIMIT, first_solutions=("BEST_GUESS",))
    with pytest.raises(RoutingInputError, match="at least one"):
        solve_time_window_routes(good, time_limit_s=LIMIT, first_solutions=())


def test_core_reports_when_no_route_exists() -> None:
    # the only customer's window closes before the vehicle could get there
    problem = TimeWindowProblem(
        travel=[[0, 5], [5, 0]],
        cost=[[0, 5], [5, 0]],
        service=[0, 0],
        window_start=[0, 0],
        window_end=[100, 3],
        demand=[0, 0],
        vehicle_capacity=0,
        vehicles=1,
    )
    assert not solve_time_window_routes(problem, time_limit_s=LIMIT).found


# ------------------------------------------- small days: the documented order, exactly


def _brute_force(day: FieldDay, visits: list[FieldVisit], travel: Grid) -> tuple[int, int, float]:
    """Best (visits, value, -travel minutes) over every ordered subset, earliest starts."""
    import itertools

    best = (0, 0, 0.0)
    for size in range(1, len(visits) + 1):
        for order in itertools.permutations(visits, size):
            clock, here, moved = day.day_start, day.start_location, timedelta(0)
            feasible = True
            for v in order:
                leg = travel(here, v.location)
                start = max(clock + leg, v.available_from)
                if start + v.duration > v.available_until:
                    feasible = False
                    break
                clock, here, moved = start + v.duration, v.location, moved + leg
            back = travel(here, day.start_location)
            if not feasible or clock + back > day.day_end:
                continue
            score = (size, sum(v.value_fen for v in order), -(moved + back).total_seconds())
            best = max(best, score)
    return best


def _random_day(rng: random.Random, size: int) -> list[FieldVisit]:
    out = []
    for case_id in range(1, size + 1):
        opens = at(9) + timedelta(minutes=rng.randrange(0, 420, 15))
        closes = opens + timedelta(minutes=rng.randrange(45, 300, 15))
        out.append(
            visit(
                case_id,
                point(rng.uniform(-3, 3), rng.uniform(-3, 3)),
                opens,
                closes,
                minutes=rng.choice((30, 45, 60, 90)),
                value_fen=rng.randrange(1_000, 60_000),
            )
        )
    return out


def test_small_days_keep_the_most_visits_then_the_most_value_then_least_travel() -> None:
    rng = random.Random(11)
    for _ in range(40):
        visits = _random_day(rng, rng.randint(4, 7))
        route = plan_field_route(working_day(), visits, travel_time=Grid(), time_limit_s=LIMIT)
        kept = {v.case_id: v for v in visits}
        made = [kept[p.case_id] for p in route.visits]
        count, value, minus_travel = _brute_force(working_day(), visits, Grid())
        assert (len(made), sum(v.value_fen for v in made)) == (count, value)
        assert -route.travel.total_seconds() == pytest.approx(minus_travel, abs=60)
