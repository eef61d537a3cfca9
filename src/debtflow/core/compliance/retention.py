"""How long collection records are kept, and whether a deletion request may be honoured."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from debtflow.core.compliance.contact import require_aware

#: Minimum retention after the last collection activity on the debt, in years.
RETENTION_YEARS: dict[str, int] = {"CN": 2, "US": 3}


class DeletionVerdict(StrEnum):
    DELETE = "delete"
    KEEP_RETENTION_PERIOD = "keep_retention_period"
    KEEP_LEGAL_HOLD = "keep_legal_hold"


@dataclass(frozen=True, slots=True)
class RetentionDecision:
    verdict: DeletionVerdict
    keep_until: date

    @property
    def may_delete(self) -> bool:
        return self.verdict is DeletionVerdict.DELETE


def add_years(day: date, years: int) -> date:
    """Same calendar date ``years`` later; 29 February moves to 1 March (never earlier)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def keep_until(
    last_activity: datetime, jurisdiction: str, *, zone: tzinfo, minimum_years: int = 0
) -> date:
    """First date, local to ``zone`` (the debtor's), on which the record may be deleted.

    The years count from the local date of the last activity in ``zone``, whatever zone
    ``last_activity`` carries (the database hands it back in UTC)."""
    require_aware(last_activity, "last activity time")
    if jurisdiction not in RETENTION_YEARS:
        raise ValueError(
            f"no retention rule for jurisdiction {jurisdiction!r}; known: "
            + ", ".join(sorted(RETENTION_YEARS))
        )
    years = max(RETENTION_YEARS[jurisdiction], minimum_years)
    return add_years(last_activity.astimezone(zone).date(), years)


def deletion_decision(
    *,
    last_activity: datetime,
    jurisdiction: str,
    zone: tzinfo,
    today: date,
    legal_hold: bool,
    minimum_years: int = 0,
) -> RetentionDecision:
    """May a record (or a person's deletion request) be honoured today?

    A legal hold always keeps the record. Otherwise it is kept until the retention period
    after the last collection activity has passed. ``today`` and the retention period are
    dates in ``zone``, the debtor's time zone.
    """
    until = keep_until(last_activity, jurisdiction, zone=zone, minimum_years=minimum_years)
    if legal_hold:
        return RetentionDecision(DeletionVerdict.KEEP_LEGAL_HOLD, until)
    if today < until:
        return RetentionDecision(DeletionVerdict.KEEP_RETENTION_PERIOD, until)
    return RetentionDecision(DeletionVerdict.DELETE, until)
