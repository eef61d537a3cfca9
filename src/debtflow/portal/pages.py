"""The debtor portal's pages (phone-sized): debts, a case with its plan offers, the
agreement to sign and its printable copy, paying, disputes, legal advice, contact
preferences; the simulated payment provider's pay page; the managers' list of
legal-advice requests, where they record that one was handled."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from debtflow.auth.deps import PageVisitor, Visitor, check_csrf
from debtflow.auth.scoping import Permission, permits
from debtflow.config import get_settings
from debtflow.core.errors import DomainError, NotFound
from debtflow.payment.provider import SIMULATED, SimulatedProvider, configured_provider
from debtflow.portal import errors, payments, plans, service
from debtflow.portal import requests as debtor_requests
from debtflow.portal.api import read_upload
from debtflow.web.deps import TEMPLATES, DbSession
from debtflow.web.inputs import NOTE_MAX, EmptyIsAbsent
from debtflow.web.routing import RequestRoute

router = APIRouter(include_in_schema=False, route_class=RequestRoute)


@router.get("/portal", response_class=HTMLResponse)
def portal(request: Request, session: DbSession, visitor: PageVisitor) -> Response:
    if not permits(visitor.user, Permission.VIEW_OWN_DEBTS):
        return RedirectResponse("/cases", status_code=303)
    debts = service.debts_of(session, user=visitor.user)
    return TEMPLATES.TemplateResponse(
        request,
        "portal.html",
        {
            "visitor": visitor,
            "debts": debts,
            "total_fen": service.total_outstanding_fen(debts),
        },
    )


def _case_page(
    request: Request,
    session: Any,
    visitor: Visitor,
    case_id: int,
    *,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    """The case page; ``error`` is shown in the visitor's language where the catalog says
    it (``error.<code>``), with the service's own words beneath for the details."""
    view = service.portal_case(session, case_id=case_id, user=visitor.user)
    return TEMPLATES.TemplateResponse(
        request,
        "portal_case.html",
        {
            "visitor": visitor,
            "view": view,
            "error": error,
            "notice": next(
                (
                    k
                    for k in ("chosen", "signed", "paid", "disputed", "advice")
                    if k in request.query_params
                ),
                None,
            ),
            "payment_key": uuid.uuid4().hex,
            "max_upload_mb": service.MAX_UPLOAD_BYTES // (1024 * 1024),
            "advice_channels": service.ADVICE_CHANNELS,
        },
        status_code=status_code,
    )


@router.get("/portal/cases/{case_id}", response_class=HTMLResponse)
def portal_case(
    request: Request, case_id: int, session: DbSession, visitor: PageVisitor
) -> Response:
    return _case_page(request, session, visitor, case_id)


def _after(
    request: Request,
    session: Any,
    visitor: Visitor,
    case_id: int,
    act: Callable[[], Any],
    then: Callable[[Any], str],
) -> Response:
    """Run ``act`` and redirect to ``then(result)``; on a domain error show the case page
    again with the message (``act``'s writes are rolled back with its savepoint). 403 and
    404 are not shown on the page: they answer as everywhere else."""
    try:
        with session.begin_nested():
            result = act()
    except DomainError as error:
        if error.status_code in (403, 404):
            raise
        return _case_page(
            request, session, visitor, case_id, error=error, status_code=error.status_code
        )
    return RedirectResponse(then(result), status_code=303)


