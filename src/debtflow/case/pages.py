"""HTML pages for cases — the agent's queue and the case page — calling the same services
as the JSON API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from debtflow.auth.deps import PageVisitor, check_csrf
from debtflow.auth.scoping import Permission, case_scope, permits, require
from debtflow.case import service
from debtflow.compliance import service as compliance_service
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.compliance.personal_data import (
    FieldKind,
    PersonalDataError,
    ViewerRole,
    show_field,
)
from debtflow.core.errors import DomainError
from debtflow.core.money import AmountError, yuan_to_fen
from debtflow.db import utcnow
from debtflow.field import service as field_service
from debtflow.models import ContactDecision, Role
from debtflow.note import service as note_service
from debtflow.portal import service as portal_service
from debtflow.portal.capacity import capacity_report
from debtflow.promise import service as promise_service
from debtflow.web.deps import TEMPLATES, DbSession, business_today
from debtflow.web.inputs import EmptyIsAbsent
from debtflow.web.routing import RequestRoute
from debtflow.workbench import service as workbench

router = APIRouter(route_class=RequestRoute)

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
    bucket: Annotated[str | None, EmptyIsAbsent, Query(max_length=8)] = None,
    status: Annotated[CaseStatus | None, EmptyIsAbsent] = None,
    page: Annotated[int, EmptyIsAbsent, Query(ge=1, le=10**6)] = 1,
) -> Response:
    if not permits(visitor.user, Permission.VIEW_CASES):
        return RedirectResponse("/portal", status_code=303)
    queue = workbench.queue(
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
            "queue": queue,
            "offset": (page - 1) * PER_PAGE,
            "bucket": bucket or "",
            "status": status.value if status else "",
            "statuses": [s.value for s in CaseStatus],
            "buckets": service.bucket_names(),
            "page": page,
            "pages": max(1, -(-queue.total // PER_PAGE)),
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


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _gate_decision(
    session: DbSession, visitor: PageVisitor, case_id: int, decision_id: int | None
) -> ContactDecision | None:
    """The gate decision named in the query string, shown only to the user who asked for
    it and only on its own case."""
    if decision_id is None:
        return None
    try:
        decision = compliance_service.get_decision(session, decision_id=decision_id)
    except DomainError:
        return None
    if decision.case_id != case_id or decision.requested_by != visitor.user.username:
        return None
    return decision


def _visit_request(session: DbSession, case_id: int, request_id: int | None) -> int | None:
    """The visit request named in the query string, confirmed only when it exists on this
    case."""
    if request_id is None:
        return None
    row = field_service.visit_request_on_case(session, case_id=case_id, request_id=request_id)
    return None if row is None else row.id


def _case_context(
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    case_id: int,
    *,
    message: str | None = None,
    error: DomainError | None = None,
    error_for: str | None = None,
    gate: ContactDecision | None = None,
    reading: workbench.ScriptReading | None = None,
    form: dict[str, str] | None = None,
    visit_id: int | None = None,
) -> dict[str, object]:
    case, debtor, creditor, collector = service.get_row_for_user(
        session, case_id=case_id, user=visitor.user
    )
    history = portal_service.case_history(session, case_id=case_id, user=visitor.user)
    arrangements = portal_service.arrangements_of_case(session, case_id=case_id, user=visitor.user)
    in_force = arrangements.plan_in_force
    capacity = capacity_report(
        monthly_income_fen=debtor.monthly_income_fen,
        monthly_spending_fen=debtor.monthly_spending_fen,
        other_debts_fen=debtor.other_debts_fen,
        dependents=debtor.dependents,
        monthly_revenue_fen=debtor.monthly_revenue_fen,
        receivables_fen=debtor.receivables_fen,
        instalments_fen=(
            [in_force.monthly_fen]
            if in_force is not None
            else [a.instalment_fen for a in history.accounts]
        ),
        outstanding_fen=[a.outstanding_fen for a in history.accounts],
        under_plan=in_force is not None,
    )
    desk = workbench.desk(
        session,
        case=case,
        debtor=debtor,
        creditor=creditor,
        user=visitor.user,
        accounts=history.accounts,
        arrangements=arrangements,
    )
    return {
        "visitor": visitor,
        "case": case,
        "debtor": debtor,
        "id_number": _masked_id_number(debtor.id_number, visitor.user.role),
        "creditor": creditor,
        "collector": collector,
        "history": history,
        "capacity": capacity,
        "desk": desk,
        "arrangements": arrangements,
        "notes": note_service.notes_of_case(session, case_id=case_id, user=visitor.user),
        "note_max": note_service.MAX_NOTE_LENGTH,
        "channels": workbench.CHANNELS,
        "can_promise": permits(visitor.user, Permission.RECORD_PROMISE),
        "today": business_today(),
        "message": message,
        "error": error,
        "error_for": error_for,
        "gate": gate,
        "reading": reading,
        "form": form or {},
        "visit_id": visit_id,
    }


def _case_page(
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    case_id: int,
    *,
    message: str | None = None,
    error: DomainError | None = None,
    status_code: int = 200,
    **parts: Any,
) -> HTMLResponse:
    context = _case_context(
        request, session, visitor, case_id, message=message, error=error, **parts
    )
    return TEMPLATES.TemplateResponse(request, "case.html", context, status_code=status_code)


def _part(
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    case_id: int,
    template: str,
    *,
    status_code: int = 200,
    **parts: Any,
) -> HTMLResponse:
    """One workbench section: the htmx answer to a form, or the whole page around it for a
    browser without JavaScript."""
    if not _is_htmx(request):
        return _case_page(request, session, visitor, case_id, status_code=status_code, **parts)
    context = _case_context(request, session, visitor, case_id, **parts)
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)


@router.get("/cases/{case_id}", response_class=HTMLResponse, include_in_schema=False)
def case_page(
    case_id: int,
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    gate: Annotated[int | None, EmptyIsAbsent, Query(ge=1, le=2**62)] = None,
    visit: Annotated[int | None, EmptyIsAbsent, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    return _case_page(
        request,
        session,
        visitor,
        case_id,
        gate=_gate_decision(session, visitor, case_id, gate),
        visit_id=_visit_request(session, case_id, visit),
    )


def _checked(value: str) -> bool:
    return value.strip().lower() in ("1", "on", "true", "yes")


@router.post("/cases/{case_id}/contacts", include_in_schema=False)
def log_contact(
    case_id: int,
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    channel: Annotated[str, Form(max_length=20)],
    party: Annotated[str, Form(max_length=20)] = "debtor",
    connected: Annotated[str, Form(max_length=5)] = "",
    conversation: Annotated[str, Form(max_length=5)] = "",
    debtor_unreachable: Annotated[str, Form(max_length=5)] = "",
    outcome: Annotated[str, Form(max_length=100)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Ask the compliance gate about a contact made now; log it when allowed. Either way
    the decision is shown: a deny with its reasons and next allowed time."""
    check_csrf(visitor, csrf_token)
    case = service.get_for_user(session, case_id=case_id, user=visitor.user)
    form = {"channel": channel, "party": party, "outcome": outcome, "note": note}
    try:
        if party != "debtor" and not (party.isascii() and party.isdigit()):
            raise _BadForm(f"{party!r} is neither the debtor nor a contact point")
        result = workbench.log_contact_now(
            session,
            user=visitor.user,
            case_id=case.id,
            channel=channel,
            contact_point_id=None if party == "debtor" else int(party),
            connected=_checked(connected),
            conversation=_checked(conversation),
            outcome=outcome.strip() or None,
            note=note.strip() or None,
            debtor_unreachable=_checked(debtor_unreachable),
        )
    except DomainError as exc:
        session.rollback()
        return _part(
            request,
            session,
            visitor,
            case_id,
            "workbench_contacts.html",
            status_code=exc.status_code,
            error=exc,
            error_for="contact",
            form=form,
        )
    if not _is_htmx(request):
        return RedirectResponse(
            f"/cases/{case_id}?gate={result.decision.id}#contacts", status_code=303
        )
    return _part(
        request, session, visitor, case_id, "workbench_contacts.html", gate=result.decision
    )


