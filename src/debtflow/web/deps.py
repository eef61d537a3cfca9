"""Request-scoped dependencies: one session per request, committed once on success."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.db import session_factory
from debtflow.web.i18n import i18n_context

TEMPLATES = Jinja2Templates(
    directory=str(Path(__file__).parent / "templates"), context_processors=[i18n_context]
)


def fen(value: int | None) -> str:
    """Fen as yuan with thousands separators, '—' when unknown."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100:,}.{abs(value) % 100:02d}"


def local_time(value: datetime | None) -> str:
    """An aware time shown in the platform's business time zone."""
    if value is None:
        return "—"
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(get_settings().default_timezone)).strftime("%Y-%m-%d %H:%M")


TEMPLATES.env.filters["yuan"] = fen
TEMPLATES.env.filters["local_time"] = local_time


def business_today() -> date:
    """Today in the platform's business time zone."""
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(get_settings().default_timezone)).date()


def db_session() -> Iterator[Session]:
    session = session_factory()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(db_session)]
