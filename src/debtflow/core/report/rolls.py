"""Bucket roll rates per calendar month, from the append-only bucket history.

An account's bucket on a day (before that day's moves) is the ``from_bucket`` of its
earliest move on or after that day; without such a move it is the bucket it holds now.
For a month, every account placed before the month ended is counted once, from the
bucket it held when the month began to the bucket it held when the month ended. A new
account starts in M0 (its first ageing is its first move), so a month also shows where
that month's placements landed.

The roll rate of bucket B is the share of accounts starting the month in B that ended it
in a worse bucket; the cure rate the share that ended it in a better one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from debtflow.core.report.rates import ReportInputError


@dataclass(frozen=True)
class BucketMove:
    as_of: date
    from_bucket: str
    to_bucket: str


@dataclass(frozen=True)
class AccountPath:
    """One account's moves (ascending by ``as_of``) and the bucket it holds now."""

    current_bucket: str
    placed_on: date
    moves: tuple[BucketMove, ...]


def bucket_rank(bucket: str) -> int:
    """M0 < M1 < … < M6+ (by the number in the name; names without one rank 0)."""
    digits = "".join(ch for ch in bucket if ch.isdigit())
    return int(digits) if digits else 0


def bucket_on(path: AccountPath, day: date) -> str:
    for move in path.moves:
        if move.as_of >= day:
            return move.from_bucket
    return path.current_bucket


@dataclass(frozen=True)
class RollMatrix:
    month: date  # first day of the month
    counts: dict[tuple[str, str], int]  # (bucket at start, bucket at end) -> accounts

    @property
    def buckets(self) -> list[str]:
        names = {b for pair in self.counts for b in pair}
        return sorted(names, key=lambda b: (bucket_rank(b), b))

    def starting(self, bucket: str) -> int:
        return sum(n for (start, _end), n in self.counts.items() if start == bucket)

    def share(self, start: str, end: str) -> float | None:
        total = self.starting(start)
        return self.counts.get((start, end), 0) / total if total else None

    def roll_rate(self, bucket: str) -> float | None:
        """Share of the accounts starting in ``bucket`` that ended in a worse one."""
        total = self.starting(bucket)
        if not total:
            return None
        worse = sum(
            n
            for (start, end), n in self.counts.items()
            if start == bucket and bucket_rank(end) > bucket_rank(bucket)
        )
        return worse / total

    def cure_rate(self, bucket: str) -> float | None:
        total = self.starting(bucket)
        if not total:
            return None
        better = sum(
            n
            for (start, end), n in self.counts.items()
            if start == bucket and bucket_rank(end) < bucket_rank(bucket)
        )
        return better / total


def month_starts(since: date, until: date) -> list[date]:
    """First days of the months overlapping [since, until)."""
    if until <= since:
        raise ReportInputError("the period must end after it starts")
    first = since.replace(day=1)
    months = []
    while first < until:
        months.append(first)
        first = next_month(first)
    return months


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def roll_matrices(
    paths: Iterable[AccountPath],
    months: Sequence[date],
    *,
    unmoved: Mapping[date, Counter[str]] | None = None,
) -> list[RollMatrix]:
    """One matrix per month in ``months`` (first days, ascending). ``paths`` are the
    accounts with a move on or after the first month's first day; ``unmoved[month]``
    counts, by current bucket, the *other* accounts (no move since the first month began)
    placed before that month ended: they stayed where they are."""
    for month in months:
        if month.day != 1:
            raise ReportInputError(f"{month} is not the first day of a month")
    tallies: dict[date, Counter[tuple[str, str]]] = {m: Counter() for m in months}
    for path in paths:
        if any(b.as_of < a.as_of for a, b in zip(path.moves, path.moves[1:], strict=False)):
            raise ReportInputError("an account's moves must be in date order")
        for month in months:
            end = next_month(month)
            if path.placed_on >= end:
                continue
            tallies[month][(bucket_on(path, month), bucket_on(path, end))] += 1
    for month, counter in (unmoved or {}).items():
        if month not in tallies:
            raise ReportInputError(f"unmoved accounts given for {month}, outside the months")
        for bucket, count in counter.items():
            tallies[month][(bucket, bucket)] += count
    return [RollMatrix(month=m, counts=dict(tallies[m])) for m in months]
