"""What every command shares: the console, the database, and how errors are shown."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.core.errors import DomainError
from debtflow.db import get_engine, unit_of_work
from debtflow.migrate import upgrade

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def domain_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Show a domain error as one readable line and a non-zero exit, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            raise fail(exc.message, 2 if exc.status_code in (404, 422) else 1) from None
        except OperationalError as exc:
            raise fail(f"database error: {exc.orig}", 3) from None

    return wrapper


def ready_engine() -> Engine:
    """The configured database, migrated to the latest schema."""
    engine = get_engine()
    try:
        upgrade(engine)
    except OperationalError as exc:
        raise fail(f"cannot open database {get_settings().database_url}: {exc.orig}", 3) from None
    return engine


@contextmanager
def transaction() -> Iterator[Session]:
    with unit_of_work(ready_engine()) as session:
        yield session


def business_zone() -> ZoneInfo:
    """The platform's business time zone (the setting ``default_timezone``)."""
    return ZoneInfo(get_settings().default_timezone)


def business_today() -> date:
    return datetime.now(business_zone()).date()


def business_time(moment: datetime) -> str:
    """An aware moment as wall-clock time in the business time zone, the zone named."""
    zone = business_zone()
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"


def parse_day(value: str | None) -> date:
    if value is None:
        return business_today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{value!r} is not a date (use YYYY-MM-DD)", 2) from None


def echo_json(payload: Any) -> None:
    import json

    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")
