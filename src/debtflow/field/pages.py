"""The field app's pages (phone-sized): today's route as a list and a map drawn on the
server, check-in (``static/field.js`` posts the browser's position to the JSON API), the
visit-outcome form and photo or recording uploads. Same services as the JSON API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from debtflow.auth.deps import PageVisitor, Visitor, check_csrf
from debtflow.auth.scoping import ALL_CASES_ROLES
from debtflow.core.errors import DomainError
from debtflow.core.field.media import ACCEPTED, MAX_UPLOAD_BYTES
from debtflow.core.field.visits import VisitOutcome
from debtflow.core.money import AmountError, yuan_to_fen
from debtflow.db import utcnow
from debtflow.field import service
from debtflow.field.errors import NotAFieldCollector
from debtflow.models import Role
from debtflow.web.deps import TEMPLATES, DbSession, business_today
from debtflow.web.i18n import group_texts, language
from debtflow.web.inputs import Day, EmptyIsAbsent
from debtflow.web.routing import RequestRoute

router = APIRouter(include_in_schema=False, route_class=RequestRoute)


class _BadForm(DomainError):
    status_code = 422
    code = "invalid_form"


def _field_page(
    request: Request,
    session: DbSession,
    visitor: Visitor,
    *,
    day: date,
    collector_id: int | None,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    collectors = service.field_collectors(session, user=visitor.user)
    sheet = None
    if visitor.user.role in service.FIELD_ROLES or collector_id is not None:
        sheet = service.route_sheet(session, user=visitor.user, day=day, collector_id=collector_id)
    elif visitor.user.role not in ALL_CASES_ROLES:
        raise NotAFieldCollector(f"a {visitor.user.role.value} has no field route")
    return TEMPLATES.TemplateResponse(
        request,
        "field.html",
        {
            "visitor": visitor,
            "sheet": sheet,
            "day": day,
            "collectors": collectors,
            "collector_id": collector_id,
            "acts": visitor.user.role in service.FIELD_ROLES,
            "outcomes": [o.value for o in VisitOutcome],
            "accept": ",".join(sorted(ACCEPTED)),
            "max_upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
            "today": business_today(),
            "error": error,
            # a refused check-in answers the gate's reason codes: field.js words them
            "gate_words": group_texts(language(request), "gate"),
            "notice": next(
                (k for k in ("checked_in", "recorded", "uploaded") if k in request.query_params),
                None,
            ),
        },
        status_code=status_code,
    )


@router.get("/field", response_class=HTMLResponse)
def field_page(
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    day: Annotated[Day | None, EmptyIsAbsent] = None,
    collector_id: Annotated[int | None, EmptyIsAbsent, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    if visitor.user.role == Role.DEBTOR:
        return RedirectResponse("/portal", status_code=303)
    return _field_page(
        request, session, visitor, day=day or business_today(), collector_id=collector_id
    )


def _yuan_to_fen(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        fen = yuan_to_fen(text)
    except AmountError:
        fen = -1
    if fen < 0:
        raise _BadForm(f"{text!r} is not an amount in yuan (e.g. 1200 or 1200.50)")
    return fen


def _day(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise _BadForm(f"{text!r} is not a date (YYYY-MM-DD)") from None


@router.post("/field/stops/{case_id}/outcome")
def record_outcome(
    case_id: int,
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    outcome: Annotated[str, Form(max_length=24)],
    note: Annotated[str, Form(max_length=2000)] = "",
    promise_yuan: Annotated[str, Form(max_length=20)] = "",
    promise_due: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(visitor, csrf_token)
    try:
        service.record_outcome(
            session,
            user=visitor.user,
            case_id=case_id,
            outcome=outcome,
            note=note,
            promise_amount_fen=_yuan_to_fen(promise_yuan),
            promise_due=_day(promise_due),
            now=utcnow(),
        )
    except DomainError as exc:
        session.rollback()
        return _field_page(
            request,
            session,
            visitor,
            day=business_today(),
            collector_id=None,
            error=exc,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/field?recorded={case_id}#stop-{case_id}", status_code=303)


@router.post("/field/stops/{case_id}/files")
def upload_file(
    case_id: int,
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_csrf(visitor, csrf_token)
    try:
        service.upload_file(
            session,
            user=visitor.user,
            case_id=case_id,
            content=file.file.read(MAX_UPLOAD_BYTES + 1),
            media_type=file.content_type or "",
            now=utcnow(),
        )
    except DomainError as exc:
        session.rollback()
        return _field_page(
            request,
            session,
            visitor,
            day=business_today(),
            collector_id=None,
            error=exc,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/field?uploaded={case_id}#stop-{case_id}", status_code=303)
