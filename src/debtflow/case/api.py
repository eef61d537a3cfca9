"""JSON routes for cases: dependencies in, one service call, response out. Every route
needs a signed-in user; what each one reaches is decided in the services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from debtflow.auth.deps import CurrentUser
from debtflow.auth.scoping import Permission, require
from debtflow.case import service
from debtflow.case.schemas import (
    CaseDetail,
    CasePage,
    CaseRead,
    DisputeRead,
    LegalRequestRead,
    PromiseCreate,
    PromiseRead,
    SignedPlanRead,
)
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.portal import service as portal_service
from debtflow.promise import service as promise_service
from debtflow.web.deps import DbSession, business_today
from debtflow.web.routing import RequestRoute

router = APIRouter(prefix="/api/cases", tags=["cases"], route_class=RequestRoute)

_DENIED: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    403: {"description": "role not allowed"},
}


def to_read(row: tuple) -> CaseRead:  # type: ignore[type-arg]
    case, debtor, creditor, collector = row
    return CaseRead(
        id=case.id,
        creditor_code=creditor.code,
        debtor_name=debtor.name,
        status=case.status,
        bucket=case.bucket,
        days_past_due=case.days_past_due,
        outstanding_fen=case.outstanding_fen,
        channel=case.channel.value,
        overdue_cause=case.overdue_cause.value,
        assigned_collector=collector.name if collector is not None else None,
        aged_on=case.aged_on,
    )


@router.get("", response_model=CasePage, responses=_DENIED)
def list_cases(
    session: DbSession,
    user: CurrentUser,
    bucket: str | None = Query(None, max_length=8),
    status: CaseStatus | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=10**9),
) -> CasePage:
    """The cases the caller may see, highest priority first."""
    listing = service.list_for_user(
        session, user=user, bucket=bucket, status=status, limit=limit, offset=offset
    )
    return CasePage(
        items=[to_read(r) for r in listing.rows], total=listing.total, limit=limit, offset=offset
    )


@router.get("/{case_id}", response_model=CaseDetail, responses={**_DENIED, 404: {}})
def get_case(case_id: int, session: DbSession, user: CurrentUser) -> CaseDetail:
    """One case, with the plan the debtor signed in the portal, the disputes holding it and
    the open legal-advice requests (as the case page shows them); 404 when it does not
    exist or is out of the caller's reach."""
    row = service.get_row_for_user(session, case_id=case_id, user=user)
    arrangements = portal_service.arrangements_of_case(session, case_id=case_id, user=user)
    plan = arrangements.plan
    return CaseDetail(
        **to_read(row).model_dump(),
        signed_plan=None if plan is None else SignedPlanRead.model_validate(plan.__dict__),
        disputes=[DisputeRead.model_validate(d.__dict__) for d in arrangements.disputes],
        legal_requests=[
            LegalRequestRead.model_validate(r.__dict__) for r in arrangements.legal_requests
        ],
    )


@router.post(
    "/{case_id}/promises",
    response_model=PromiseRead,
    status_code=201,
    responses={**_DENIED, 404: {}, 409: {}, 422: {}},
)
def create_promise(
    case_id: int, body: PromiseCreate, session: DbSession, user: CurrentUser
) -> PromiseRead:
    """Record the debtor's promise to pay ``amount_fen`` by ``due``."""
    require(user, Permission.RECORD_PROMISE)
    case = service.get_for_user(session, case_id=case_id, user=user)
    promise = promise_service.record(
        session,
        case_id=case.id,
        amount_fen=body.amount_fen,
        due=body.due,
        made_on=business_today(),
        collector_id=user.collector_id,
        actor=user.username,
    )
    return PromiseRead(
        id=promise.id,
        case_id=promise.case_id,
        amount_fen=promise.amount_fen,
        made_on=promise.made_on,
        due=promise.due,
        status=promise.status.value,
    )
