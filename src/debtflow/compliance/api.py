"""JSON routes for compliance: supervisor overrides, contact restrictions, personal data
shown by role (and logged), and the compliance report. Who acts is the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, Query

from debtflow.auth.deps import CurrentUser
from debtflow.compliance import access
from debtflow.compliance.schemas import (
    ComplianceReportRead,
    OverrideCreate,
    OverrideRead,
    PersonalDataRead,
    RestrictionCreate,
    RestrictionRead,
)
from debtflow.web.deps import DbSession
from debtflow.web.inputs import Moment
from debtflow.web.routing import RequestRoute

router = APIRouter(prefix="/api", tags=["compliance"], route_class=RequestRoute)


@router.post(
    "/contact-decisions/{decision_id}/override", response_model=OverrideRead, status_code=201
)
def grant_override(
    decision_id: int, body: OverrideCreate, session: DbSession, user: CurrentUser
) -> OverrideRead:
    row = access.grant_override(
        session, user=user, decision_id=decision_id, written_reason=body.written_reason
    )
    return OverrideRead.model_validate(row, from_attributes=True)


@router.post("/debtors/{debtor_id}/restrictions", response_model=RestrictionRead, status_code=201)
def set_restriction(
    debtor_id: int, body: RestrictionCreate, session: DbSession, user: CurrentUser
) -> RestrictionRead:
    row = access.set_restriction(session, user=user, debtor_id=debtor_id, **body.model_dump())
    return RestrictionRead.model_validate(row, from_attributes=True)


@router.get("/cases/{case_id}/personal-data/{kind}", response_model=PersonalDataRead)
def show_personal_data(
    case_id: int,
    kind: str,
    session: DbSession,
    user: CurrentUser,
    purpose: str = Query("", max_length=200),
    contact_point_id: int | None = None,
) -> PersonalDataRead:
    shown = access.show_personal_data(
        session,
        user=user,
        case_id=case_id,
        kind=kind,
        purpose=purpose,
        contact_point_id=contact_point_id,
    )
    return PersonalDataRead(text=shown.text, level=shown.level.value, view_id=shown.view_id)


@router.get("/compliance/report", response_model=ComplianceReportRead)
def compliance_report(
    session: DbSession, user: CurrentUser, since: Moment, until: Moment
) -> ComplianceReportRead:
    result = access.compliance_report(session, user=user, since=since, until=until)
    return ComplianceReportRead.model_validate(result, from_attributes=True)
