"""Who is asking: a bearer token (integrations) or a session cookie (browsers).

- ``CurrentUser`` for the JSON API: 401 when nobody is signed in. A cookie alone is
  accepted for reads; a write sent with a cookie must carry the session's CSRF token in
  the ``X-CSRF-Token`` header (bearer tokens need none).
- ``PageVisitor`` for pages: an anonymous browser is sent to the sign-in page.
- ``check_csrf`` for every form post.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from debtflow.auth import service
from debtflow.db import session_factory
from debtflow.models import Role, User
from debtflow.web.deps import DbSession
from debtflow.web.routing import in_request_thread

SESSION_COOKIE = "debtflow_session"
LOGIN_CSRF_COOKIE = "debtflow_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


@dataclass(frozen=True)
class Visitor:
    """A signed-in browser: the user and the CSRF token its forms must carry."""

    user: User
    csrf_token: str


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(service.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=True,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")


def _unauthenticated(detail: str = "sign in first") -> HTTPException:
    return HTTPException(
        status_code=401,
        detail={"error": "not_authenticated", "detail": detail},
        headers={"WWW-Authenticate": "Bearer"},
    )


def _refuse_anonymous_caller(request: Request, session: Session, token: str | None) -> None:
    if not token and not request.cookies.get(SESSION_COOKIE):
        raise _unauthenticated()


@in_request_thread(first=_refuse_anonymous_caller)
def current_user(
    request: Request, session: DbSession, token: Annotated[str | None, Depends(bearer)]
) -> User:
    if token:
        user = service.user_for_api_token(session, token=token)
        if user is None:
            raise _unauthenticated("the token is unknown, expired or revoked")
        return user
    cookie = request.cookies.get(SESSION_COOKIE)
    found = service.user_for_session(session, token=cookie) if cookie else None
    if found is None:
        raise _unauthenticated()
    user, web_session = found
    if request.method not in SAFE_METHODS and not _same(
        request.headers.get("X-CSRF-Token"), web_session.csrf_token
    ):
        raise HTTPException(
            status_code=403,
            detail={"error": "csrf", "detail": "missing or wrong X-CSRF-Token header"},
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def _same(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given), expected)


def _to_sign_in(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(status_code=303, headers={"Location": f"/login?next={quote(target)}"})


def _refuse_anonymous_visitor(request: Request, session: Session) -> None:
    if not request.cookies.get(SESSION_COOKIE):
        raise _to_sign_in(request)


@in_request_thread(first=_refuse_anonymous_visitor)
def page_visitor(request: Request, session: DbSession) -> Visitor:
    cookie = request.cookies.get(SESSION_COOKIE)
    found = service.user_for_session(session, token=cookie) if cookie else None
    if found is None:
        raise _to_sign_in(request)
    user, web_session = found
    return Visitor(user=user, csrf_token=web_session.csrf_token)


PageVisitor = Annotated[Visitor, Depends(page_visitor)]


def visitor_of_cookie(token: str) -> Visitor | None:
    """Who a session cookie signs in, read in a session of its own, for a page answered
    outside a route: an error page's top bar (the request's own session has been rolled back
    by then, or no route ran — an unknown path, a request that did not validate)."""
    with session_factory()() as session:
        found = service.user_for_session(session, token=token)
    if found is None:
        return None
    user, web_session = found
    return Visitor(user=user, csrf_token=web_session.csrf_token)


def check_csrf(visitor: Visitor, form_token: str | None) -> None:
    if not _same(form_token, visitor.csrf_token):
        raise HTTPException(
            status_code=403,
            detail={"error": "csrf", "detail": "the form is stale or forged (CSRF check)"},
        )


def home_of(user: User) -> str:
    return "/portal" if user.role == Role.DEBTOR else "/cases"
