"""The call-alerts page: compliance auditors, supervisors and managers see the alerts raised
on collectors' words during calls and acknowledge them — the same services as
GET /api/conversations/alerts and POST /api/conversations/alerts/{id}/acknowledge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from debtflow.auth.deps import PageVisitor, check_csrf
from debtflow.conversation import alerts
from debtflow.web.deps import TEMPLATES, DbSession
from debtflow.web.inputs import EmptyIsAbsent
from debtflow.web.routing import RequestRoute

router = APIRouter(route_class=RequestRoute)

#: the page lists the newest alerts that match; the count says how many match in all
PAGE_SIZE = 200


@router.get("/call-alerts", response_class=HTMLResponse, include_in_schema=False)
def call_alerts_page(
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    status: Annotated[Literal["open", "all"], EmptyIsAbsent] = "open",
    severity: Annotated[Literal["low", "medium", "high", "critical"] | None, EmptyIsAbsent] = None,
    case_id: Annotated[int | None, EmptyIsAbsent, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    found = alerts.list_alerts(
        session,
        user=visitor.user,
        open_only=status == "open",
        case_id=case_id,
        least_severity=severity,
        limit=PAGE_SIZE,
    )
    return TEMPLATES.TemplateResponse(
        request,
        "call_alerts.html",
        {
            "visitor": visitor,
            "alerts": found.alerts,
            "total": found.total,
            "case_id": case_id,
            "status": status,
            "severity": severity,
            "severities": alerts.SEVERITY_ORDER,
        },
    )


@router.post("/call-alerts/{alert_id}/acknowledge", include_in_schema=False)
def acknowledge_alert(
    alert_id: int,
    session: DbSession,
    visitor: PageVisitor,
    note: Annotated[str, Form(max_length=alerts.MAX_ACKNOWLEDGEMENT)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    check_csrf(visitor, csrf_token)
    alerts.acknowledge(
        session, user=visitor.user, alert_id=alert_id, note=note, now=datetime.now(UTC)
    )
    return RedirectResponse(f"/call-alerts?acknowledged={alert_id}", status_code=303)
