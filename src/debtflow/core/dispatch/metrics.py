"""Dispatch metrics for the dashboard: match accuracy, response time, reassignment rate.

`fits_case_needs` is the documented match rule (docs/matching.md): does a collector fit
what a case needs? The aggregations take plain assignment records and return per-day
figures; they read no database and keep no state.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from debtflow.core.dispatch.features import (
    COMMUNICATIVE_TAGS,
    EMOTIONAL_SHARE,
    LEGAL_SKILL_NEEDED,
    CaseProfile,
    CollectorProfile,
    CollectorType,
    MatchInputError,
    ProductType,
)

NATIONWIDE = frozenset({CollectorType.ONLINE_AGENT, CollectorType.LAW_FIRM})


@dataclass(frozen=True)
class FitVerdict:
    fits: bool
    unmet: tuple[str, ...]  # rule codes the collector fails, in rule order


def fits_case_needs(case: CaseProfile, collector: CollectorProfile) -> FitVerdict:
    """The documented rules, each applying only when the case has that need.

    reachable            the debtor is reachable on a channel the collector works
    region               field agents and part-time collectors cover the debtor's city or
                         province or work nationwide ('全国'): the one region rule,
                         `features.covers_region`, that eligibility and the `same_region`
                         feature apply too (online agents and law firms work nationwide)
    communicative        an emotional debtor (≥ 30 % emotional contacts) gets a
                         communicative / empathetic / patient collector
    legal_minded         a deliberate defaulter (risk segment or ≥ 50 % deliberate intents)
                         gets a law firm or a collector with legal skill ≥ 0.5
    industry_experience  a small-business owner with a known industry gets a collector
                         with experience in it
    dialect              a debtor with a known dialect gets a speaker when the collector
                         talks to them (any type but law firm)
    """
    unmet: list[str] = []
    if not case.reachable & collector.channels:
        unmet.append("reachable")
    if collector.kind not in NATIONWIDE and not collector.covers(case):
        unmet.append("region")
    if case.emotional_share >= EMOTIONAL_SHARE and not collector.style_tags & COMMUNICATIVE_TAGS:
        unmet.append("communicative")
    if (
        case.deliberate >= 0.5
        and collector.kind is not CollectorType.LAW_FIRM
        and collector.legal_skill < LEGAL_SKILL_NEEDED
    ):
        unmet.append("legal_minded")
    if (
        case.product is ProductType.SMALL_BUSINESS
        and case.industry is not None
        and case.industry.strip().lower() not in {i.strip().lower() for i in collector.industries}
    ):
        unmet.append("industry_experience")
    if (
        case.dialect is not None
        and collector.kind is not CollectorType.LAW_FIRM
        and case.dialect.strip().lower() not in {d.strip().lower() for d in collector.dialects}
    ):
        unmet.append("dialect")
    return FitVerdict(fits=not unmet, unmet=tuple(unmet))


@dataclass(frozen=True)
class AssignmentRecord:
    """One assignment of a case to a collector, as the dispatch history keeps it."""

    case_id: int
    collector_id: int
    assigned_at: datetime
    fits: bool  # fits_case_needs at assignment time
    first_contact_at: datetime | None = None
    reassignment: bool = False  # the case was taken from another collector


@dataclass(frozen=True)
class DailyDispatchMetrics:
    day: date
    assignments: int
    match_accuracy: float | None  # share of assignments that fit; None without any
    reassignment_rate: float | None  # reassignments / assignments
    contacted: int  # assignments with a first contact
    response_minutes_median: float | None  # assignment → first contact
    response_minutes_p90: float | None


def _aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise MatchInputError(f"{what} must be timezone-aware")


def first_contact_after(
    assigned_at: datetime, contact_times: Sequence[datetime], *, until: datetime | None = None
) -> datetime | None:
    """The first contact at or after ``assigned_at`` and before ``until`` (the case's next
    assignment; None while the assignment is current); ``contact_times`` sorted ascending.
    Contacts before the assignment belong to an earlier one: None when there is no other."""
    _aware(assigned_at, "assigned_at")
    index = bisect.bisect_left(contact_times, assigned_at)
    if index == len(contact_times):
        return None
    found = contact_times[index]
    if until is not None and found >= until:
        return None
    return found


def response_minutes(record: AssignmentRecord) -> float | None:
    """Minutes from assignment to first contact; None when not contacted yet."""
    _aware(record.assigned_at, "assigned_at")
    if record.first_contact_at is None:
        return None
    _aware(record.first_contact_at, "first_contact_at")
    delta = record.first_contact_at - record.assigned_at
    if delta < timedelta(0):
        raise MatchInputError(f"case {record.case_id}: first contact before assignment")
    return delta.total_seconds() / 60.0


def match_accuracy(records: Iterable[AssignmentRecord]) -> float | None:
    flags = [r.fits for r in records]
    return sum(flags) / len(flags) if flags else None


def reassignment_rate(records: Iterable[AssignmentRecord]) -> float | None:
    flags = [r.reassignment for r in records]
    return sum(flags) / len(flags) if flags else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """Linear-interpolated percentile (share in 0..1); None for no values."""
    if not values:
        return None
    if not 0.0 <= share <= 1.0:
        raise MatchInputError("percentile share must be within 0..1")
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def daily_dispatch_metrics(
    records: Iterable[AssignmentRecord], *, timezone: str = "Asia/Shanghai"
) -> list[DailyDispatchMetrics]:
    """One row per local day (of the assignment) in `timezone`, oldest first."""
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError) as exc:
        raise MatchInputError(f"unknown time zone {timezone!r}") from exc
    by_day: dict[date, list[AssignmentRecord]] = defaultdict(list)
    for record in records:
        _aware(record.assigned_at, "assigned_at")
        by_day[record.assigned_at.astimezone(zone).date()].append(record)
    rows: list[DailyDispatchMetrics] = []
    for day in sorted(by_day):
        day_records = by_day[day]
        minutes = [m for m in (response_minutes(r) for r in day_records) if m is not None]
        rows.append(
            DailyDispatchMetrics(
                day=day,
                assignments=len(day_records),
                match_accuracy=match_accuracy(day_records),
                reassignment_rate=reassignment_rate(day_records),
                contacted=len(minutes),
                response_minutes_median=percentile(minutes, 0.5),
                response_minutes_p90=percentile(minutes, 0.9),
            )
        )
    return rows
