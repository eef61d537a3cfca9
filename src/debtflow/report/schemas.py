"""What the dashboard API returns. Rates are shares in 0..1 with their 95 % Wilson
interval; money is integer fen; response times are minutes."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from debtflow.core.report.figures import BreakdownRow, Dimension, FigureSet
from debtflow.core.report.rates import Rate
from debtflow.core.report.rolls import RollMatrix
from debtflow.report.service import Dashboard


class RateRead(BaseModel):
    hits: int
    trials: int
    value: float | None
    low: float | None
    high: float | None

    @classmethod
    def of(cls, figure: Rate) -> RateRead:
        return cls(
            hits=figure.hits,
            trials=figure.trials,
            value=figure.value,
            low=figure.low,
            high=figure.high,
        )


class FiguresRead(BaseModel):
    collected_fen: int
    placed_fen: int
    recovery_rate: float | None
    recovery_bp: int | None
    promise_kept: RateRead
    contact_decisions: int
    contacts_allowed: int
    contacts_denied: int
    denials_overridden: int
    contact_compliance: RateRead
    assignments: int
    contacted: int
    response_minutes_median: float | None
    response_minutes_p90: float | None
    match_accuracy: RateRead

    @classmethod
    def of(cls, figures: FigureSet) -> FiguresRead:
        return cls(
            collected_fen=figures.recovery.collected_fen,
            placed_fen=figures.recovery.placed_fen,
            recovery_rate=figures.recovery.value,
            recovery_bp=figures.recovery.basis_points,
            promise_kept=RateRead.of(figures.promise_kept),
            contact_decisions=figures.compliance.decisions,
            contacts_allowed=figures.compliance.allowed,
            contacts_denied=figures.compliance.denied,
            denials_overridden=figures.compliance.overridden,
            contact_compliance=RateRead.of(figures.compliance.allowed_rate),
            assignments=figures.response.assignments,
            contacted=figures.response.contacted,
            response_minutes_median=figures.response.median_minutes,
            response_minutes_p90=figures.response.p90_minutes,
            match_accuracy=RateRead.of(figures.match_accuracy),
        )


class BreakdownRowRead(BaseModel):
    key: int | str | None
    label: str | None
    figures: FiguresRead


class RollCell(BaseModel):
    from_bucket: str
    to_bucket: str
    accounts: int


class RollMonthRead(BaseModel):
    month: date
    cells: list[RollCell]
    roll_rate: dict[str, float | None]  # bucket -> share that ended the month worse
    cure_rate: dict[str, float | None]

    @classmethod
    def of(cls, matrix: RollMatrix) -> RollMonthRead:
        return cls(
            month=matrix.month,
            cells=[
                RollCell(from_bucket=start, to_bucket=end, accounts=count)
                for (start, end), count in sorted(matrix.counts.items())
            ],
            roll_rate={b: matrix.roll_rate(b) for b in matrix.buckets},
            cure_rate={b: matrix.cure_rate(b) for b in matrix.buckets},
        )


class DailyRead(BaseModel):
    day: date
    collected_fen: int


class DashboardRead(BaseModel):
    since: datetime
    until: datetime
    creditor_id: int | None
    overall: FiguresRead
    by_collector: list[BreakdownRowRead]
    by_segment: list[BreakdownRowRead]
    by_creditor: list[BreakdownRowRead]
    roll_rates: list[RollMonthRead]
    daily_collected: list[DailyRead]

    @classmethod
    def of(cls, board: Dashboard) -> DashboardRead:
        def rows(dimension: Dimension) -> list[BreakdownRowRead]:
            found: list[BreakdownRow] = board.figures.breakdowns[dimension]
            names = board.labels[dimension]
            return [
                BreakdownRowRead(
                    key=r.key,
                    label=names.get(r.key, None if r.key is None else str(r.key)),
                    figures=FiguresRead.of(r.figures),
                )
                for r in found
            ]

        return cls(
            since=board.since,
            until=board.until,
            creditor_id=board.creditor_id,
            overall=FiguresRead.of(board.figures.overall),
            by_collector=rows(Dimension.COLLECTOR),
            by_segment=rows(Dimension.SEGMENT),
            by_creditor=rows(Dimension.CREDITOR),
            roll_rates=[RollMonthRead.of(m) for m in board.rolls],
            daily_collected=[
                DailyRead(day=d.day, collected_fen=d.fen) for d in board.daily_collected
            ],
        )