@router.post("/cases/{case_id}/notes", include_in_schema=False)
def add_note(
    case_id: int,
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    body: Annotated[str, Form(max_length=note_service.MAX_NOTE_LENGTH + 200)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Add a note to the case (append-only)."""
    check_csrf(visitor, csrf_token)
    case = service.get_for_user(session, case_id=case_id, user=visitor.user)
    try:
        note_service.add_note(session, case_id=case.id, user=visitor.user, body=body)
    except DomainError as exc:
        session.rollback()
        return _part(
            request,
            session,
            visitor,
            case_id,
            "workbench_notes.html",
            status_code=exc.status_code,
            error=exc,
            error_for="note",
            form={"body": body},
        )
    if not _is_htmx(request):
        return RedirectResponse(f"/cases/{case_id}?noted=1#notes", status_code=303)
    return _part(request, session, visitor, case_id, "workbench_notes.html", message="note_added")


@router.post("/cases/{case_id}/field-visits", include_in_schema=False)
def request_field_visit(
    case_id: int,
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    reason: Annotated[str, Form(max_length=4000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Ask for a field visit on the case (the nightly route step schedules it)."""
    check_csrf(visitor, csrf_token)
    case = service.get_for_user(session, case_id=case_id, user=visitor.user)
    try:
        visit = field_service.request_visit(
            session, case_id=case.id, user=visitor.user, reason=reason, now=utcnow()
        )
    except DomainError as exc:
        session.rollback()
        return _part(
            request,
            session,
            visitor,
            case_id,
            "workbench_visit.html",
            status_code=exc.status_code,
            error=exc,
            error_for="visit",
            form={"reason": reason},
        )
    if not _is_htmx(request):
        return RedirectResponse(f"/cases/{case_id}?visit={visit.id}#field-visit", status_code=303)
    return _part(request, session, visitor, case_id, "workbench_visit.html", visit_id=visit.id)


@router.post("/cases/{case_id}/script", include_in_schema=False)
def next_script(
    case_id: int,
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    said: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The next script for what the debtor just said (reads and stores nothing)."""
    check_csrf(visitor, csrf_token)
    case = service.get_for_user(session, case_id=case_id, user=visitor.user)
    try:
        reading = workbench.script_for_reply(session, case_id=case.id, user=visitor.user, said=said)
    except DomainError as exc:
        return _part(
            request,
            session,
            visitor,
            case_id,
            "workbench_script.html",
            status_code=exc.status_code,
            error=exc,
            error_for="script",
            form={"said": said},
        )
    return _part(
        request,
        session,
        visitor,
        case_id,
        "workbench_script.html",
        reading=reading,
        form={"said": said},
    )


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
        require(visitor.user, Permission.RECORD_PROMISE)
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
        return _case_page(
            request, session, visitor, case_id, error=exc, status_code=exc.status_code
        )
    return RedirectResponse(f"/cases/{case_id}?recorded=1", status_code=303)


class _BadForm(DomainError):
    status_code = 422
    code = "invalid_form"


def _yuan_to_fen(text: str) -> int:
    try:
        fen = yuan_to_fen(text)
    except AmountError:
        fen = -1
    if fen < 0:
        raise _BadForm(f"{text!r} is not an amount in yuan (e.g. 1200 or 1200.50)")
    return fen


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _BadForm(f"{text!r} is not a date (YYYY-MM-DD)") from None
