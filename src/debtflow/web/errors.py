"""One place renders every error a request can end in: a domain error with its own status
and message, a request that does not validate, a number or date out of range.

API clients (``/api/...``, or anyone not asking for HTML) get JSON; a browser on a page
gets the message on a page in its language. A validation error never echoes the input: a
value JSON allows but cannot write back (NaN, Infinity, a lone surrogate) would otherwise
turn a 422 into a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg.errors import DatetimeFieldOverflow, NumericValueOutOfRange
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from debtflow.auth.deps import SESSION_COOKIE, Visitor, visitor_of_cookie
from debtflow.core.errors import DomainError
from debtflow.web.deps import TEMPLATES
from debtflow.web.i18n import Refusal

OUT_OF_RANGE = "a number or date is out of range"


def wants_page(request: Request) -> bool:
    """A browser on one of the pages: not the API, and asking for HTML."""
    if request.url.path.startswith("/api/") or request.url.path == "/api":
        return False
    return "text/html" in request.headers.get("accept", "") or "hx-request" in request.headers


def error_response(
    request: Request,
    *,
    status_code: int,
    code: str,
    detail: Any,
    headers: Mapping[str, str] | None = None,
    visitor: Visitor | None = None,
) -> Response:
    """The error as JSON, or for a browser on a page as a page — with the top bar of
    ``visitor`` (the navigation and the sign-out button) when someone is signed in."""
    if wants_page(request):
        message = detail if isinstance(detail, str) else "; ".join(_lines(detail))
        return TEMPLATES.TemplateResponse(
            request,
            "error.html",
            {"status_code": status_code, "error": Refusal(code, message), "visitor": visitor},
            status_code=status_code,
            headers=headers,
        )
    return JSONResponse(
        status_code=status_code, content={"error": code, "detail": detail}, headers=headers
    )


async def _signed_in(request: Request) -> Visitor | None:
    """Who is signed in, for an error page's top bar; nobody for the API. Read afresh: the
    request's own session is rolled back when the error reaches here (its rows expired), or
    no route ran at all."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or not wants_page(request):
        return None
    try:
        return await to_thread.run_sync(visitor_of_cookie, token)
    except SQLAlchemyError:
        return None  # the page still says what went wrong, without the top bar


async def _answer(
    request: Request,
    *,
    status_code: int,
    code: str,
    detail: Any,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return error_response(
        request,
        status_code=status_code,
        code=code,
        detail=detail,
        headers=headers,
        visitor=await _signed_in(request),
    )


# the code of an HTTP error raised without one (an unknown path, a method the route lacks)
HTTP_CODES = {
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def validation_problems(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where and what, as FastAPI reports it, without the rejected value."""
    return [
        {
            "loc": [str(part) if not isinstance(part, int) else part for part in e["loc"]],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]


def _lines(problems: list[dict[str, Any]]) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc'] if p not in ('body', 'query', 'form'))}: {e['msg']}"
        for e in problems
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # a redirect to sign in travels as an HTTP "exception"; it stays what it is
        if exc.status_code < 400:
            return await http_exception_handler(request, exc)
        if isinstance(exc.detail, dict) and "error" in exc.detail:
            code, detail = str(exc.detail["error"]), exc.detail.get("detail", "")
        else:
            code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
            detail = str(exc.detail)
        return await _answer(
            request, status_code=exc.status_code, code=code, detail=detail, headers=exc.headers
        )

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        return await _answer(
            request, status_code=exc.status_code, code=exc.code, detail=exc.message
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return await _answer(
            request, status_code=422, code="invalid_request", detail=validation_problems(exc)
        )

    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: DataError) -> Response:
        # an id, amount or date beyond the column's range (PostgreSQL INTEGER/BIGINT,
        # timestamp) is bad input, not a server fault; any other data error stays a 500
        if not isinstance(exc.orig, NumericValueOutOfRange | DatetimeFieldOverflow):
            raise exc
        return await _answer(request, status_code=422, code="invalid_input", detail=OUT_OF_RANGE)

    @app.exception_handler(OverflowError)
    async def _too_big(request: Request, exc: OverflowError) -> Response:
        # SQLite's driver refuses integers beyond 64 bits before the query runs; any other
        # overflow (arithmetic, dates) is a server fault and stays a 500
        if "SQLite INTEGER" not in str(exc):
            raise exc
        return await _answer(request, status_code=422, code="invalid_input", detail=OUT_OF_RANGE)
