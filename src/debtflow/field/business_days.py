"""The field app's clock: the business day a moment falls on, and that day's bounds.

A field collector's day is a date in the business time zone (the setting
``default_timezone``); check-ins, outcomes and uploads of one visit belong to the same
business day, and a route sheet shows the check-ins between that day's midnights. Moments
handed in by callers must be timezone-aware (``require_aware`` refuses naive ones with 422).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from debtflow.config import get_settings
from debtflow.core.errors import InvalidInput


def require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{what} must carry a time zone")


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().default_timezone)


def business_day(moment: datetime) -> date:
    """The business-time-zone date of an aware moment."""
    return moment.astimezone(_zone()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), _zone())
    return start, start + timedelta(days=1)
