"""HTML pages for cases — the agent's queue and the case page — calling the same services
as the JSON API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from debtflow.auth.deps import PageVisitor, check_csrf
from debtflow.auth.scoping import Permission, case_scope, permits
from debtflow.case import service
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.compliance.personal_data import (
    FieldKind,
    PersonalDataError,
    ViewerRole,
    show_field,
)
from debtflow.core.errors import DomainError
from debtflow.models import Role
from debtflow.portal import service as portal_service
from debtflow.portal.capacity import capacity_report
from debtflow.promise import service as promise_service
from debtflow.web.deps import TEMPLATES, DbSession, business_today

router = APIRouter()

PER_PAGE = 50

#: how each role is treated by the personal-data masking rules (full values are never shown
#: here, so no view needs logging)
VIEWER_ROLES = {
    Role.ADMIN: ViewerRole.SUPERVISOR,
    Role.OPERATIONS_MANAGER: ViewerRole.SUPERVISOR,
    Role.COMPLIANCE_AUDITOR: ViewerRole.COMPLIANCE_OFFICER,
    Role.ONLINE_AGENT: ViewerRole.COLLECTOR,
    Role.FIELD_AGENT: ViewerRole.COLLECTOR,
    Role.PART_TIME_COLLECTOR: ViewerRole.COLLECTOR,
    Role.PARTNER: ViewerRole.PARTNER,
    Role.DEBTOR: ViewerRole.PARTNER,
}


@router.get("/cases", response_class=HTMLResponse, include_in_schema=False)
def case_list(
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    bucket: str | None = Query(None, max_length=8),
    status: CaseStatus | None = None,
    page: int = Query(1, ge=1, le=10**6),
) -> Response:
    if not permits(visitor.user, Permission.VIEW_CASES):
        return RedirectResponse("/portal", status_code=303)
    listing = service.list_for_user(
        session,
        user=visitor.user,
        bucket=bucket or None,
        status=status,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    return TEMPLATES.TemplateResponse(
        request,
        "cases.html",
        {
            "visitor": visitor,
            "title_key": "all_queue" if case_scope(visitor.user).all_cases else "my_queue",
            "listing": listing,
            "offset": (page - 1) * PER_PAGE,
            "bucket": bucket or "",
            "status": status.value if status else "",
            "statuses": [s.value for s in CaseStatus],
            "buckets": service.bucket_names(),
            "page": page,
            "pages": max(1, -(-listing.total // PER_PAGE)),
        },
    )


def _masked_id_number(id_number: str, role: Role) -> str:
    try:
        shown = show_field(
            id_number, FieldKind.ID_NUMBER, role=VIEWER_ROLES[role], assigned_collector=False
        )
    except PersonalDataError:
        return "—"
    return shown.text or "—"


def _case_page(
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    case_id: int,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    case, debtor, creditor, collector = service.get_row_for_user(
        session, case_id=case_id, user=visitor.user
    )
    history = portal_service.case_history(session, case_id=case_id, user=visitor.user)
    capacity = capacity_report(
        monthly_income_fen=debtor.monthly_income_fen,
        monthly_spending_fen=debtor.monthly_spending_fen,
        other_debts_fen=debtor.other_debts_fen,
        dependents=debtor.dependents,
        monthly_revenue_fen=debtor.monthly_revenue_fen,
        receivables_fen=debtor.receivables_fen,
        instalments_fen=[a.instalment_fen for a in history.accounts],
        outstanding_fen=[a.outstanding_fen for a in history.accounts],
    )
    return TEMPLATES.TemplateResponse(
        request,
        "case.html",
        {
            "visitor": visitor,
            "case": case,
            "debtor": debtor,
            "id_number": _masked_id_number(debtor.id_number, visitor.user.role),
            "creditor": creditor,
            "collector": collector,
            "history": history,
            "capacity": capacity,
            "can_promise": permits(visitor.user, Permission.RECORD_PROMISE),
            "today": business_today(),
            "message": message,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse, include_in_schema=False)
def case_page(
    case_id: int, request: Request, session: DbSession, visitor: PageVisitor
) -> HTMLResponse:
    return _case_page(request, session, visitor, case_id)


@router.post("/cases/{case_id}/promises", include_in_schema=False)
def record_promise(
    case_id: int,
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    amount_yuan: Annotated[str, Form(max_length=20)],
    due: Annotated[str, Form(max_length=10)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(visitor, csrf_token)
    case = service.get_for_user(session, case_id=case_id, user=visitor.user)
    try:
        if not permits(visitor.user, Permission.RECORD_PROMISE):
            raise DomainError(f"a {visitor.user.role.value} may not record promises")
        amount_fen = _yuan_to_fen(amount_yuan)
        due_day = _day(due)
        promise_service.record(
            session,
            case_id=case.id,
            amount_fen=amount_fen,
            due=due_day,
            made_on=business_today(),
            collector_id=visitor.user.collector_id,
            actor=visitor.user.username,
        )
    except DomainError as exc:
        session.rollback()
        status = 403 if not permits(visitor.user, Permission.RECORD_PROMISE) else exc.status_code
        return _case_page(request, session, visitor, case_id, error=exc.message, status_code=status)
    return RedirectResponse(f"/cases/{case_id}?recorded=1", status_code=303)


class _BadForm(DomainError):
    status_code = 422
    code = "invalid_form"


def _yuan_to_fen(text: str) -> int:
    value = text.strip().replace(",", "").replace("，", "")
    whole, _, cents = value.partition(".")
    if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        raise _BadForm(f"{text!r} is not an amount in yuan (e.g. 1200 or 1200.50)")
    return int(whole) * 100 + int((cents + "00")[:2])


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _BadForm(f"{text!r} is not a date (YYYY-MM-DD)") from None
