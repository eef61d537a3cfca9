"""Field-app operations: visit requests, today's route sheet, check-in on site, the
visit's outcome and the photos or recordings taken there.

Who may do what (see ``docs/field-app.md``):

- a visit is requested by anyone who may contact the debtor and reaches the case;
- a route sheet is read by its field agent (or part-time collector) and by admins,
  operations managers and compliance auditors;
- check-in, outcome and uploads are made by the field collector whose stop it is (the case
  is on their route of the day or assigned to them); anyone else's stop is reported as
  missing (404). Every visit passes the compliance gate (channel ``visit``) at check-in; a
  denied visit is refused with the gate's reasons and nothing of it is recorded but the
  gate's own decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from debtflow import evidence
from debtflow.auth.scoping import ALL_CASES_ROLES, Permission, require
from debtflow.case import service as case_service
from debtflow.case.service import CaseNotFound
from debtflow.config import get_settings
from debtflow.contact import service as contact_service
from debtflow.contact.access import collecting_party
from debtflow.core.case.lifecycle import FINAL_STATUSES
from debtflow.core.dispatch.geo import GeoPoint, haversine_km
from debtflow.core.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from debtflow.core.evidence.leaf import LeafKind
from debtflow.core.field.media import MediaRejected, check_upload
from debtflow.core.field.route_map import RouteMap, draw_route
from debtflow.core.field.visits import (
    CONNECTED_OUTCOMES,
    VisitOutcome,
    VisitStatus,
    checkin_distance,
    mask_name,
    to_micro,
)
from debtflow.field import repository
from debtflow.models import (
    Address,
    Case,
    Collector,
    ContactDecision,
    FieldCheckin,
    FieldVisitFile,
    FieldVisitRequest,
    Role,
    User,
)
from debtflow.models.enums import CollectorKind, DebtorType
from debtflow.promise import service as promise_service

FIELD_ROLES = frozenset({Role.FIELD_AGENT, Role.PART_TIME_COLLECTOR})
FIELD_KINDS = frozenset({CollectorKind.FIELD_AGENT, CollectorKind.PART_TIME})
MAX_REASON = 2000
MAX_NOTE = 2000
MAX_ACCURACY_M = 100_000
# the debtor's available time of day, as the nightly route step plans it
WINDOWS = {DebtorType.BUSINESS: (time(9), time(17)), DebtorType.PERSON: (time(10), time(20))}


class InvalidVisitRequest(InvalidInput):
    code = "invalid_visit_request"


class DuplicateVisitRequest(Conflict):
    code = "duplicate_visit_request"


class CaseClosed(Conflict):
    code = "case_closed"


class NotAFieldCollector(Forbidden):
    code = "not_field_collector"


class RouteNotFound(NotFound):
    code = "route_not_found"


class InvalidCheckin(InvalidInput):
    code = "invalid_checkin"


class CheckinRequired(Conflict):
    code = "checkin_required"


class VisitStillOpen(Conflict):
    code = "visit_still_open"


class OutcomeAlreadyRecorded(Conflict):
    code = "outcome_already_recorded"


class InvalidOutcome(InvalidInput):
    code = "invalid_outcome"


class FileTooLarge(DomainError):
    status_code = 413
    code = "file_too_large"


class UnsupportedMedia(DomainError):
    status_code = 415
    code = "unsupported_media_type"


def _aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{what} must carry a time zone")


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().default_timezone)


def business_day(moment: datetime) -> date:
    """The business-time-zone date of an aware moment."""
    return moment.astimezone(_zone()).date()


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), _zone())
    return start, start + timedelta(days=1)


# ------------------------------------------------------------------ visit requests


def request_visit(
    session: Session, *, case_id: int, user: User, reason: str, now: datetime
) -> FieldVisitRequest:
    """Ask for a field visit on a case. The user must be allowed to contact debtors and
    reach the case (404 otherwise); the reason must say why; a case has at most one open
    (requested or scheduled) request (409). The nightly route step schedules it."""
    require(user, Permission.CONTACT_DEBTORS)
    _aware(now, "the request time")
    text = reason.strip()
    if not text:
        raise InvalidVisitRequest("say why the debtor should be visited")
    if len(text) > MAX_REASON:
        raise InvalidVisitRequest(f"the reason is longer than {MAX_REASON} characters")
    # the case row is locked, so two requests for one case are decided one after the other
    case = case_service.get_for_user(session, case_id=case_id, user=user, for_update=True)
    if case.status in FINAL_STATUSES:
        raise CaseClosed(f"case {case_id} is {case.status.value}; no visit can be requested")
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


# ------------------------------------------------------------------ route sheet


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


def route_collector(session: Session, *, user: User, collector_id: int | None) -> Collector:
    """Whose route ``user`` may read: a field collector their own (another's is 404), an
    admin, manager or auditor anyone's (``collector_id`` required); others 403."""
    require(user, Permission.VIEW_CASES)
    if user.role in FIELD_ROLES:
        if user.collector_id is None or collector_id not in (None, user.collector_id):
            raise RouteNotFound(f"no route of collector {collector_id}")
        wanted = user.collector_id
    elif user.role in ALL_CASES_ROLES:
        if collector_id is None:
            raise InvalidInput("say whose route to show (collector_id)")
        wanted = collector_id
    else:
        raise NotAFieldCollector(f"a {user.role.value} has no field route")
    collector = repository.collector(session, collector_id=wanted)
    if collector is None or collector.kind not in FIELD_KINDS:
        raise RouteNotFound(f"no route of collector {wanted}")
    return collector


def field_collectors(session: Session, *, user: User) -> Sequence[Collector]:
    """The field collectors whose routes ``user`` may read."""
    require(user, Permission.VIEW_CASES)
    if user.role in ALL_CASES_ROLES:
        return repository.field_collectors(session)
    if user.role in FIELD_ROLES and user.collector_id is not None:
        own = repository.collector(session, collector_id=user.collector_id)
        return [own] if own is not None and own.kind in FIELD_KINDS else []
    return []


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
    since, until = _day_bounds(day)
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


# ------------------------------------------------------------------ on site


def _field_stop(
    session: Session, *, user: User, case_id: int, day: date, for_update: bool = False
) -> tuple[Collector, Case]:
    """The field collector making a visit on ``case_id``, and the case (row-locked with
    ``for_update``); it must be on their route of ``day`` or assigned to them (else 404, as
    for a missing case)."""
    require(user, Permission.CONTACT_DEBTORS)
    if user.role not in FIELD_ROLES or user.collector_id is None:
        raise NotAFieldCollector("only field agents and part-time collectors record visits")
    collector = repository.collector(session, collector_id=user.collector_id)
    if collector is None:
        raise NotAFieldCollector("the user is not linked to a collector")
    case = case_service.get(session, case_id=case_id, for_update=for_update)
    if case.assigned_collector_id == collector.id:
        return collector, case
    route = repository.route_of(session, collector_id=collector.id, day=day)
    on_route = route is not None and any(
        int(s["case_id"]) == case_id for s in (*route.stops, *route.unvisitable)
    )
    if not on_route:
        raise CaseNotFound(f"case {case_id} does not exist")
    return collector, case


@dataclass(frozen=True)
class CheckinResult:
    """The gate's decision and, when it allowed the visit, the check-in."""

    decision: ContactDecision
    checkin: FieldCheckin | None


def check_in(
    session: Session,
    *,
    user: User,
    case_id: int,
    latitude: float,
    longitude: float,
    accuracy_m: int,
    now: datetime,
    far_metres: int | None = None,
) -> CheckinResult:
    """Check in at a stop with the browser's position. The compliance gate is asked about
    the visit first; when it denies, nothing but its decision is stored and the result
    carries no check-in. Otherwise the position (micro-degrees), accuracy, distance to the
    debtor's address and the ``far`` flag (beyond ``far_metres``, default the setting
    ``field_far_metres`` or 500 m) are stored and appended to the evidence log."""
    _aware(now, "the check-in time")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidCheckin(f"({latitude}, {longitude}) is not a position")
    if not 0 <= accuracy_m <= MAX_ACCURACY_M:
        raise InvalidCheckin(f"accuracy must be 0–{MAX_ACCURACY_M} metres")
    threshold = far_metres if far_metres is not None else _far_setting()
    if threshold < 0:
        raise InvalidCheckin("the far threshold cannot be negative")
    day = business_day(now)
    require(user, Permission.CONTACT_DEBTORS)
    # the case row is locked first, until commit: a double-tapped check-in waits here and
    # then finds the first one's open visit, so one visit makes one gate decision
    case_service.get(session, case_id=case_id, for_update=True)
    collector, case = _field_stop(session, user=user, case_id=case_id, day=day)
    if case.status in FINAL_STATUSES:
        raise CaseClosed(f"case {case_id} is {case.status.value}; it is not visited")
    since, _ = _day_bounds(day)
    open_visit = repository.latest_checkin(
        session, case_id=case_id, collector_id=collector.id, since=since
    )
    if open_visit is not None and open_visit.outcome is None:
        raise VisitStillOpen(
            f"checked in at case {case_id} at {open_visit.checked_in_at.isoformat()} "
            "without an outcome yet; record that visit's outcome first"
        )
    decision = contact_service.request_contact(
        session,
        case_id=case_id,
        channel="visit",
        planned_at=now,
        collecting_party=collecting_party(collector),
        requested_by=user.username,
        collector_id=collector.id,
        now=now,
    )
    if not decision.allowed:
        return CheckinResult(decision=decision, checkin=None)
    address = repository.addresses_of(session, [case.debtor_id]).get(case.debtor_id)
    target = (
        GeoPoint(address.latitude, address.longitude)
        if address is not None and address.latitude is not None and address.longitude is not None
        else None
    )
    distance = checkin_distance(
        latitude=latitude, longitude=longitude, address=target, far_metres=threshold
    )
    request = repository.open_request_of_case(session, case_id=case_id)
    lat_micro, lon_micro = to_micro(latitude), to_micro(longitude)
    leaf = evidence.append(
        session,
        kind=LeafKind.FIELD_CHECKIN,
        case_id=case_id,
        occurred_at=now,
        payload={
            "act": "check_in",
            "accuracy_m": accuracy_m,
            "collector_id": collector.id,
            "decision_id": decision.id,
            "distance_m": distance.metres,
            "far": distance.far,
            "far_threshold_m": threshold,
            "latitude_micro": lat_micro,
            "longitude_micro": lon_micro,
            "request_id": request.id if request is not None else None,
            "user": user.username,
        },
    )
    checkin = FieldCheckin(
        case_id=case_id,
        collector_id=collector.id,
        user_id=user.id,
        decision_id=decision.id,
        request_id=request.id if request is not None else None,
        checked_in_at=now,
        latitude_micro=lat_micro,
        longitude_micro=lon_micro,
        accuracy_m=accuracy_m,
        distance_m=distance.metres,
        far=distance.far,
        evidence_index=leaf.index,
    )
    repository.add(session, checkin)
    session.flush()
    return CheckinResult(decision=decision, checkin=checkin)


def _far_setting() -> int:
    return get_settings().field_far_metres


def _todays_checkin(
    session: Session, *, collector: Collector, case_id: int, now: datetime
) -> FieldCheckin:
    since, _ = _day_bounds(business_day(now))
    checkin = repository.latest_checkin(
        session, case_id=case_id, collector_id=collector.id, since=since, for_update=True
    )
    if checkin is None:
        raise CheckinRequired(f"check in at case {case_id}'s address first")
    return checkin


def record_outcome(
    session: Session,
    *,
    user: User,
    case_id: int,
    outcome: str,
    now: datetime,
    note: str | None = None,
    promise_amount_fen: int | None = None,
    promise_due: date | None = None,
) -> FieldCheckin:
    """Record what happened on the visit checked in today at ``case_id``: refused (409)
    without a check-in or when the outcome is already recorded. The visit is logged as a
    contact attempt against the check-in's gate decision (re-checked by the gate), a
    ``promise`` outcome records the promise through the promise service, and an open visit
    request of the case is closed as visited."""
    _aware(now, "the outcome time")
    try:
        result = VisitOutcome(outcome)
    except ValueError:
        choices = ", ".join(o.value for o in VisitOutcome)
        raise InvalidOutcome(f"{outcome!r} is not a visit outcome ({choices})") from None
    text = (note or "").strip() or None
    if text is not None and len(text) > MAX_NOTE:
        raise InvalidOutcome(f"the note is longer than {MAX_NOTE} characters")
    if result == VisitOutcome.PROMISE:
        if promise_amount_fen is None or promise_due is None:
            raise InvalidOutcome("a promise needs an amount and a due date")
    elif promise_amount_fen is not None or promise_due is not None:
        raise InvalidOutcome("only a 'promise' outcome carries a promised amount and date")
    collector, _case = _field_stop(session, user=user, case_id=case_id, day=business_day(now))
    checkin = _todays_checkin(session, collector=collector, case_id=case_id, now=now)
    if checkin.outcome is not None:
        raise OutcomeAlreadyRecorded(
            f"the visit checked in at {checkin.checked_in_at.isoformat()} already has an "
            f"outcome ({checkin.outcome.value}); check in again for a new visit"
        )
    attempt = contact_service.log_contact(
        session,
        decision_id=checkin.decision_id,
        attempted_at=checkin.checked_in_at,
        connected=result in CONNECTED_OUTCOMES,
        conversation=result in CONNECTED_OUTCOMES,
        outcome=result.value,
        note=text,
        now=now,
    )
    promise_id = None
    if result == VisitOutcome.PROMISE:
        assert promise_amount_fen is not None and promise_due is not None
        promise = promise_service.record(
            session,
            case_id=case_id,
            amount_fen=promise_amount_fen,
            due=promise_due,
            made_on=business_day(now),
            collector_id=collector.id,
            actor=user.username,
        )
        promise_id = promise.id
    checkin.outcome = result
    checkin.note = text
    checkin.outcome_at = now
    checkin.attempt_id = attempt.id
    checkin.promise_id = promise_id
    request = repository.open_request_of_case(session, case_id=case_id)
    if request is not None:
        request.status = VisitStatus.VISITED
        request.closed_at = now
    session.flush()
    return checkin


def upload_file(
    session: Session,
    *,
    user: User,
    case_id: int,
    content: bytes,
    media_type: str,
    now: datetime,
) -> FieldVisitFile:
    """Attach a photo or recording to today's check-in at ``case_id`` (409 without one):
    at most 20 MB (413), a photo or audio type whose bytes match it (415). The file is
    stored by SHA-256 in the evidence file store and its digest goes into an evidence
    leaf of kind ``field_checkin``."""
    _aware(now, "the upload time")
    collector, _case = _field_stop(session, user=user, case_id=case_id, day=business_day(now))
    checkin = _todays_checkin(session, collector=collector, case_id=case_id, now=now)
    try:
        accepted = check_upload(content, media_type)
    except MediaRejected as exc:
        if exc.too_large:
            raise FileTooLarge(str(exc)) from None
        raise UnsupportedMedia(str(exc)) from None
    leaf = evidence.append(
        session,
        kind=LeafKind.FIELD_CHECKIN,
        case_id=case_id,
        occurred_at=now,
        payload={
            "act": "visit_file",
            "checkin_id": checkin.id,
            "collector_id": collector.id,
            "media_type": accepted.media_type,
            "size": accepted.size,
            "user": user.username,
        },
        files=[evidence.AttachedFile(content, accepted.media_type)],
    )
    row = FieldVisitFile(
        checkin_id=checkin.id,
        sha256=leaf.file_sha256[0],
        media_type=accepted.media_type,
        size=accepted.size,
        evidence_index=leaf.index,
        uploaded_at=now,
    )
    repository.add(session, row)
    session.flush()
    return row


def denial(decision: ContactDecision) -> dict[str, Any]:
    """What a refused visit answers: the gate's reasons and when contact is next allowed."""
    return {
        "error": "visit_not_permitted",
        "detail": f"the compliance gate denied this visit ({', '.join(decision.reasons)})",
        "reasons": list(decision.reasons),
        "decision_id": decision.id,
        "next_allowed_at": (
            decision.next_allowed_at.isoformat() if decision.next_allowed_at is not None else None
        ),
    }
