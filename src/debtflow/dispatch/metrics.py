"""Daily dispatch metrics, stored per local day for the dashboard.

Nightly step ``dispatch_metrics`` (order 75) recomputes the last WINDOW_DAYS days, because
first contacts keep arriving after the day of the assignment; it writes only the rows
whose figures changed. Response time runs from an assignment to the first contact
attempt on the case at or after it and before the case's next assignment; match accuracy
is the share of assignments that met every documented rule
(`core.dispatch.metrics.fits_case_needs`, stored with each assignment); reassignment rate
the share of assignments that took the case from another collector.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.core.dispatch.metrics import (
    AssignmentRecord,
    daily_dispatch_metrics,
    first_contact_after,
)
from debtflow.db import utcnow
from debtflow.dispatch import repository
from debtflow.models import DispatchDailyMetrics
from debtflow.nightly.service import StepCounts, register_step

WINDOW_DAYS = 8
FIGURES = (
    "assignments",
    "fitting",
    "match_accuracy",
    "reassignments",
    "reassignment_rate",
    "contacted",
    "response_minutes_median",
    "response_minutes_p90",
)


def refresh(session: Session, *, since: datetime) -> dict[str, int]:
    """Recompute the metrics of every local day with assignments at or after ``since``."""
    timezone = get_settings().default_timezone
    zone = ZoneInfo(timezone)
    day_start = datetime.combine(since.astimezone(zone).date(), time(0), zone)
    assignments = repository.assignments_since(session, since=day_start)
    case_ids = sorted({a.case_id for a in assignments})
    contacts = repository.contact_times(session, case_ids, since=day_start)
    later = repository.later_assignment_times(session, case_ids, since=day_start)
    records = []
    for a in assignments:
        following = [t for t in later.get(a.case_id, []) if t > a.assigned_at]
        first = first_contact_after(
            a.assigned_at,
            contacts.get(a.case_id, []),
            until=following[0] if following else None,
        )
        records.append(
            AssignmentRecord(
                case_id=a.case_id,
                collector_id=a.collector_id,
                assigned_at=a.assigned_at,
                fits=a.fits,
                first_contact_at=first,
                reassignment=a.previous_collector_id is not None
                and a.previous_collector_id != a.collector_id,
            )
        )
    rows = daily_dispatch_metrics(records, timezone=timezone)
    stored = repository.metrics_rows(session, [r.day for r in rows])
    counts = {"metric_days": len(rows), "metric_days_updated": 0}
    by_day: dict[date, list[AssignmentRecord]] = {}
    for record in records:
        by_day.setdefault(record.assigned_at.astimezone(zone).date(), []).append(record)
    for row in rows:
        figures = {
            "assignments": row.assignments,
            "fitting": sum(r.fits for r in by_day[row.day]),
            "match_accuracy": row.match_accuracy,
            "reassignments": sum(r.reassignment for r in by_day[row.day]),
            "reassignment_rate": row.reassignment_rate,
            "contacted": row.contacted,
            "response_minutes_median": row.response_minutes_median,
            "response_minutes_p90": row.response_minutes_p90,
        }
        existing = stored.get(row.day)
        if existing is not None and all(_same(getattr(existing, k), v) for k, v in figures.items()):
            continue
        if existing is None:
            repository.add_metrics(session, DispatchDailyMetrics(day=row.day, **figures))
        else:
            for k, v in figures.items():
                setattr(existing, k, v)
            existing.computed_at = utcnow()
        counts["metric_days_updated"] += 1
    session.flush()
    return counts


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 1e-9
    return a == b


def refresh_metrics(session: Session, as_of: date) -> StepCounts:
    """Nightly step: the last WINDOW_DAYS days up to the later of ``as_of`` and today."""
    zone = ZoneInfo(get_settings().default_timezone)
    earliest = min(as_of, utcnow().astimezone(zone).date()) - timedelta(days=WINDOW_DAYS)
    return refresh(session, since=datetime.combine(earliest, time(0), zone))


def metrics_of(session: Session, *, day: date | None, limit: int = 7) -> list[DispatchDailyMetrics]:
    """The row of ``day``, or of the latest ``limit`` days, recomputed first: assignments
    and first contacts made since the nightly step count."""
    zone = ZoneInfo(get_settings().default_timezone)
    if day is not None:
        refresh(session, since=datetime.combine(day, time(0), zone))
        row = repository.metrics_rows(session, [day]).get(day)
        return [row] if row is not None else []
    today = utcnow().astimezone(zone).date()
    refresh(session, since=datetime.combine(today - timedelta(days=limit - 1), time(0), zone))
    return list(repository.latest_metrics(session, limit=limit))


register_step("dispatch_metrics", 75, refresh_metrics)
