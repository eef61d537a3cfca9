"""Days past due from an instalment schedule and what has been paid towards it.

An account repays in ``instalment_count`` monthly instalments of ``instalment_fen`` from
``first_due``; the last instalment takes any remainder so the schedule sums exactly to
``schedule_total_fen`` when one is given. Payments cover instalments oldest first. Days past
due on a date is the number of days since the due date of the oldest instalment that was not
fully covered by payments made on or before that date (0 when nothing is late).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


def add_months(start: date, months: int) -> date:
    """Same day-of-month ``months`` later, clamped to the month end (31 Jan + 1 → 28/29 Feb)."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


@dataclass(frozen=True)
class Instalment:
    seq: int
    due: date
    amount_fen: int


@dataclass(frozen=True)
class Schedule:
    first_due: date
    instalment_fen: int
    instalment_count: int
    schedule_total_fen: int | None = None

    def __post_init__(self) -> None:
        if self.instalment_count <= 0:
            raise ValueError("a schedule needs at least one instalment")
        if self.instalment_fen <= 0:
            raise ValueError("an instalment must be a positive amount")
        if self.schedule_total_fen is not None and self.schedule_total_fen <= 0:
            raise ValueError("a schedule total must be positive")

    def instalments(self) -> list[Instalment]:
        amounts = [self.instalment_fen] * self.instalment_count
        if self.schedule_total_fen is not None:
            amounts[-1] = self.schedule_total_fen - self.instalment_fen * (
                self.instalment_count - 1
            )
            if amounts[-1] <= 0:
                raise ValueError("instalments before the last already exceed the schedule total")
        return [
            Instalment(seq=i + 1, due=add_months(self.first_due, i), amount_fen=amounts[i])
            for i in range(self.instalment_count)
        ]

    @property
    def total_fen(self) -> int:
        return sum(i.amount_fen for i in self.instalments())


@dataclass(frozen=True)
class Delinquency:
    days_past_due: int
    oldest_unpaid_due: date | None
    overdue_fen: int
    instalments_overdue: int


def days_past_due(
    schedule: Schedule,
    *,
    paid_before_fen: int,
    payments: Iterable[tuple[date, int]],
    as_of: date,
) -> Delinquency:
    """Age one account on ``as_of``.

    ``paid_before_fen`` is what had been paid towards the schedule before the platform took
    the account (from the creditor's file); ``payments`` are (date, fen) booked since. Only
    payments on or before ``as_of`` count, so ageing a past date gives the past answer.
    """
    if paid_before_fen < 0:
        raise ValueError("paid before import cannot be negative")
    covered = paid_before_fen + sum(fen for day, fen in payments if day <= as_of)
    overdue_fen = 0
    oldest: date | None = None
    late = 0
    for inst in schedule.instalments():
        if inst.due > as_of:
            break
        if covered >= inst.amount_fen:
            covered -= inst.amount_fen
            continue
        short = inst.amount_fen - covered
        covered = 0
        overdue_fen += short
        late += 1
        if oldest is None:
            oldest = inst.due
    dpd = (as_of - oldest).days if oldest is not None else 0
    return Delinquency(
        days_past_due=dpd,
        oldest_unpaid_due=oldest,
        overdue_fen=overdue_fen,
        instalments_overdue=late,
    )
