"""A field route drawn without map tiles: longitude/latitude projected into an SVG box,
numbered stops and a polyline in route order.

The projection is equirectangular around the route's mean latitude (x = longitude ×
cos(mean latitude), y = latitude, north up; longitudes unwrapped around the route's mean
so a route across the antimeridian is not torn apart), scaled by one factor for both axes so that
distances keep their proportions, and centred in the box inside a margin. Over the few
tens of kilometres of a field agent's day the distortion is far below what a phone screen
shows. A scale bar of a round length (1, 2 or 5 × 10ⁿ metres) gives the distances.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from debtflow.core.dispatch.geo import EARTH_RADIUS_KM, GeoPoint

METRES_PER_DEGREE = EARTH_RADIUS_KM * 1000 * math.pi / 180


@dataclass(frozen=True)
class MapPoint:
    x: float
    y: float
    label: str  # "0" for the start, "1", "2", … for the stops in route order


@dataclass(frozen=True)
class ScaleBar:
    metres: int
    pixels: float

    @property
    def text(self) -> str:
        return f"{self.metres // 1000} km" if self.metres >= 1000 else f"{self.metres} m"


@dataclass(frozen=True)
class RouteMap:
    width: int
    height: int
    points: tuple[MapPoint, ...]
    polyline: str  # "x1,y1 x2,y2 …" in route order (start first when there is one)
    scale: ScaleBar | None

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def _round_length(target_m: float) -> int:
    """The largest 1, 2 or 5 × 10ⁿ metres not above ``target_m`` (at least 1)."""
    if target_m < 1:
        return 1
    power = 10 ** math.floor(math.log10(target_m))
    for step in (5, 2, 1):
        if step * power <= target_m:
            return int(step * power)
    return int(power)  # pragma: no cover - step 1 always fits


def _unwrapped_longitudes(locations: Sequence[GeoPoint]) -> list[float]:
    """Longitudes moved by whole turns to within 180° of the route's mean direction (the
    circular mean), so a route across the antimeridian (179.99° and -179.99°) stays the
    short hop it is instead of spanning the globe."""
    east = sum(math.cos(math.radians(p.longitude)) for p in locations)
    north = sum(math.sin(math.radians(p.longitude)) for p in locations)
    centre = math.degrees(math.atan2(north, east)) if east or north else locations[0].longitude
    return [p.longitude + 360.0 * round((centre - p.longitude) / 360.0) for p in locations]


def _plane(locations: Sequence[GeoPoint]) -> tuple[list[float], list[float]]:
    """Equirectangular plane coordinates (degrees) around the mean latitude, longitudes
    unwrapped around the route's mean."""
    mean_lat = sum(p.latitude for p in locations) / len(locations)
    shrink = math.cos(math.radians(mean_lat))
    longitudes = _unwrapped_longitudes(locations)
    return [lon * shrink for lon in longitudes], [p.latitude for p in locations]


def fitted_height(
    locations: Sequence[GeoPoint], *, width: int, margin: int, min_height: int, max_height: int
) -> int:
    """The box height that fits the drawing's shape at ``width`` (a wide route gets a low
    box, a tall one ``max_height``), within ``min_height``–``max_height``."""
    if not locations:
        return min_height
    xs, ys = _plane(locations)
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    if span_x == 0:
        return max_height if span_y else min_height
    wanted = 2 * margin + (width - 2 * margin) * span_y / span_x
    return max(min_height, min(max_height, math.ceil(wanted)))


def project(
    locations: Sequence[GeoPoint], *, width: int, height: int, margin: int
) -> tuple[list[tuple[float, float]], float]:
    """Box coordinates of ``locations`` and the pixels per metre (0 when all coincide)."""
    if width <= 2 * margin or height <= 2 * margin or margin < 0:
        raise ValueError("the box must be larger than twice its margin")
    if not locations:
        return [], 0.0
    xs, ys = _plane(locations)
    span_x, span_y = max(xs) - min(xs), max(ys) - min(ys)
    inner_w, inner_h = width - 2 * margin, height - 2 * margin
    if span_x == 0 and span_y == 0:
        return [(width / 2, height / 2) for _ in locations], 0.0
    scale = min(
        inner_w / span_x if span_x else math.inf,
        inner_h / span_y if span_y else math.inf,
    )
    # centre the drawing: the unused room on each axis is split on both sides
    off_x = margin + (inner_w - span_x * scale) / 2
    off_y = margin + (inner_h - span_y * scale) / 2
    top = max(ys)
    left = min(xs)
    out = [
        (round(off_x + (x - left) * scale, 1), round(off_y + (top - y) * scale, 1))
        for x, y in zip(xs, ys, strict=True)
    ]
    return out, scale / METRES_PER_DEGREE


def draw_route(
    stops: Sequence[GeoPoint],
    *,
    start: GeoPoint | None = None,
    labels: Sequence[str] | None = None,
    width: int = 360,
    height: int | None = None,
    margin: int = 24,
    min_height: int = 160,
) -> RouteMap:
    """Project the agent's start (label "0") and the stops (labels "1"… in order, or
    ``labels`` — e.g. route positions when some stops cannot be drawn) into the box.
    Without ``height`` the box is as high as the route's shape needs (``min_height`` to
    ``width``), so a wide route does not leave a phone screen half empty."""
    if labels is not None and len(labels) != len(stops):
        raise ValueError("one label per stop")
    locations = ([start] if start is not None else []) + list(stops)
    if height is None:
        height = fitted_height(
            locations, width=width, margin=margin, min_height=min_height, max_height=width
        )
    coords, px_per_m = project(locations, width=width, height=height, margin=margin)
    names = (["0"] if start is not None else []) + (
        list(labels) if labels is not None else [str(i + 1) for i in range(len(stops))]
    )
    points = tuple(MapPoint(x, y, name) for (x, y), name in zip(coords, names, strict=True))
    polyline = " ".join(f"{p.x:g},{p.y:g}" for p in points)
    scale = None
    if px_per_m > 0:
        metres = _round_length((width - 2 * margin) / 3 / px_per_m)
        scale = ScaleBar(metres=metres, pixels=round(metres * px_per_m, 1))
    return RouteMap(width=width, height=height, points=points, polyline=polyline, scale=scale)
