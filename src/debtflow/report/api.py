"""JSON route of the manager dashboard."""

from __future__ import annotations

from fastapi import APIRouter, Query

from debtflow.auth.deps import CurrentUser
from debtflow.report import service
from debtflow.report.schemas import DashboardRead
from debtflow.web.deps import DbSession
from debtflow.web.inputs import Moment
from debtflow.web.routing import RequestRoute

router = APIRouter(prefix="/api/reports", tags=["reports"], route_class=RequestRoute)


@router.get("/dashboard", response_model=DashboardRead)
def dashboard(
    session: DbSession,
    user: CurrentUser,
    since: Moment | None = None,
    until: Moment | None = None,
    creditor_id: int | None = Query(None, ge=1, le=2**31 - 1),
) -> DashboardRead:
    """Recovery, promise-kept, contact-compliance, response-time, match-accuracy and roll
    rates over [since, until) (default: the last 30 days), overall and per collector,
    segment and creditor. Admin, operations manager and compliance auditor only."""
    return DashboardRead.of(
        service.dashboard(session, user=user, since=since, until=until, creditor_id=creditor_id)
    )
