"""Sign-in pages: staff (username + password) and debtors (phone + one-time code), sign
out, and the language switch. Every form carries a CSRF token."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from debtflow.auth import service
from debtflow.auth.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    PageVisitor,
    check_csrf,
    clear_session_cookie,
    home_of,
    set_session_cookie,
)
from debtflow.auth.notifier import default_notifier
from debtflow.core.errors import DomainError
from debtflow.models import User
from debtflow.web.deps import TEMPLATES, DbSession
from debtflow.web.i18n import LANGUAGES, Refusal, translator
from debtflow.web.inputs import EmptyIsAbsent
from debtflow.web.routing import RequestRoute

# a sign-in form whose token does not match its cookie: stale, or posted from elsewhere
FORM_EXPIRED = Refusal(
    "csrf", "the form has expired or was not sent from this site (CSRF); reload the page"
)

router = APIRouter(include_in_schema=False, route_class=RequestRoute)


def _safe_next(target: str | None) -> str | None:
    """Only local paths: never redirect a signed-in user to another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _login_form(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = TEMPLATES.TemplateResponse(
        request, template, {"csrf_token": token, **context}, status_code=status_code
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, secure=True, samesite="strict", max_age=3600
    )
    return response


def _login_csrf_ok(request: Request, form_token: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
    return bool(cookie) and hmac.compare_digest(cookie or "", form_token)


def _signed_in(session: DbSession, user: User, target: str | None) -> RedirectResponse:
    token, _ = service.start_session(session, user=user)
    response = RedirectResponse(_safe_next(target) or home_of(user), status_code=303)
    set_session_cookie(response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    next: Annotated[str | None, EmptyIsAbsent, Query(max_length=500)] = None,  # noqa: A002
) -> HTMLResponse:
    return _login_form(request, "login.html", {"next": _safe_next(next) or "", "error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "",  # noqa: A002
) -> Response:
    _ = translator(request.cookies.get("lang", "zh"))
    if not _login_csrf_ok(request, csrf_token):
        return _login_form(
            request, "login.html", {"next": next, "error": FORM_EXPIRED}, status_code=403
        )
    attempt = service.sign_in(session, username=username, password=password)
    if attempt.user is None:
        # a wrong password, an unknown username and a locked account read alike: the page
        # must not tell which usernames exist (the lock itself holds, see sign_in)
        error = _("invalid_credentials")
        return _login_form(request, "login.html", {"next": next, "error": error}, status_code=401)
    return _signed_in(session, attempt.user, next)


@router.post("/logout")
def logout(
    request: Request,
    session: DbSession,
    visitor: PageVisitor,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    check_csrf(visitor, csrf_token)
    service.end_session(session, token=request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/debtor/login", response_class=HTMLResponse)
def debtor_login_form(request: Request) -> HTMLResponse:
    return _login_form(request, "debtor_login.html", {"phone": "", "sent": False, "error": None})


@router.post("/debtor/login/code", response_class=HTMLResponse)
def debtor_send_code(
    request: Request,
    session: DbSession,
    phone: Annotated[str, Form(min_length=1, max_length=32)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    if not _login_csrf_ok(request, csrf_token):
        return _login_form(
            request,
            "debtor_login.html",
            {"phone": phone, "sent": False, "error": FORM_EXPIRED},
            status_code=403,
        )
    try:
        service.request_debtor_code(session, phone=phone, notifier=default_notifier())
    except DomainError as exc:
        return _login_form(
            request,
            "debtor_login.html",
            {"phone": phone, "sent": False, "error": exc},
            status_code=exc.status_code,
        )
    return _login_form(request, "debtor_login.html", {"phone": phone, "sent": True, "error": None})


@router.post("/debtor/login/verify", response_class=HTMLResponse)
def debtor_verify(
    request: Request,
    session: DbSession,
    phone: Annotated[str, Form(max_length=32)],
    code: Annotated[str, Form(max_length=12)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if not _login_csrf_ok(request, csrf_token):
        return _login_form(
            request,
            "debtor_login.html",
            {"phone": phone, "sent": True, "error": FORM_EXPIRED},
            status_code=403,
        )
    user = service.verify_debtor_code(session, phone=phone, code=code)
    if user is None:
        _ = translator(request.cookies.get("lang", "zh"))
        return _login_form(
            request,
            "debtor_login.html",
            {"phone": phone, "sent": True, "error": _("invalid_code")},
            status_code=401,
        )
    return _signed_in(session, user, "/portal")


@router.get("/lang/{code}")
def switch_language(
    code: str,
    next: Annotated[str | None, EmptyIsAbsent, Query(max_length=500)] = None,  # noqa: A002
) -> RedirectResponse:
    response = RedirectResponse(_safe_next(next) or "/", status_code=303)
    if code in LANGUAGES:
        response.set_cookie("lang", code, max_age=365 * 86400, samesite="lax", path="/")
    return response
