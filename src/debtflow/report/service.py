"""The manager dashboard: load the period's tallies, compute the figures in the pure core,
and hand back everything a page or the API shows. Read-only; never commits.

Who may see it: admin, operations manager and compliance auditor (the auditor reads);
everyone else is refused (403).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, permits, require
from debtflow.config import get_settings
from debtflow.core.errors import InvalidInput, NotFound
from debtflow.core.report.figures import (
    AssignmentSpan,
    Dimension,
    Figures,
    GateTally,
    Key,
    PromiseTally,
    RecoveryTally,
    Slice,
    compute_figures,
)
from debtflow.core.report.rolls import (
    AccountPath,
    BucketMove,
    RollMatrix,
    month_starts,
    next_month,
    roll_matrices,
)
from debtflow.db import utcnow
from debtflow.models import User
from debtflow.models.enums import PromiseStatus
from debtflow.report import repository

DEFAULT_DAYS = 30
MAX_DAYS = 366
EARLIEST, LATEST = 1970, 2999


class CreditorNotFound(NotFound):
    code = "creditor_not_found"


@dataclass(frozen=True)
class DailyAmount:
    day: date
    fen: int


@dataclass(frozen=True)
class Dashboard:
    since: datetime
    until: datetime
    creditor_id: int | None
    figures: Figures
    labels: dict[Dimension, dict[Key, str]]  # key -> what a person reads
    rolls: list[RollMatrix]
    daily_collected: list[DailyAmount]
    creditors: dict[int, str]

    @property
    def empty(self) -> bool:
        return self.figures.overall.empty and not any(m.counts for m in self.rolls)


def zone() -> ZoneInfo:
    return ZoneInfo(get_settings().default_timezone)


def may_view(user: User) -> bool:
    return permits(user, Permission.VIEW_REPORTS)


def check_viewer(user: User) -> None:
    require(user, Permission.VIEW_REPORTS)


def period_of_days(first: date | None, last: date | None) -> tuple[datetime, datetime]:
    """Local days first..last (inclusive) as [since, until); by default the last 30 days
    up to today."""
    local = zone()
    for day in (first, last):
        if day is not None and not EARLIEST <= day.year <= LATEST:
            raise InvalidInput(f"days must lie within the years {EARLIEST}..{LATEST}")
    last = last or utcnow().astimezone(local).date()
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    return (
        datetime.combine(first, time(0), local),
        datetime.combine(last + timedelta(days=1), time(0), local),
    )


def dashboard(
    session: Session,
    *,
    user: User,
    since: datetime | None = None,
    until: datetime | None = None,
    creditor_id: int | None = None,
) -> Dashboard:
    """Every figure of the dashboard over [since, until) (default: the last 30 days), for
    one creditor or all."""
    check_viewer(user)
    # the period ends before ``until``: a period to the last day of 2999 ends in 3000
    for moment, latest in ((since, LATEST), (until, LATEST + 1)):
        if moment is not None and not EARLIEST <= moment.year <= latest:
            raise InvalidInput(f"period bounds must lie within the years {EARLIEST}..{LATEST}")
    until = until or utcnow()
    since = since or until - timedelta(days=DEFAULT_DAYS)
    for moment, what in ((since, "since"), (until, "until")):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidInput(f"{what} must carry a time zone")
    if until <= since:
        raise InvalidInput("the period must end after it starts")
    if until - since > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"the period may span at most {MAX_DAYS} days")
    if creditor_id is not None and not repository.creditor_exists(session, creditor_id=creditor_id):
        raise CreditorNotFound(f"creditor {creditor_id} does not exist")
    local = zone()
    first_day = since.astimezone(local).date()
    last_day = (until - timedelta(microseconds=1)).astimezone(local).date()
    scope = {"creditor_id": creditor_id}

    def piece(collector_id: int | None, segment: str | None, creditor: int | None) -> Slice:
        return Slice(collector_id=collector_id, segment=segment, creditor_id=creditor)

    placed: Counter[Slice] = Counter()
    for collector_id, segment, creditor, fen in repository.placed(session, until=until, **scope):
        placed[piece(collector_id, segment, creditor)] += int(fen or 0)
    collected: Counter[Slice] = Counter()
    for collector_id, segment, creditor, fen in repository.collected(
        session, since=since, until=until, **scope
    ):
        collected[piece(collector_id, segment, creditor)] += int(fen or 0)
    recoveries = [
        RecoveryTally(s, collected_fen=collected[s], placed_fen=placed[s])
        for s in placed.keys() | collected.keys()
    ]
    promise_counts: dict[Slice, Counter[str]] = defaultdict(Counter)
    for collector_id, segment, creditor, status, count in repository.resolved_promises(
        session, first_day=first_day, last_day=last_day, **scope
    ):
        promise_counts[piece(collector_id, segment, creditor)][PromiseStatus(status)] += count
    promises = [
        PromiseTally(s, kept=c[PromiseStatus.KEPT], broken=c[PromiseStatus.BROKEN])
        for s, c in promise_counts.items()
    ]
    gate_counts: dict[Slice, Counter[str]] = defaultdict(Counter)
    for collector_id, segment, creditor, allowed, overridden, count in repository.gate_decisions(
        session, since=since, until=until, **scope
    ):
        counts = gate_counts[piece(collector_id, segment, creditor)]
        counts["allowed" if allowed else "denied"] += count
        counts["overridden"] += count if overridden and not allowed else 0
    gate = [
        GateTally(s, allowed=c["allowed"], denied=c["denied"], overridden=c["overridden"])
        for s, c in gate_counts.items()
    ]
    spans = [
        AssignmentSpan(
            piece(row.collector_id, row.segment, row.creditor_id),
            case_id=row.case_id,
            assigned_at=row.assigned_at,
            fits=bool(row.fits),
            ends_at=row.ends_at,
        )
        for row in repository.assignments(session, since=since, until=until, **scope)
    ]
    contacts: dict[int, list[datetime]] = defaultdict(list)
    for case_id, attempted_at in repository.contact_times(
        session, since=since, until=until, **scope
    ):
        contacts[case_id].append(attempted_at)
    figures = compute_figures(
        recoveries=recoveries,
        promises=promises,
        gate=gate,
        assignments=spans,
        contacts=contacts,
    )
    creditors = repository.creditor_names(session)
    collector_ids = [
        r.key for r in figures.breakdowns[Dimension.COLLECTOR] if isinstance(r.key, int)
    ]
    collectors = repository.collector_names(session, collector_ids)
    labels: dict[Dimension, dict[Key, str]] = {
        Dimension.COLLECTOR: {k: collectors.get(k, f"#{k}") for k in collector_ids},
        Dimension.SEGMENT: {},
        Dimension.CREDITOR: dict(creditors.items()),
    }
    return Dashboard(
        since=since,
        until=until,
        creditor_id=creditor_id,
        figures=figures,
        labels=labels,
        rolls=_rolls(session, first_day=first_day, last_day=last_day, creditor_id=creditor_id),
        daily_collected=_daily(session, since=since, until=until, creditor_id=creditor_id),
        creditors=creditors,
    )


def _rolls(
    session: Session, *, first_day: date, last_day: date, creditor_id: int | None
) -> list[RollMatrix]:
    local = zone()
    months = month_starts(first_day, last_day + timedelta(days=1))
    paths: list[AccountPath] = []
    current: tuple[int, str, date] | None = None
    moves: list[BucketMove] = []
    for row in repository.bucket_moves(session, first_day=months[0], creditor_id=creditor_id):
        if current is None or row.account_id != current[0]:
            if current is not None:
                paths.append(AccountPath(current[1], current[2], tuple(moves)))
            current = (row.account_id, row.bucket, row.imported_at.astimezone(local).date())
            moves = []
        moves.append(BucketMove(row.as_of, row.from_bucket, row.to_bucket))
    if current is not None:
        paths.append(AccountPath(current[1], current[2], tuple(moves)))
    unmoved = {
        month: repository.unmoved_buckets(
            session,
            first_day=months[0],
            placed_before=datetime.combine(next_month(month), time(0), local),
            creditor_id=creditor_id,
        )
        for month in months
    }
    return roll_matrices(paths, months, unmoved=unmoved)


def _daily(
    session: Session, *, since: datetime, until: datetime, creditor_id: int | None
) -> list[DailyAmount]:
    """Collected per local day of the period (days without payments show 0)."""
    local = zone()
    totals: Counter[date] = Counter()
    for paid_at, fen in repository.payments_by_time(
        session, since=since, until=until, creditor_id=creditor_id
    ):
        totals[paid_at.astimezone(local).date()] += int(fen)
    day = since.astimezone(local).date()
    last = (until - timedelta(microseconds=1)).astimezone(local).date()
    days = []
    while day <= last:
        days.append(DailyAmount(day=day, fen=totals[day]))
        day += timedelta(days=1)
    return days
