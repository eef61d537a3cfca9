"""Nightly step ``route`` (order 70): each field agent's ordered visits for the day.

For every field agent and part-time collector with a known base, the open cases they hold
(not visited in the last VISIT_GAP_DAYS days, the most valuable MAX_VISITS_CONSIDERED)
become visits with the debtor's available window (a business: 09:00–17:00, a person:
10:00–20:00, debtor's local time), 60 / 45 minutes on site, inside the working day
09:00–18:00; `core.dispatch.routing.plan_field_route` orders them. A stored route is
kept as long as the visits it was planned from are the same (the planner's search is
time-limited, so re-planning the same input could reorder it): a second run for one
date changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.core.dispatch.features import CollectorType
from debtflow.core.dispatch.geo import GeoPoint
from debtflow.core.dispatch.routing import (
    FieldDay,
    FieldVisit,
    plan_field_route,
)
from debtflow.core.dispatch.routing import (
    FieldRoute as PlannedRoute,
)
from debtflow.dispatch import repository
from debtflow.dispatch.scoring import collector_pool
from debtflow.models import FieldRoute
from debtflow.nightly.service import StepCounts, register_step

WORKING_DAY = (time(9), time(18))
WINDOWS = {"business": (time(9), time(17)), "person": (time(10), time(20))}
DURATION = {"business": timedelta(minutes=60), "person": timedelta(minutes=45)}
MAX_VISITS_CONSIDERED = 12
VISIT_GAP_DAYS = 7
TIME_LIMIT_S = 1.0
NO_LOCATION = {
    "code": "no_location",
    "reason_en": "the debtor's address has no map position",
    "reason_zh": "债务人地址缺少地图坐标",
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).isoformat()


def _stored(route: PlannedRoute) -> dict[str, Any]:
    return {
        "stops": [
            {
                "case_id": v.case_id,
                "arrive": _iso(v.arrive),
                "start": _iso(v.start),
                "end": _iso(v.end),
                "travel_seconds": int(v.travel_before.total_seconds()),
            }
            for v in route.visits
        ],
        "unvisitable": [
            {
                "case_id": u.case_id,
                "code": u.code,
                "reason_en": u.reason_en,
                "reason_zh": u.reason_zh,
            }
            for u in route.unvisited
        ],
        "leave_at": route.leave_at,
        "back_at": route.back_at,
        "travel_seconds": int(route.travel.total_seconds()),
    }


def plan_routes(session: Session, as_of: date) -> StepCounts:
    """Nightly step: plan (or keep) every field agent's route for ``as_of``."""
    zone = ZoneInfo(get_settings().default_timezone)
    pool = collector_pool(session)
    agents = {
        k.profile.collector_id: k
        for k in pool.collectors
        if k.profile.kind in (CollectorType.FIELD_AGENT, CollectorType.PART_TIME)
        and k.profile.location is not None
    }
    counts = {"routes_planned": 0, "routes_kept": 0, "route_stops": 0, "route_unvisitable": 0}
    if not agents:
        return counts
    held = repository.field_cases_of(session, list(agents))
    # open field-visit requests go to the field agent serving the debtor's region, ahead
    # of the agent's own cases and whatever the last visit was (debtflow.field)
    from debtflow.field import service as field_service

    requested = field_service.schedule_requested_visits(
        session, agent_ids=sorted(agents), as_of=as_of
    )
    case_ids = [r.id for r in held]
    day_start = datetime.combine(as_of, WORKING_DAY[0], zone)
    visited = repository.recent_visits(
        session, case_ids, since=day_start - timedelta(days=VISIT_GAP_DAYS)
    )
    values = repository.latest_values(session, case_ids)
    addresses = repository.addresses_of(
        session, sorted({r.debtor_id for r in (*held, *requested.stops)})
    )
    by_agent: dict[int, list[Any]] = {}
    for r in held:
        if r.id not in visited and r.id not in requested.case_ids:
            by_agent.setdefault(r.assigned_collector_id, []).append(r)
    for stop in requested.stops:
        by_agent.setdefault(stop.assigned_collector_id, []).append(stop)
    stored = repository.routes_of_day(session, day=as_of)
    for agent_id, agent in sorted(agents.items()):
        rows = sorted(
            by_agent.get(agent_id, []),
            key=lambda r: (r.id not in requested.case_ids, -values.get(r.id, 0), r.id),
        )
        rows = rows[:MAX_VISITS_CONSIDERED]
        visits: list[FieldVisit] = []
        unlocated: list[dict[str, Any]] = []
        for r in rows:
            address = addresses.get(r.debtor_id)
            if address is None or address.latitude is None or address.longitude is None:
                unlocated.append({"case_id": r.id, **NO_LOCATION})
                continue
            kind = "business" if str(r.debtor_type) == "business" else "person"
            local = ZoneInfo(r.timezone or get_settings().default_timezone)
            opens, closes = WINDOWS[kind]
            visits.append(
                FieldVisit(
                    case_id=r.id,
                    location=GeoPoint(float(address.latitude), float(address.longitude)),
                    available_from=datetime.combine(as_of, opens, local),
                    available_until=datetime.combine(as_of, closes, local),
                    duration=DURATION[kind],
                    value_fen=max(0, values.get(r.id, 0)),
                )
            )
        if not visits and not unlocated and agent_id not in stored:
            continue
        assert agent.profile.location is not None
        day = FieldDay(
            agent_id=agent_id,
            start_location=agent.profile.location,
            day_start=day_start,
            day_end=datetime.combine(as_of, WORKING_DAY[1], zone),
        )
        key = hashlib.sha256(
            json.dumps(
                [
                    [day.start_location.latitude, day.start_location.longitude],
                    [
                        [
                            v.case_id,
                            v.location.latitude,
                            v.location.longitude,
                            v.value_fen,
                            v.available_from.isoformat(),
                            v.available_until.isoformat(),
                            v.duration.total_seconds(),
                        ]
                        for v in visits
                    ],
                    [u["case_id"] for u in unlocated],
                ]
            ).encode()
        ).hexdigest()
        existing = stored.get(agent_id)
        if existing is not None and existing.inputs_key == key:
            counts["routes_kept"] += 1
            continue
        planned = _stored(plan_field_route(day, visits, time_limit_s=TIME_LIMIT_S))
        planned["unvisitable"] += unlocated
        if existing is None:
            repository.add_route(
                session,
                FieldRoute(collector_id=agent_id, day=as_of, inputs_key=key, **planned),
            )
        else:
            existing.inputs_key = key
            for column, value in planned.items():
                setattr(existing, column, value)
        counts["routes_planned"] += 1
        counts["route_stops"] += len(planned["stops"])
        counts["route_unvisitable"] += len(planned["unvisitable"])
    session.flush()
    return counts


@dataclass(frozen=True)
class RouteView:
    collector_id: int
    code: str
    name: str
    route: FieldRoute


def routes(session: Session, *, day: date, agent_code: str | None = None) -> list[RouteView]:
    """Stored routes of a day (one agent's when ``agent_code`` is given)."""
    stored = repository.routes_of_day(session, day=day)
    names = repository.collectors_by_id(session, stored)
    out = [
        RouteView(cid, names[cid].code, names[cid].name, route)
        for cid, route in sorted(stored.items())
        if cid in names
    ]
    if agent_code is not None:
        out = [r for r in out if r.code == agent_code]
    return out


register_step("route", 70, plan_routes)
