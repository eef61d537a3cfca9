"""Whether a promise to pay was kept (docs/promises.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class PromiseOutcome(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


@dataclass(frozen=True)
class PromiseTerms:
    amount_fen: int
    due: date
    grace_days: int = 3
    tolerance_fen: int = 0  # an underpayment this small still counts as kept

    def __post_init__(self) -> None:
        if self.amount_fen <= 0:
            raise ValueError("a promise must be for a positive amount")
        if self.grace_days < 0 or self.tolerance_fen < 0:
            raise ValueError("grace days and tolerance cannot be negative")

    @property
    def deadline(self) -> date:
        return self.due + timedelta(days=self.grace_days)


def promise_outcome(
    terms: PromiseTerms,
    payments: Iterable[tuple[date, int]],
    *,
    made_on: date,
    today: date,
) -> PromiseOutcome:
    """Kept when payments from ``made_on`` to the deadline reach the amount less tolerance
    (and something was paid: a tolerance as large as the promise keeps nothing by itself);
    broken once ``today`` is past the deadline without that; pending otherwise."""
    paid = sum(fen for day, fen in payments if made_on <= day <= min(terms.deadline, today))
    if paid > 0 and paid >= terms.amount_fen - terms.tolerance_fen:
        return PromiseOutcome.KEPT
    return PromiseOutcome.BROKEN if today > terms.deadline else PromiseOutcome.PENDING
