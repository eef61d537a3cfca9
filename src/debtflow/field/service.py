"""Field-app operations: visit requests, today's route sheet, check-in on site, the
visit's outcome and the photos or recordings taken there.

Visit requests live here: anyone who may contact the debtor and reaches the case asks for a
visit, and the nightly route step (``dispatch.field_routes``) hands every open request to a
field agent. Beside them, and re-exported here so that other domains and the tests call one
service: ``route_sheet.py`` (a collector's route of the day with what happened at each stop),
``site_visits.py`` (check-in through the compliance gate, the outcome, a refused visit's
answer), ``visit_files.py`` (photos and recordings), ``access.py`` (who reads which route and
whose stop a visit is), ``business_days.py`` (the business day of a moment) and ``errors.py``
(what the field app refuses). See ``docs/field-app.md``; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, require
from debtflow.case import service as case_service
from debtflow.case.service import CaseNotFound
from debtflow.compliance import service as compliance_service
from debtflow.core.case.lifecycle import FINAL_STATUSES
from debtflow.core.dispatch.geo import GeoPoint, haversine_km
from debtflow.core.errors import Conflict, NotFound
from debtflow.core.field.visits import VisitStatus
from debtflow.field import repository
from debtflow.field.access import FIELD_ROLES, field_collectors, route_collector
from debtflow.field.business_days import require_aware
from debtflow.field.errors import CaseClosed, DuplicateVisitRequest, InvalidVisitRequest
from debtflow.field.route_sheet import RouteSheet, RouteStop, route_sheet
from debtflow.field.site_visits import CheckinResult, check_in, denial, record_outcome
from debtflow.field.visit_files import upload_file
from debtflow.models import Address, Collector, FieldVisitRequest, User

__all__ = [
    "FIELD_ROLES",
    "CheckinResult",
    "RequestedStop",
    "RequestedStops",
    "RouteSheet",
    "RouteStop",
    "cancel_request",
    "check_in",
    "denial",
    "field_collectors",
    "record_outcome",
    "request_visit",
    "route_collector",
    "route_sheet",
    "schedule_requested_visits",
    "upload_file",
    "visit_request_on_case",
]

MAX_REASON = 2000


def request_visit(
    session: Session, *, case_id: int, user: User, reason: str, now: datetime
) -> FieldVisitRequest:
    """Ask for a field visit on a case. The user must be allowed to contact debtors and
    reach the case (404 otherwise); the reason must say why; a case has at most one open
    (requested or scheduled) request (409); none is requested while a dispute holds the case
    (409 ``case_under_dispute``). The nightly route step schedules it."""
    require(user, Permission.CONTACT_DEBTORS)
    require_aware(now, "the request time")
    text = reason.strip()
    if not text:
        raise InvalidVisitRequest("say why the debtor should be visited")
    if len(text) > MAX_REASON:
        raise InvalidVisitRequest(f"the reason is longer than {MAX_REASON} characters")
    # the case row is locked, so two requests for one case are decided one after the other
    case = case_service.get_for_user(session, case_id=case_id, user=user, for_update=True)
    if case.status in FINAL_STATUSES:
        raise CaseClosed(f"case {case_id} is {case.status.value}; no visit can be requested")
    compliance_service.refuse_while_disputed(
        session, case=case, at=now, act="no field visit can be requested"
    )
    existing = repository.open_request_of_case(session, case_id=case.id)
    if existing is not None:
        raise DuplicateVisitRequest(
            f"case {case_id} already has an open visit request ({existing.id}, "
            f"{existing.status.value})"
        )
    row = FieldVisitRequest(
        case_id=case.id,
        requested_by_id=user.id,
        reason=text,
        status=VisitStatus.REQUESTED,
        created_at=now,
    )
    repository.add(session, row)
    session.flush()
    return row


def visit_request_on_case(
    session: Session, *, case_id: int, request_id: int
) -> FieldVisitRequest | None:
    """The visit request ``request_id`` when it is one on ``case_id``, None otherwise: a page
    confirms only a request that exists on the case it shows (the caller has checked that
    the user reaches the case)."""
    row = repository.request(session, request_id=request_id)
    return row if row is not None and row.case_id == case_id else None


def cancel_request(
    session: Session, *, request_id: int, user: User, now: datetime
) -> FieldVisitRequest:
    """Withdraw an open request (its requester, or anyone reaching the case)."""
    require(user, Permission.CONTACT_DEBTORS)
    row = repository.request(session, request_id=request_id)
    if row is None:
        raise NotFound(f"visit request {request_id} does not exist")
    try:
        case_service.get_for_user(session, case_id=row.case_id, user=user)
    except CaseNotFound:
        raise NotFound(f"visit request {request_id} does not exist") from None
    if row.status not in (VisitStatus.REQUESTED, VisitStatus.SCHEDULED):
        raise Conflict(f"visit request {request_id} is already {row.status.value}")
    row.status = VisitStatus.CANCELLED
    row.closed_at = now
    session.flush()
    return row


@dataclass(frozen=True)
class RequestedStop:
    """A requested visit as the route step plans it: the same fields as the step's own
    case rows, with the field agent chosen to make it."""

    id: int
    assigned_collector_id: int
    debtor_id: int
    debtor_type: str
    timezone: str
    request_id: int


@dataclass(frozen=True)
class RequestedStops:
    stops: tuple[RequestedStop, ...]

    @cached_property
    def case_ids(self) -> frozenset[int]:
        return frozenset(s.id for s in self.stops)


def _serves(agent: Collector, address: Address | None) -> bool:
    if address is None:
        return False
    places = {str(r).strip().lower() for r in (agent.regions or ())}
    places.add(agent.home_city.strip().lower())
    return address.city.strip().lower() in places or address.province.strip().lower() in places


def schedule_requested_visits(
    session: Session, *, agent_ids: Sequence[int], as_of: date
) -> RequestedStops:
    """For the nightly route step: every open request on an open case goes to a field
    agent among ``agent_ids`` — the case's own collector when it is one of them, else the
    one it was already scheduled with, else the nearest field agent whose regions (or home
    city) cover the debtor's city or province. A request no agent serves stays
    ``requested``. Scheduled requests are marked with agent and day; running it twice for
    one date changes nothing."""
    rows = repository.open_requests_on_open_cases(session)
    if not rows or not agent_ids:
        return RequestedStops(())
    agents = {a.id: a for a in repository.field_agents(session, list(agent_ids))}
    everyone = set(agent_ids)
    addresses = repository.addresses_of(session, sorted({r.debtor_id for r in rows}))
    stops: list[RequestedStop] = []
    seen: set[int] = set()
    for r in rows:
        if r.id in seen:
            continue
        seen.add(r.id)
        address = addresses.get(r.debtor_id)
        chosen: int | None = None
        if r.assigned_collector_id in everyone:
            chosen = r.assigned_collector_id
        elif r.scheduled_collector_id in agents:
            chosen = r.scheduled_collector_id
        else:
            serving = [a for a in agents.values() if _serves(a, address)]
            if serving:
                chosen = min(serving, key=lambda a: (_distance_km(a, address), a.id)).id
        if chosen is None:
            continue
        request = repository.request(session, request_id=r.request_id)
        assert request is not None
        request.status = VisitStatus.SCHEDULED
        request.scheduled_collector_id = chosen
        request.scheduled_day = as_of
        stops.append(
            RequestedStop(
                id=r.id,
                assigned_collector_id=chosen,
                debtor_id=r.debtor_id,
                debtor_type=str(r.debtor_type),
                timezone=r.timezone,
                request_id=r.request_id,
            )
        )
    session.flush()
    return RequestedStops(tuple(stops))


def _distance_km(agent: Collector, address: Address | None) -> float:
    if (
        address is None
        or address.latitude is None
        or address.longitude is None
        or agent.latitude is None
        or agent.longitude is None
    ):
        return float("inf")
    return haversine_km(
        GeoPoint(agent.latitude, agent.longitude), GeoPoint(address.latitude, address.longitude)
    )
