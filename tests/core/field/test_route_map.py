"""Projecting a route into an SVG box: inside the margins, north up, proportions kept,
numbered in route order, with a round scale bar."""

from __future__ import annotations

import math

import pytest

from debtflow.core.dispatch.geo import GeoPoint, haversine_km
from debtflow.core.field.route_map import _round_length, draw_route, fitted_height, project

START = GeoPoint(30.25, 120.17)
STOPS = [GeoPoint(30.2741, 120.1551), GeoPoint(30.29, 120.20), GeoPoint(30.22, 120.21)]


def test_points_stay_inside_the_margins_and_fill_one_axis():
    drawn = draw_route(STOPS, start=START, width=360, height=300, margin=20)
    xs = [p.x for p in drawn.points]
    ys = [p.y for p in drawn.points]
    assert all(20 <= x <= 340 for x in xs) and all(20 <= y <= 280 for y in ys)
    # the longer span touches both margins of its axis
    assert (min(xs), max(xs)) == (20, 340) or (min(ys), max(ys)) == (20, 280)


def test_north_is_up_and_east_is_right():
    drawn = draw_route(STOPS, start=START)
    by_label = {p.label: p for p in drawn.points}
    assert by_label["2"].y < by_label["3"].y  # stop 2 is the northernmost of 2 and 3
    assert by_label["2"].x < by_label["3"].x  # and west of stop 3


def test_distances_keep_their_proportions():
    drawn = draw_route(STOPS, start=START, width=500, height=500, margin=10)
    a, b, c = drawn.points[1], drawn.points[2], drawn.points[3]
    pixel_ratio = math.dist((a.x, a.y), (b.x, b.y)) / math.dist((a.x, a.y), (c.x, c.y))
    ground_ratio = haversine_km(STOPS[0], STOPS[1]) / haversine_km(STOPS[0], STOPS[2])
    assert pixel_ratio == pytest.approx(ground_ratio, rel=0.01)


def test_labels_and_polyline_follow_route_order():
    drawn = draw_route(STOPS, start=START, height=360)
    assert [p.label for p in drawn.points] == ["0", "1", "2", "3"]
    assert drawn.polyline == " ".join(f"{p.x:g},{p.y:g}" for p in drawn.points)
    without_start = draw_route(STOPS)
    assert [p.label for p in without_start.points] == ["1", "2", "3"]
    assert drawn.view_box == "0 0 360 360"


def test_scale_bar_is_a_round_length_matching_the_projection():
    drawn = draw_route(STOPS, start=START, width=360, height=360, margin=24)
    assert drawn.scale is not None
    digits = str(drawn.scale.metres).rstrip("0")
    assert digits in {"1", "2", "5"}
    a, b = drawn.points[0], drawn.points[1]
    px_per_m = math.dist((a.x, a.y), (b.x, b.y)) / (haversine_km(START, STOPS[0]) * 1000)
    assert drawn.scale.pixels == pytest.approx(drawn.scale.metres * px_per_m, rel=0.01)
    assert drawn.scale.text.endswith(("km", " m"))


def test_one_point_or_coinciding_points_sit_in_the_middle():
    one = draw_route([STOPS[0]], width=200, height=100, margin=10)
    assert [(p.x, p.y) for p in one.points] == [(100, 50)]
    assert one.scale is None
    same = draw_route([STOPS[0], STOPS[0]], width=200, height=100, margin=10)
    assert {(p.x, p.y) for p in same.points} == {(100, 50)}


def test_points_on_one_meridian_are_centred_horizontally():
    coords, _ = project(
        [GeoPoint(30.0, 120.0), GeoPoint(30.1, 120.0)], width=200, height=100, margin=10
    )
    assert [x for x, _ in coords] == [100, 100]
    assert sorted(y for _, y in coords) == [10, 90]


def test_no_points_and_bad_boxes():
    assert draw_route([]).points == ()
    with pytest.raises(ValueError):
        draw_route(STOPS, width=40, height=300, margin=20)


