"""A field collector's route sheet for one day: the stored route with what happened at each stop.

The nightly route step stores each field collector's route of the day; ``route_sheet`` reads
it back for the field app with, per stop, the debtor's masked name and address, the visiting
window in the debtor's time zone, planned arrival, the balance, whether a visit was requested,
the latest check-in and how many files were uploaded, and an SVG map of the located stops.
Who may read which sheet is decided in ``access``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.core.dispatch.geo import GeoPoint
from debtflow.core.field.route_map import RouteMap, draw_route
from debtflow.core.field.visits import mask_name
from debtflow.field import repository
from debtflow.field.access import route_collector
from debtflow.field.business_days import day_bounds
from debtflow.models import Address, Collector, FieldCheckin, User
from debtflow.models.enums import DebtorType

# the debtor's available time of day, as the nightly route step plans it
WINDOWS = {DebtorType.BUSINESS: (time(9), time(17)), DebtorType.PERSON: (time(10), time(20))}


@dataclass(frozen=True)
class RouteStop:
    order: int
    case_id: int
    debtor_name: str  # masked
    address: str
    location: GeoPoint | None
    window_from: datetime
    window_until: datetime
    arrive: datetime
    start: datetime
    end: datetime
    balance_fen: int
    requested: bool
    checkin: FieldCheckin | None
    files: int


@dataclass(frozen=True)
class RouteSheet:
    collector: Collector
    day: date
    planned: bool
    stops: tuple[RouteStop, ...]
    unvisitable: tuple[dict[str, Any], ...]
    leave_at: datetime | None
    back_at: datetime | None
    travel_seconds: int
    map: RouteMap | None


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _address_text(address: Address | None) -> str:
    if address is None:
        return "—"
    return "".join(p for p in (address.province, address.city, address.line or "") if p) or "—"


def route_sheet(
    session: Session, *, user: User, day: date, collector_id: int | None = None
) -> RouteSheet:
    """One field collector's stored route of ``day`` with what happened at each stop."""
    collector = route_collector(session, user=user, collector_id=collector_id)
    route = repository.route_of(session, collector_id=collector.id, day=day)
    since, until = day_bounds(day)
    checkins = repository.checkins_between(
        session, collector_id=collector.id, since=since, until=until
    )
    latest: dict[int, FieldCheckin] = {}
    for c in checkins:
        latest[c.case_id] = c
    files: dict[int, int] = {}
    for f in repository.files_of(session, [c.id for c in checkins]):
        files[f.checkin_id] = files.get(f.checkin_id, 0) + 1
    planned_stops: list[dict[str, Any]] = list(route.stops) if route is not None else []
    case_ids = [int(s["case_id"]) for s in planned_stops]
    rows = repository.stop_rows(session, case_ids)
    addresses = repository.addresses_of(session, sorted({d.id for _, d in rows.values()}))
    requested = {r.id for r in repository.open_requests_on_open_cases(session, case_ids=list(rows))}
    stops: list[RouteStop] = []
    for order, stop in enumerate(planned_stops, start=1):
        found = rows.get(int(stop["case_id"]))
        if found is None:
            continue
        case, debtor = found
        address = addresses.get(debtor.id)
        opens, closes = WINDOWS.get(DebtorType(debtor.debtor_type), WINDOWS[DebtorType.PERSON])
        local = ZoneInfo(debtor.timezone or get_settings().default_timezone)
        location = (
            GeoPoint(address.latitude, address.longitude)
            if address is not None
            and address.latitude is not None
            and address.longitude is not None
            else None
        )
        checkin = latest.get(case.id)
        stops.append(
            RouteStop(
                order=order,
                case_id=case.id,
                debtor_name=mask_name(debtor.name),
                address=_address_text(address),
                location=location,
                window_from=datetime.combine(day, opens, local),
                window_until=datetime.combine(day, closes, local),
                arrive=_when(stop["arrive"]),
                start=_when(stop["start"]),
                end=_when(stop["end"]),
                balance_fen=case.outstanding_fen,
                requested=case.id in requested,
                checkin=checkin,
                files=files.get(checkin.id, 0) if checkin is not None else 0,
            )
        )
    located = [s for s in stops if s.location is not None]
    start = (
        GeoPoint(collector.latitude, collector.longitude)
        if collector.latitude is not None and collector.longitude is not None
        else None
    )
    drawn = (
        draw_route(
            [s.location for s in located if s.location is not None],
            start=start,
            labels=[str(s.order) for s in located],
        )
        if located
        else None
    )
    return RouteSheet(
        collector=collector,
        day=day,
        planned=route is not None,
        stops=tuple(stops),
        unvisitable=tuple(route.unvisitable) if route is not None else (),
        leave_at=route.leave_at if route is not None else None,
        back_at=route.back_at if route is not None else None,
        travel_seconds=route.travel_seconds if route is not None else 0,
        map=drawn,
    )
