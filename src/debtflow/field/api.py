"""JSON routes of the field app. Who acts is the signed-in user; services decide what
each role may do (field collectors their own stops; admins, managers and auditors read
any route; auditors change nothing)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import JSONResponse

from debtflow.auth.deps import CurrentUser
from debtflow.core.field.media import MAX_UPLOAD_BYTES
from debtflow.db import utcnow
from debtflow.field import service
from debtflow.field.schemas import (
    CheckinCreate,
    CheckinRead,
    OutcomeCreate,
    RouteRead,
    VisitFileRead,
    VisitRequestCreate,
    VisitRequestRead,
    route_read,
)
from debtflow.web.deps import DbSession, business_today
from debtflow.web.inputs import Day
from debtflow.web.routing import RequestRoute

router = APIRouter(prefix="/api/field", tags=["field"], route_class=RequestRoute)


@router.post("/requests", response_model=VisitRequestRead, status_code=201)
def request_visit(
    body: VisitRequestCreate, session: DbSession, user: CurrentUser
) -> VisitRequestRead:
    row = service.request_visit(
        session, case_id=body.case_id, user=user, reason=body.reason, now=utcnow()
    )
    return VisitRequestRead.model_validate(row)


@router.post("/requests/{request_id}/cancel", response_model=VisitRequestRead)
def cancel_request(request_id: int, session: DbSession, user: CurrentUser) -> VisitRequestRead:
    row = service.cancel_request(session, request_id=request_id, user=user, now=utcnow())
    return VisitRequestRead.model_validate(row)


@router.get("/route", response_model=RouteRead)
def route(
    session: DbSession,
    user: CurrentUser,
    day: Day | None = None,
    collector_id: Annotated[int | None, Query(ge=1)] = None,
) -> RouteRead:
    sheet = service.route_sheet(
        session, user=user, day=day or business_today(), collector_id=collector_id
    )
    return route_read(sheet)


@router.post(
    "/stops/{case_id}/checkin",
    response_model=CheckinRead,
    status_code=201,
    responses={403: {"description": "the compliance gate denied the visit (with reasons)"}},
)
def check_in(
    case_id: int, body: CheckinCreate, session: DbSession, user: CurrentUser
) -> CheckinRead | JSONResponse:
    result = service.check_in(
        session,
        user=user,
        case_id=case_id,
        latitude=body.latitude,
        longitude=body.longitude,
        accuracy_m=body.accuracy_m,
        now=utcnow(),
    )
    if result.checkin is None:  # refused: only the gate's decision is kept (committed)
        return JSONResponse(status_code=403, content=service.denial(result.decision))
    return CheckinRead.model_validate(result.checkin)


@router.post("/stops/{case_id}/outcome", response_model=CheckinRead, status_code=201)
def record_outcome(
    case_id: int, body: OutcomeCreate, session: DbSession, user: CurrentUser
) -> CheckinRead:
    checkin = service.record_outcome(
        session, user=user, case_id=case_id, now=utcnow(), **body.model_dump()
    )
    return CheckinRead.model_validate(checkin)


@router.post("/stops/{case_id}/files", response_model=VisitFileRead, status_code=201)
def upload_file(
    case_id: int, session: DbSession, user: CurrentUser, file: Annotated[UploadFile, File()]
) -> VisitFileRead:
    row = service.upload_file(
        session,
        user=user,
        case_id=case_id,
        # one byte more than allowed is enough to refuse it as too large
        content=file.file.read(MAX_UPLOAD_BYTES + 1),
        media_type=file.content_type or "",
        now=utcnow(),
    )
    return VisitFileRead.model_validate(row)
