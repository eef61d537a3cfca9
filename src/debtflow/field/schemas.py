"""Input and output of the field-app JSON API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from debtflow.web.inputs import Day


class VisitRequestCreate(BaseModel):
    case_id: int
    reason: str = Field(max_length=2000)


class VisitRequestRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    requested_by_id: int
    reason: str
    status: str
    scheduled_collector_id: int | None
    scheduled_day: date | None
    created_at: datetime
    closed_at: datetime | None


class CheckinCreate(BaseModel):
    """The browser's position (``navigator.geolocation``): degrees and metres."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    accuracy_m: int = Field(ge=0, le=100_000)


class CheckinRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    collector_id: int
    decision_id: int
    request_id: int | None
    checked_in_at: datetime
    latitude_micro: int
    longitude_micro: int
    accuracy_m: int
    distance_m: int | None
    far: bool
    evidence_index: int
    outcome: str | None
    note: str | None
    outcome_at: datetime | None
    attempt_id: int | None
    promise_id: int | None


class OutcomeCreate(BaseModel):
    outcome: str = Field(max_length=24)
    note: str | None = Field(default=None, max_length=2000)
    promise_amount_fen: int | None = Field(default=None, gt=0, le=10**13)
    promise_due: Day | None = None


class VisitFileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    checkin_id: int
    sha256: str
    media_type: str
    size: int
    evidence_index: int
    uploaded_at: datetime


class StopRead(BaseModel):
    order: int
    case_id: int
    debtor_name: str
    address: str
    latitude: float | None
    longitude: float | None
    window_from: datetime
    window_until: datetime
    arrive: datetime
    start: datetime
    end: datetime
    balance_fen: int
    requested: bool
    checkin: CheckinRead | None
    files: int


class MapPointRead(BaseModel):
    x: float
    y: float
    label: str


class RouteMapRead(BaseModel):
    width: int
    height: int
    points: list[MapPointRead]
    polyline: str
    scale_metres: int | None


class RouteRead(BaseModel):
    collector_id: int
    collector_code: str
    day: date
    planned: bool
    leave_at: datetime | None
    back_at: datetime | None
    travel_seconds: int
    stops: list[StopRead]
    unvisitable: list[dict[str, Any]]
    map: RouteMapRead | None


def route_read(sheet: Any) -> RouteRead:
    """The JSON form of a :class:`debtflow.field.route_sheet.RouteSheet`."""
    drawn = sheet.map
    return RouteRead(
        collector_id=sheet.collector.id,
        collector_code=sheet.collector.code,
        day=sheet.day,
        planned=sheet.planned,
        leave_at=sheet.leave_at,
        back_at=sheet.back_at,
        travel_seconds=sheet.travel_seconds,
        stops=[
            StopRead(
                order=s.order,
                case_id=s.case_id,
                debtor_name=s.debtor_name,
                address=s.address,
                latitude=s.location.latitude if s.location is not None else None,
                longitude=s.location.longitude if s.location is not None else None,
                window_from=s.window_from,
                window_until=s.window_until,
                arrive=s.arrive,
                start=s.start,
                end=s.end,
                balance_fen=s.balance_fen,
                requested=s.requested,
                checkin=CheckinRead.model_validate(s.checkin) if s.checkin is not None else None,
                files=s.files,
            )
            for s in sheet.stops
        ],
        unvisitable=list(sheet.unvisitable),
        map=None
        if drawn is None
        else RouteMapRead(
            width=drawn.width,
            height=drawn.height,
            points=[MapPointRead(x=p.x, y=p.y, label=p.label) for p in drawn.points],
            polyline=drawn.polyline,
            scale_metres=drawn.scale.metres if drawn.scale is not None else None,
        ),
    )