@pytest.mark.parametrize(
    ("target", "expected"), [(0.3, 1), (1, 1), (7, 5), (19.9, 10), (2500, 2000), (999, 500)]
)
def test_round_lengths(target, expected):
    assert _round_length(target) == expected


def test_labels_name_the_stops_when_given():
    drawn = draw_route(STOPS[:2], start=START, labels=["1", "3"])
    assert [p.label for p in drawn.points] == ["0", "1", "3"]
    with pytest.raises(ValueError):
        draw_route(STOPS, labels=["1"])


def test_box_height_follows_the_routes_shape():
    wide = [GeoPoint(30.0, 120.0), GeoPoint(30.01, 120.3)]
    tall = [GeoPoint(30.0, 120.0), GeoPoint(30.3, 120.01)]
    assert fitted_height(wide, width=360, margin=24, min_height=160, max_height=360) == 160
    assert fitted_height(tall, width=360, margin=24, min_height=160, max_height=360) == 360
    # a route twice as wide (on the ground) as it is high: half the inner width, plus margins
    square_ish = [
        GeoPoint(30.0, 120.0),
        GeoPoint(30.1, 120.0 + 0.2 / math.cos(math.radians(30.05))),
    ]
    assert fitted_height(square_ish, width=360, margin=24, min_height=100, max_height=360) == 204
    drawn = draw_route(wide, width=360, margin=24)
    assert drawn.height == 160 and drawn.view_box == "0 0 360 160"
    assert all(24 <= p.y <= 136 for p in drawn.points)


def _wrap(longitude: float) -> float:
    return (longitude + 180.0) % 360.0 - 180.0


def test_a_route_across_the_antimeridian_is_drawn_as_the_short_hop_it_is():
    """Three points 2.4 km apart around ±180° were drawn at opposite edges (x = 336, 24,
    336) with a 10,000 km scale bar."""
    west, east, far_west = GeoPoint(0.0, 179.99), GeoPoint(0.0, -179.99), GeoPoint(0.01, 179.99)
    assert haversine_km(west, east) < 2.5
    drawn = draw_route([east, far_west], start=west, width=360, height=360, margin=24)
    a, b, c = drawn.points
    # as on either side of Greenwich: the same picture as the same points around 0°
    here = draw_route(
        [GeoPoint(0.0, 0.01), GeoPoint(0.01, -0.01)],
        start=GeoPoint(0.0, -0.01),
        width=360,
        height=360,
        margin=24,
    )
    assert [(p.x, p.y) for p in drawn.points] == [(p.x, p.y) for p in here.points]
    assert a.x < b.x  # east of the line is to the right
    assert drawn.scale is not None and drawn.scale.metres <= 2_000
    pixels = math.dist((a.x, a.y), (b.x, b.y))
    assert pixels / (haversine_km(west, east) * 1000) == pytest.approx(
        drawn.scale.pixels / drawn.scale.metres, rel=0.01
    )
    assert fitted_height(
        [west, east, far_west], width=360, margin=24, min_height=160, max_height=360
    ) == fitted_height(
        [GeoPoint(0.0, -0.01), GeoPoint(0.0, 0.01), GeoPoint(0.01, -0.01)],
        width=360,
        margin=24,
        min_height=160,
        max_height=360,
    )


@pytest.mark.parametrize("shift", [0.0, 59.83, 179.9, -179.9, 200.0, -120.0])
def test_the_drawing_does_not_depend_on_where_the_longitudes_wrap(shift):
    moved_start = GeoPoint(START.latitude, _wrap(START.longitude + shift))
    moved = [GeoPoint(p.latitude, _wrap(p.longitude + shift)) for p in STOPS]
    drawn = draw_route(moved, start=moved_start, width=360, height=300, margin=20)
    reference = draw_route(STOPS, start=START, width=360, height=300, margin=20)
    for p, q in zip(drawn.points, reference.points, strict=True):
        assert (p.x, p.y) == pytest.approx((q.x, q.y), abs=0.11)
    assert drawn.scale == reference.scale
