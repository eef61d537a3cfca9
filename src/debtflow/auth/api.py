"""JSON routes of sign-in: OAuth2 password tokens for staff, phone + code for debtors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import JSONResponse

from debtflow.auth import service
from debtflow.auth.deps import CurrentUser
from debtflow.auth.notifier import default_notifier
from debtflow.auth.schemas import CodeRequest, TokenRead, UserRead
from debtflow.web.deps import DbSession
from debtflow.web.routing import RequestRoute

router = APIRouter(prefix="/api/auth", tags=["auth"], route_class=RequestRoute)

_EXPIRES_IN = int(service.API_TOKEN_LIFETIME.total_seconds())


def _refused(error: str, detail: str, status: int = 401) -> JSONResponse:
    # returned, not raised: the failed attempt (and any lockout) must still be committed
    return JSONResponse(
        status_code=status,
        content={"error": error, "detail": detail},
        headers={"WWW-Authenticate": "Bearer"},
    )


@router.post(
    "/token",
    response_model=TokenRead,
    responses={401: {"description": "wrong username or password, or the user is locked"}},
)
def issue_token(
    session: DbSession,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
) -> TokenRead | JSONResponse:
    """OAuth2 password grant: form fields ``username`` and ``password``.

    A wrong password, an unknown username and a locked user get the same 401, as on the
    sign-in page: an answer that differed for a locked user would tell which usernames
    exist (five wrong guesses lock a real one, never an unknown one)."""
    attempt = service.sign_in(session, username=username, password=password)
    if attempt.user is None:
        return _refused(
            "invalid_credentials",
            "wrong username or password, or the user is locked for a while after repeated failures",
        )
    token = service.issue_api_token(session, user=attempt.user)
    return TokenRead(access_token=token, expires_in=_EXPIRES_IN)


@router.post("/debtor/code", status_code=202)
def send_debtor_code(body: CodeRequest, session: DbSession) -> dict[str, str]:
    """Send a one-time code to a registered debtor's phone: the answer is the same whether
    it is one and whether its limits (one a minute, five an hour) were reached."""
    service.request_debtor_code(session, phone=body.phone, notifier=default_notifier())
    return {"status": "sent if registered"}


@router.post("/debtor/token", response_model=TokenRead, responses={401: {}})
def issue_debtor_token(
    session: DbSession,
    phone: Annotated[str, Form(max_length=32)],
    code: Annotated[str, Form(max_length=12)],
) -> TokenRead | JSONResponse:
    user = service.verify_debtor_code(session, phone=phone, code=code)
    if user is None:
        return _refused("invalid_code", "wrong or expired code")
    return TokenRead(
        access_token=service.issue_api_token(session, user=user), expires_in=_EXPIRES_IN
    )


@router.get("/me", response_model=UserRead)
def me(user: CurrentUser) -> UserRead:
    return UserRead(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        collector_id=user.collector_id,
        debtor_id=user.debtor_id,
    )
