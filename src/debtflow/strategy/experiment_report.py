"""The champion / challenger report: each variant's outcomes over a period, with intervals.

Reads, per case the nightly run put in the experiment in force (open or closed since), what it
owed, what it recovered, its promises and complaints, and hands them to
:func:`debtflow.core.strategy.experiments.report` for the Wilson intervals and the Newcombe
differences against the control.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.core.errors import Conflict, InvalidInput
from debtflow.core.strategy.experiments import (
    CaseOutcome,
    Interval,
    RateComparison,
    VariantReport,
    report,
)
from debtflow.strategy import repository
from debtflow.strategy.rules import experiment_in_force


class NoExperiment(Conflict):
    code = "no_experiment"


@dataclass(frozen=True)
class ExperimentReport:
    key: str
    control: str
    starts_on: date
    first_day: date
    last_day: date
    """The period: local days first_day..last_day, both included."""
    variants: tuple[VariantReport, ...]
    complaints_made: dict[str, int]
    """All complaints per variant (the rate counts cases with at least one)."""


def experiment_report(
    session: Session, *, first_day: date | None = None, last_day: date | None = None, today: date
) -> ExperimentReport:
    """Outcomes per variant of the experiment in force over local days first_day..last_day
    (default: its start day to ``today``)."""
    plan = experiment_in_force()
    if plan is None:
        raise NoExperiment(
            "no experiment is configured: set DEBTFLOW_STRATEGY_EXPERIMENT to an experiment "
            "file (docs/strategy.md §4) and run `debtflow nightly`"
        )
    if first_day is None and last_day is None and today < plan.starts_on:
        raise NoExperiment(
            f"experiment {plan.key} starts on {plan.starts_on}: nothing to report before then"
        )
    first_day = first_day or plan.starts_on
    last_day = last_day or today
    if last_day < first_day:
        raise InvalidInput(f"--until {last_day} is before --since {first_day}")
    zone = ZoneInfo(get_settings().default_timezone)
    since = datetime.combine(first_day, time(0), zone)
    until = datetime.combine(last_day + timedelta(days=1), time(0), zone)
    key = plan.key
    cases = repository.experiment_cases(session, key=key)
    balances = repository.experiment_balances(session, key=key)
    # owed at the start of the period: the balance now plus what was paid off since
    paid_since = repository.experiment_recovered(session, key=key, since=since, until=None)
    recovered = repository.experiment_recovered(session, key=key, since=since, until=until)
    promises = repository.experiment_promises(
        session, key=key, first_day=first_day, last_day=last_day
    )
    complaints = repository.experiment_complaints(session, key=key, since=since, until=until)
    names = set(plan.variant_names)
    outcomes = []
    made: dict[str, int] = dict.fromkeys(plan.variant_names, 0)
    for case_id, variant in cases:
        if variant not in names:  # a variant removed from the file: not in this report
            continue
        promised, kept = promises.get(case_id, (0, 0))
        outcomes.append(
            CaseOutcome(
                variant=variant,
                owed_fen=balances.get(case_id, 0) + paid_since.get(case_id, 0),
                recovered_fen=recovered.get(case_id, 0),
                promises_made=promised,
                promises_kept=kept,
                complaints=complaints.get(case_id, 0),
            )
        )
        made[variant] += complaints.get(case_id, 0)
    return ExperimentReport(
        key=key,
        control=plan.experiment.control,
        starts_on=plan.starts_on,
        first_day=first_day,
        last_day=last_day,
        variants=report(plan.experiment, outcomes),
        complaints_made=made,
    )


def _number(value: float) -> float | None:
    """NaN (an empty variant, no promise due) as None: JSON has no NaN."""
    return None if math.isnan(value) else value


def _interval(interval: Interval | None) -> dict[str, float | None] | None:
    """None where there is nothing to estimate (no trials, or none in the control)."""
    if interval is None or math.isnan(interval.estimate):
        return None
    return {
        "estimate": _number(interval.estimate),
        "low": _number(interval.low),
        "high": _number(interval.high),
    }


def _rate(comparison: RateComparison) -> dict[str, Any]:
    return {
        "successes": comparison.successes,
        "trials": comparison.trials,
        "rate": _interval(comparison.rate),
        "difference_vs_control": _interval(comparison.difference_vs_control),
    }


def report_json(result: ExperimentReport) -> dict[str, Any]:
    """The report as plain JSON values: no NaN (None), money in integer fen."""
    return {
        "experiment": result.key,
        "control": result.control,
        "starts_on": result.starts_on.isoformat(),
        "since": result.first_day.isoformat(),
        "until": result.last_day.isoformat(),
        "variants": [
            {
                "variant": row.variant,
                "control": row.variant == result.control,
                "cases": row.cases,
                "owed_fen": row.owed_fen,
                "recovered_fen": row.recovered_fen,
                "amount_recovery_rate": _number(row.amount_recovery_rate),
                "recovery": _rate(row.recovery),
                "promise_kept": _rate(row.promise_kept),
                "complaints": {
                    **_rate(row.complaints),
                    "made": result.complaints_made[row.variant],
                },
            }
            for row in result.variants
        ],
    }