@router.post("/portal/cases/{case_id}/plan")
def choose_plan(
    request: Request,
    case_id: int,
    session: DbSession,
    visitor: PageVisitor,
    term_months: Annotated[int, Form(ge=1, le=360)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(visitor, csrf_token)
    return _after(
        request,
        session,
        visitor,
        case_id,
        lambda: plans.choose_plan(
            session, case_id=case_id, user=visitor.user, term_months=term_months
        ),
        lambda _plan: f"/portal/cases/{case_id}?chosen=1#agreement",
    )


@router.post("/portal/cases/{case_id}/agreement/sign")
def sign_agreement(
    request: Request,
    case_id: int,
    session: DbSession,
    visitor: PageVisitor,
    signer_name: Annotated[str, Form(max_length=200)] = "",
    read_confirmed: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(visitor, csrf_token)
    return _after(
        request,
        session,
        visitor,
        case_id,
        lambda: plans.sign_agreement(
            session,
            case_id=case_id,
            user=visitor.user,
            signer_name=signer_name,
            read_confirmed=read_confirmed == "yes",
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
        ),
        lambda _row: f"/portal/cases/{case_id}?signed=1",
    )


@router.get("/portal/cases/{case_id}/agreement/print", response_class=HTMLResponse)
def print_agreement(
    request: Request, case_id: int, session: DbSession, visitor: PageVisitor
) -> Response:
    current = plans.plan_of(session, case_id=case_id, user=visitor.user)
    if current is None:
        raise errors.NoPlanChosen(f"no plan chosen for case {case_id}")
    return TEMPLATES.TemplateResponse(
        request, "agreement_print.html", {"visitor": visitor, "current": current}
    )


@router.post("/portal/cases/{case_id}/pay")
def pay(
    request: Request,
    case_id: int,
    session: DbSession,
    visitor: PageVisitor,
    payment_key: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Start paying the next amount due; the page's one-off key makes a double submit
    land on the same payment."""
    check_csrf(visitor, csrf_token)
    return _after(
        request,
        session,
        visitor,
        case_id,
        lambda: payments.start_payment(
            session,
            case_id=case_id,
            user=visitor.user,
            idempotency_key=payment_key,
            provider=configured_provider(),
        ),
        lambda intent: intent.redirect_url,
    )


@router.post("/portal/cases/{case_id}/dispute")
def dispute(
    request: Request,
    case_id: int,
    session: DbSession,
    visitor: PageVisitor,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    check_csrf(visitor, csrf_token)
    upload = read_upload(file)
    return _after(
        request,
        session,
        visitor,
        case_id,
        lambda: debtor_requests.file_dispute(
            session, case_id=case_id, user=visitor.user, reason=reason, upload=upload
        ),
        lambda _row: f"/portal/cases/{case_id}?disputed=1",
    )


@router.post("/portal/cases/{case_id}/legal-advice")
def legal_advice(
    request: Request,
    case_id: int,
    session: DbSession,
    visitor: PageVisitor,
    question: Annotated[str, Form(max_length=2000)] = "",
    contact_channel: Annotated[str, Form(max_length=20)] = "",
    contact_time: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(visitor, csrf_token)
    return _after(
        request,
        session,
        visitor,
        case_id,
        lambda: debtor_requests.request_legal_advice(
            session,
            case_id=case_id,
            user=visitor.user,
            question=question,
            contact_channel=contact_channel,
            contact_time=contact_time,
        ),
        lambda _row: f"/portal/cases/{case_id}?advice=1",
    )


@router.get("/portal/preferences", response_class=HTMLResponse)
def preferences(request: Request, session: DbSession, visitor: PageVisitor) -> Response:
    row = debtor_requests.contact_preferences(session, user=visitor.user)
    return TEMPLATES.TemplateResponse(
        request,
        "portal_preferences.html",
        {
            "visitor": visitor,
            "row": row,
            "channels": service.PREFERENCE_CHANNELS,
            "saved": "saved" in request.query_params,
            "error": None,
        },
    )


@router.post("/portal/preferences", response_class=HTMLResponse)
def save_preferences(
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    earliest_local: Annotated[time, Form()],
    latest_local: Annotated[time, Form()],
    channels: Annotated[list[str] | None, Form()] = None,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(visitor, csrf_token)
    try:
        with session.begin_nested():
            debtor_requests.set_contact_preferences(
                session,
                user=visitor.user,
                earliest_local=earliest_local,
                latest_local=latest_local,
                channels=channels or [],
            )
    except DomainError as error:
        if error.status_code in (403, 404):
            raise
        return TEMPLATES.TemplateResponse(
            request,
            "portal_preferences.html",
            {
                "visitor": visitor,
                "row": debtor_requests.contact_preferences(session, user=visitor.user),
                "channels": service.PREFERENCE_CHANNELS,
                "saved": False,
                "error": error,
            },
            status_code=error.status_code,
        )
    return RedirectResponse("/portal/preferences?saved=1", status_code=303)


LegalFilter = Literal["open", "handled", "all"]


def _legal_advice_page(
    request: Request,
    session: Any,
    visitor: Visitor,
    *,
    status: LegalFilter,
    handled: int | None = None,
    error: DomainError | None = None,
    error_request: int | None = None,
    status_code: int = 200,
) -> Response:
    rows = debtor_requests.legal_advice_requests(session, user=visitor.user, status=status)
    return TEMPLATES.TemplateResponse(
        request,
        "portal_legal_advice.html",
        {
            "visitor": visitor,
            "rows": rows,
            "status": status,
            "filters": debtor_requests.LEGAL_FILTERS,
            "may_handle": permits(visitor.user, Permission.HANDLE_LEGAL_REQUESTS),
            "note_min": debtor_requests.HANDLING_NOTE_MIN,
            "note_max": debtor_requests.HANDLING_NOTE_MAX,
            "handled": handled,
            "error": error,
            "error_request": error_request,
        },
        status_code=status_code,
    )


@router.get("/legal-advice", response_class=HTMLResponse)
def legal_advice_list(
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    status: Annotated[LegalFilter, EmptyIsAbsent] = "open",
    handled: Annotated[int | None, EmptyIsAbsent, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """The legal-advice requests: the open ones (the default), the handled ones or every
    one; each open one with a form to record that it was handled. ``handled``: the request
    just recorded as handled, for the notice."""
    return _legal_advice_page(request, session, visitor, status=status, handled=handled)


@router.post("/legal-advice/{request_id}/handled")
def legal_advice_handled(
    request: Request,
    request_id: int,
    session: DbSession,
    visitor: PageVisitor,
    note: Annotated[str, Form(max_length=NOTE_MAX)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Record that the request was handled (the same service as the JSON API), then back to
    the open requests; a note that is not valid, or a request handled already with another
    note, shows the list again with the reason (403 and 404 answer as everywhere else)."""
    check_csrf(visitor, csrf_token)
    try:
        with session.begin_nested():
            debtor_requests.handle_legal_request(
                session, request_id=request_id, user=visitor.user, note=note
            )
    except DomainError as error:
        if error.status_code in (403, 404):
            raise
        return _legal_advice_page(
            request,
            session,
            visitor,
            status="open",
            error=error,
            error_request=request_id,
            status_code=error.status_code,
        )
    return RedirectResponse(f"/legal-advice?handled={request_id}", status_code=303)


# --- the simulated payment provider's pages (development only) --------------------------


def _simulated_provider() -> SimulatedProvider:
    if get_settings().payment_provider != SIMULATED:
        raise NotFound("the simulated payment provider is not in use")
    return SimulatedProvider()


@router.get("/pay/sim/{payment_id}", response_class=HTMLResponse)
def simulated_pay_page(
    request: Request, payment_id: str, session: DbSession, visitor: PageVisitor
) -> Response:
    """The simulated provider's pay page, for the debtor who started the payment (a real
    provider's page lives on its own site)."""
    _simulated_provider()
    intent = payments.own_intent(session, provider_payment_id=payment_id, user=visitor.user)
    return TEMPLATES.TemplateResponse(
        request, "pay_sim.html", {"visitor": visitor, "intent": intent}
    )


@router.post("/pay/sim/{payment_id}/confirm")
def simulated_confirm(
    payment_id: str,
    session: DbSession,
    visitor: PageVisitor,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """The debtor confirmed their own payment: the simulated provider's signed event is
    booked in-process through the webhook's own verification (no HTTP call back to this
    server), then the debtor goes back to the case page."""
    provider = _simulated_provider()
    check_csrf(visitor, csrf_token)
    intent = payments.confirm_simulated_payment(
        session, provider_payment_id=payment_id, user=visitor.user, provider=provider
    )
    return RedirectResponse(f"/portal/cases/{intent.case_id}?paid=1", status_code=303)
