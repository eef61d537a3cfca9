"""On site: checking in at a stop, recording the visit's outcome, and what a refused visit answers.

Every visit passes the compliance gate (channel ``visit``) at check-in; a denied visit is
refused with the gate's reasons and nothing of it is recorded but the gate's own decision.
An allowed check-in stores the position, accuracy and distance to the debtor's address in the
evidence log. The outcome is logged as a contact attempt against the check-in's gate decision,
a promise goes through the promise service, and an open visit request of the case is closed as
visited. Only the field collector whose stop it is may act (``access.field_stop``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from debtflow import evidence
from debtflow.auth.scoping import Permission, require
from debtflow.case import service as case_service
from debtflow.config import get_settings
from debtflow.contact import service as contact_service
from debtflow.contact.access import collecting_party
from debtflow.core.case.lifecycle import FINAL_STATUSES
from debtflow.core.dispatch.geo import GeoPoint
from debtflow.core.evidence.leaf import LeafKind
from debtflow.core.field.visits import (
    CONNECTED_OUTCOMES,
    VisitOutcome,
    VisitStatus,
    checkin_distance,
    to_micro,
)
from debtflow.field import repository
from debtflow.field.access import field_stop
from debtflow.field.business_days import business_day, day_bounds, require_aware
from debtflow.field.errors import (
    CaseClosed,
    CheckinRequired,
    InvalidCheckin,
    InvalidOutcome,
    OutcomeAlreadyRecorded,
    VisitStillOpen,
)
from debtflow.models import Collector, ContactDecision, FieldCheckin, User
from debtflow.promise import service as promise_service

MAX_NOTE = 2000
MAX_ACCURACY_M = 100_000


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
    require_aware(now, "the check-in time")
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
    collector, case = field_stop(session, user=user, case_id=case_id, day=day)
    if case.status in FINAL_STATUSES:
        raise CaseClosed(f"case {case_id} is {case.status.value}; it is not visited")
    since, _ = day_bounds(day)
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


def todays_checkin(
    session: Session, *, collector: Collector, case_id: int, now: datetime
) -> FieldCheckin:
    since, _ = day_bounds(business_day(now))
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
    require_aware(now, "the outcome time")
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
    collector, _case = field_stop(session, user=user, case_id=case_id, day=business_day(now))
    checkin = todays_checkin(session, collector=collector, case_id=case_id, now=now)
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
            now=now,
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
