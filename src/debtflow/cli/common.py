"""What every command shares: the console, the database, and how errors are shown."""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from types import FrameType, TracebackType
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session

from debtflow.config import InvalidSettings, get_settings
from debtflow.core.compliance.crypto import PersonalDataKeyError, PersonalDataTokenError
from debtflow.core.errors import DomainError
from debtflow.db import get_engine, unit_of_work
from debtflow.migrate import upgrade
from debtflow.web.inputs import EARLIEST_YEAR, LATEST_YEAR

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def domain_exit(exc: DomainError, *, then: str | None = None) -> typer.Exit:
    """A domain error as one ``error:`` line (and the line ``then`` after it) and its exit
    status: 2 for what the user asked wrongly or for (not found, invalid), else 1."""
    stop = fail(exc.message, 2 if exc.status_code in (404, 422) else 1)
    if then is not None:
        err_console.print(then, highlight=False)
    return stop


def domain_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Show a domain error as one readable line and a non-zero exit, never a traceback;
    so too a setting that cannot be used (exit 2), naming its environment variable."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            raise domain_exit(exc) from None
        except InvalidSettings as exc:
            raise fail(str(exc), 2) from None
        except PersonalDataTokenError as exc:
            raise fail(
                f"stored personal data does not open: {exc}; DEBTFLOW_PII_KEYS must hold "
                "every key that sealed stored values (docs/compliance-operations.md)",
                2,
            ) from None
        except PersonalDataKeyError as exc:
            raise fail(
                f"personal-data keys: {exc} (DEBTFLOW_PII_KEYS, or the key file "
                "DEBTFLOW_PII_KEY_FILE)",
                2,
            ) from None
        except OperationalError as exc:
            raise fail(f"database error: {exc.orig}", 3) from None

    return wrapper


class SignalStop:
    """While the ``with`` block runs, SIGINT (Ctrl-C) and SIGTERM stop it: the first raises
    ``KeyboardInterrupt`` in the main thread and is remembered in ``signal``; later ones
    are let pass while the command unwinds, so its clean-up (stopping worker processes,
    rolling back) is not cut short in turn. After ``hold()`` a signal is only noted in
    ``late``: what runs then, a commit, finishes. Outside the main thread it does nothing
    (Python runs signal handlers there only)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.signal: int | None = None
        self.late: int | None = None
        self._held = False
        self._previous: dict[int, Any] = {}

    @property
    def exit_code(self) -> int:
        """The shell's status for a command stopped by a signal: 128 + its number."""
        return 128 + (self.signal or signal.SIGINT)

    def hold(self) -> None:
        self._held = True

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._held:
            self.late = self.late or signum
            return
        if self.signal is not None:
            return
        self.signal = signum
        raise KeyboardInterrupt

    def __enter__(self) -> SignalStop:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._on_signal) for s in self.SIGNALS}
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}


@contextmanager
def opening_database() -> Iterator[None]:
    """Errors of opening the configured database as one line: unreachable (exit 3), or not
    a database debtflow can use, e.g. a file that is not SQLite (exit 2)."""
    url = get_settings().database_url
    try:
        yield
    except OperationalError as exc:
        raise fail(f"cannot open database {url}: {exc.orig}", 3) from None
    except DatabaseError as exc:
        raise fail(
            f"invalid setting DEBTFLOW_DATABASE_URL: {url} is not a database debtflow can "
            f"use ({exc.orig})",
            2,
        ) from None


def ready_engine() -> Engine:
    """The configured database, migrated to the latest schema."""
    engine = get_engine()
    with opening_database():
        upgrade(engine)
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


def parse_day(value: str | None, *, option: str | None = None) -> date:
    """A day given on the command line (today when ``None``), within the years the platform
    works in (``web.inputs``: 1970–2999, as the web and API take them) — beyond them the
    day's arithmetic overflows Python's dates or the database. A bad one is exit 2 naming
    ``option``."""
    if value is None:
        return business_today()
    named = f"{option} {value}" if option else repr(value)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise fail(f"{named} is not a date (use YYYY-MM-DD)", 2) from None
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise fail(f"{named} is outside the years {EARLIEST_YEAR}–{LATEST_YEAR}", 2)
    return day


def _json_value(value: Any) -> Any:
    """What ``json`` cannot write itself: dates and moments in ISO 8601 (``T`` between date
    and time), anything else as its text."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def echo_json(payload: Any) -> None:
    import json

    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=_json_value) + "\n")
