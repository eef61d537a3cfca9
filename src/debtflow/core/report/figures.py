"""The dashboard's figures for one slice of the operation, and their breakdowns.

The database hands over small pre-aggregated tallies, each tagged with the *slice* it
belongs to (collector, segment, creditor). Summing the tallies of every slice gives the
overall figures; summing those sharing a collector (or a segment, or a creditor) gives the
breakdown rows. Response times need the single assignments (medians do not add up), so
assignments come one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from debtflow.core.dispatch.metrics import first_contact_after, percentile
from debtflow.core.report.rates import Rate, Recovery, ReportInputError, rate, recovery


class Dimension(StrEnum):
    COLLECTOR = "collector"
    SEGMENT = "segment"
    CREDITOR = "creditor"


Key = int | str | None


@dataclass(frozen=True)
class Slice:
    """Who worked it (collector id), which segment the case is in, whose debt it is."""

    collector_id: int | None
    segment: str | None
    creditor_id: int | None

    def key(self, dimension: Dimension) -> Key:
        if dimension is Dimension.COLLECTOR:
            return self.collector_id
        if dimension is Dimension.SEGMENT:
            return self.segment
        return self.creditor_id


@dataclass(frozen=True)
class RecoveryTally:
    slice: Slice
    collected_fen: int
    placed_fen: int


@dataclass(frozen=True)
class PromiseTally:
    slice: Slice
    kept: int
    broken: int


@dataclass(frozen=True)
class GateTally:
    """Gate decisions on intended contacts: allowed, denied, and denials a supervisor
    overrode (``overridden`` ⊆ ``denied``)."""

    slice: Slice
    allowed: int
    denied: int
    overridden: int


@dataclass(frozen=True)
class AssignmentSpan:
    """One assignment: when, whether it met the documented match rules, and until when it
    lasted (the case's next assignment, None while it is current)."""

    slice: Slice
    case_id: int
    assigned_at: datetime
    fits: bool
    ends_at: datetime | None = None


@dataclass(frozen=True)
class Compliance:
    decisions: int
    allowed: int
    denied: int
    overridden: int
    allowed_rate: Rate


@dataclass(frozen=True)
class ResponseTime:
    assignments: int
    contacted: int
    median_minutes: float | None
    p90_minutes: float | None


@dataclass(frozen=True)
class FigureSet:
    recovery: Recovery
    promise_kept: Rate
    compliance: Compliance
    response: ResponseTime
    match_accuracy: Rate

    @property
    def empty(self) -> bool:
        return (
            self.recovery.placed_fen == 0
            and self.recovery.collected_fen == 0
            and self.promise_kept.trials == 0
            and self.compliance.decisions == 0
            and self.response.assignments == 0
        )


@dataclass(frozen=True)
class BreakdownRow:
    key: Key
    figures: FigureSet


@dataclass
class _Sums:
    collected_fen: int = 0
    placed_fen: int = 0
    kept: int = 0
    broken: int = 0
    allowed: int = 0
    denied: int = 0
    overridden: int = 0
    assignments: int = 0
    fitting: int = 0
    minutes: list[float] = field(default_factory=list)

    def figures(self) -> FigureSet:
        return FigureSet(
            recovery=recovery(collected_fen=self.collected_fen, placed_fen=self.placed_fen),
            promise_kept=rate(self.kept, self.kept + self.broken),
            compliance=Compliance(
                decisions=self.allowed + self.denied,
                allowed=self.allowed,
                denied=self.denied,
                overridden=self.overridden,
                allowed_rate=rate(self.allowed, self.allowed + self.denied),
            ),
            response=ResponseTime(
                assignments=self.assignments,
                contacted=len(self.minutes),
                median_minutes=percentile(self.minutes, 0.5),
                p90_minutes=percentile(self.minutes, 0.9),
            ),
            match_accuracy=rate(self.fitting, self.assignments),
        )


def first_contact(span: AssignmentSpan, contact_times: Sequence[datetime]) -> datetime | None:
    """The first contact attempt on the case at or after the assignment and before the
    case's next assignment; ``contact_times`` sorted ascending."""
    _aware(span.assigned_at, "assigned_at")
    return first_contact_after(span.assigned_at, contact_times, until=span.ends_at)


def _aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ReportInputError(f"{what} must be timezone-aware")


def _check_counts(*values: int) -> None:
    if any(v < 0 for v in values):
        raise ReportInputError("tallies cannot be negative")


def _order(item: tuple[Key, _Sums]) -> tuple[bool, int | str]:
    key = item[0]
    return (key is None, "" if key is None else key)


@dataclass(frozen=True)
class Figures:
    overall: FigureSet
    breakdowns: dict[Dimension, list[BreakdownRow]]


def compute_figures(
    *,
    recoveries: Iterable[RecoveryTally],
    promises: Iterable[PromiseTally],
    gate: Iterable[GateTally],
    assignments: Iterable[AssignmentSpan],
    contacts: Mapping[int, Sequence[datetime]],
) -> Figures:
    """Overall figures and one breakdown per dimension; rows ordered by key (None last).

    ``contacts`` maps a case id to its contact attempt times, sorted ascending."""
    overall = _Sums()
    parts: dict[Dimension, dict[Key, _Sums]] = {d: {} for d in Dimension}

    def sums_of(piece: Slice) -> list[_Sums]:
        found = [overall]
        for dimension in Dimension:
            found.append(parts[dimension].setdefault(piece.key(dimension), _Sums()))
        return found

    for r in recoveries:
        _check_counts(r.collected_fen, r.placed_fen)
        for s in sums_of(r.slice):
            s.collected_fen += r.collected_fen
            s.placed_fen += r.placed_fen
    for p in promises:
        _check_counts(p.kept, p.broken)
        for s in sums_of(p.slice):
            s.kept += p.kept
            s.broken += p.broken
    for g in gate:
        _check_counts(g.allowed, g.denied, g.overridden)
        if g.overridden > g.denied:
            raise ReportInputError("more overridden denials than denials")
        for s in sums_of(g.slice):
            s.allowed += g.allowed
            s.denied += g.denied
            s.overridden += g.overridden
    for a in assignments:
        found = first_contact(a, contacts.get(a.case_id, ()))
        minutes = None if found is None else (found - a.assigned_at).total_seconds() / 60.0
        for s in sums_of(a.slice):
            s.assignments += 1
            s.fitting += int(a.fits)
            if minutes is not None:
                s.minutes.append(minutes)
    return Figures(
        overall=overall.figures(),
        breakdowns={
            dimension: [
                BreakdownRow(key=key, figures=sums.figures())
                for key, sums in sorted(parts[dimension].items(), key=_order)
            ]
            for dimension in Dimension
        },
    )
