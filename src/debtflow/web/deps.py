"""Request-scoped dependencies: one session per request, committed once on success."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from anyio import CancelScope, CapacityLimiter, to_thread
from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from jinja2 import FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.responses import HTMLResponse

from debtflow.config import get_settings
from debtflow.core.money import fen_to_yuan
from debtflow.core.portal.plan import DatedInstalment
from debtflow.core.portal.plan import instalment_ordinals as plan_ordinals
from debtflow.db import immediate, session_factory
from debtflow.web import labels
from debtflow.web.i18n import (
    LanguageEnvironment,
    LanguageLoader,
    LiteralTranslations,
    i18n_context,
    language,
)


class PageTemplates(Jinja2Templates):
    """The page templates in the visitor's language: ``TemplateResponse(request,
    "case.html", …)`` renders ``<lang>/case.html``, compiled with that language's fixed
    wording (``debtflow.web.i18n``)."""

    def TemplateResponse(  # noqa: N802 - Starlette's name
        self,
        request: Request,
        name: str,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> HTMLResponse:
        return super().TemplateResponse(
            request,
            f"{language(request)}/{name}",
            context,
            status_code=status_code,
            headers=headers,
            media_type=media_type,
            background=background,
        )


TEMPLATES = PageTemplates(
    env=LanguageEnvironment(
        loader=LanguageLoader(FileSystemLoader(Path(__file__).parent / "templates")),
        autoescape=select_autoescape(),
        extensions=[LiteralTranslations],
        # Templates ship inside the package and change only with a new release (and a
        # restart): checking every template file's modification time on every render is
        # wasted work.
        auto_reload=False,
    ),
    context_processors=[i18n_context],
)


def fen(value: int | None) -> str:
    """Fen as yuan with thousands separators, '—' when unknown."""
    return "—" if value is None else fen_to_yuan(value)


def local_time(value: datetime | None) -> str:
    """An aware time shown in the platform's business time zone."""
    if value is None:
        return "—"
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(get_settings().default_timezone)).strftime("%Y-%m-%d %H:%M")


def instalment_ordinals(rows: Sequence[Any]) -> dict[int, int]:
    """A plan's rows (offered or stored) -> each instalment's ordinal as the debtor counts
    it; the down payment and the grace months have none (``core.portal.plan``)."""
    return plan_ordinals(
        [DatedInstalment(r.number, r.due_on, r.principal_fen, r.interest_fen) for r in rows]
    )


TEMPLATES.env.filters["yuan"] = fen
TEMPLATES.env.filters["instalment_ordinals"] = instalment_ordinals
TEMPLATES.env.filters["local_time"] = local_time
TEMPLATES.env.filters["status_reason"] = labels.status_reason
TEMPLATES.env.filters["collecting_party"] = labels.collecting_party


def business_today() -> date:
    """Today in the platform's business time zone."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(get_settings().default_timezone)).date()


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


def _rollback_and_close(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


async def db_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request, committed before the response. A request that may write
    begins as a writer on SQLite (see ``debtflow.db.immediate``), so two concurrent writes
    wait for each other instead of failing on a stale snapshot.

    The session is made on the event loop (no I/O: the connection is taken from the pool at
    the first statement, in the endpoint's worker thread); only what waits on the database
    (BEGIN IMMEDIATE, COMMIT, ROLLBACK) runs in a thread — one thread hand-off per request
    fewer than a plain generator dependency, which enters and leaves in threads. The app's
    routes (``debtflow.web.routing.RequestRoute``) commit in the endpoint's own thread, so
    the commit here is left for other routes; the rollback after a failure is always here."""
    session = session_factory()()
    try:
        if request.method not in READ_ONLY_METHODS and session.get_bind().dialect.name == "sqlite":
            await _outside_the_pool(immediate, session)
        yield session
    except BaseException:
        # shielded: a client that disconnects must not leave the transaction open
        with CancelScope(shield=True):
            await _outside_the_pool(_rollback_and_close, session)
        raise
    if not session.in_transaction():
        # committed by the request's unit of work (``debtflow.web.routing``): nothing to
        # wait for, the connection is back in the pool
        session.close()
        return
    with CancelScope(shield=True):
        await _outside_the_pool(_commit_and_close, session)


async def _outside_the_pool(work: Callable[[Session], None], session: Session) -> None:
    """Run ``work`` in a thread of its own, not one of the pool's (``web_threads`` per
    worker, see ``debtflow.web.slots``) that run request code — as FastAPI does for a
    dependency's exit. A transaction that holds locks (rows on PostgreSQL, the write lock on
    SQLite) must never wait for a pool thread to commit: the pool's threads may all be taken
    by requests waiting for those very locks."""
    await to_thread.run_sync(work, session, limiter=CapacityLimiter(1))


# scope="function": commit before the response is sent, so the request a redirect leads to
# (sign-in -> /cases, form post -> page) sees what this one wrote
DbSession = Annotated[Session, Depends(db_session, scope="function")]
