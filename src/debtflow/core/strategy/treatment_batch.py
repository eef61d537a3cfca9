"""Vectorised treatment for the nightly cycle: the headline of every case's offer at once.

:func:`propose_many` gives, for arrays of cases, the same term, relief, down payment, first
payment, heaviest instalment, burden change and mandate verdict as
:func:`debtflow.core.strategy.treatment.propose_plan` gives one case at a time, with integer
numpy arithmetic (no float touches money).  The full month-by-month schedule is built with
:func:`~debtflow.core.strategy.treatment.make_offer` when a plan is shown or signed.

Amounts up to :data:`MAX_BATCH_FEN` (100 million yuan) are computed in int64 without overflow;
larger rows are rejected so the caller can treat them one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from debtflow.core.strategy.schedules import (
    FACTOR_SCALE,
    RATE_SCALE,
    GraceInterest,
    ScheduleMethod,
    annuity_factor,
    rate_units,
)
from debtflow.core.strategy.segmentation import SEGMENT_ORDER
from debtflow.core.strategy.treatment import (
    BP,
    Mandate,
    PlanRule,
    TreatmentKind,
    TreatmentRules,
)

MAX_BATCH_FEN = 10**10
Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BREACH_RELIEF = 1
BREACH_TERM = 2
BREACH_FIRST_PAYMENT = 4
"""Bits of :attr:`BatchPlans.breaches` (0 = keeps to the mandate)."""

KIND_ORDER: tuple[TreatmentKind, ...] = tuple(TreatmentKind)


@dataclass(frozen=True)
class DebtColumns:
    principal_fen: Int64Array
    interest_fen: Int64Array
    penalty_fen: Int64Array
    current_monthly_fen: Int64Array

    def __post_init__(self) -> None:
        arrays = (self.principal_fen, self.interest_fen, self.penalty_fen, self.current_monthly_fen)
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1 or len(next(iter(shapes))) != 1:
            raise ValueError("debt columns must be 1-D arrays of the same length")
        for array in arrays:
            if array.dtype != np.int64:
                raise ValueError("debt columns must be int64 fen")
            if array.size and (int(array.min()) < 0 or int(array.max()) > MAX_BATCH_FEN):
                raise ValueError(f"amounts must be between 0 and {MAX_BATCH_FEN} fen")


@dataclass(frozen=True)
class BatchPlans:
    kind: npt.NDArray[np.int8]
    """Index into :data:`KIND_ORDER`."""
    term_months: Int64Array
    """Plan length including grace months (0 for legal treatment)."""
    repayment_months: Int64Array
    relief_fen: Int64Array
    down_payment_fen: Int64Array
    first_payment_fen: Int64Array
    largest_instalment_fen: Int64Array
    burden_change_bp: Int64Array
    """Heaviest instalment against the current monthly payment (0 where not comparable)."""
    breaches: npt.NDArray[np.int8]
    """0 = offer keeps to the mandate; else BREACH_* bits (the offer is refused)."""


def _half_up(numerator: Int64Array, denominator: int) -> Int64Array:
    return (2 * numerator + denominator) // (2 * denominator)


def _interest(balance: Int64Array, rate: int) -> Int64Array:
    return _half_up(balance * rate, RATE_SCALE)


def _annuity_payment(financed: Int64Array, factor: int) -> Int64Array:
    # financed * factor / 1e12 half-up, split so that no product leaves int64
    high, low = np.divmod(financed, 10**6)
    q, r = np.divmod(high * factor, 10**6)
    remainder = r * 10**6 + low * factor
    return q + _half_up(remainder, FACTOR_SCALE)


def _schedule_headline(
    financed: Int64Array, rule: PlanRule, months: int
) -> tuple[Int64Array, Int64Array]:
    """(first repayment instalment, heaviest instalment after grace) for ``months``."""
    rate = rate_units(rule.monthly_rate)
    ceiling = (financed + months - 1) // months
    if rate == 0:
        return ceiling, ceiling
    if rule.method is ScheduleMethod.EQUAL_PRINCIPAL:
        first = ceiling + _interest(financed, rate)
        return first, first
    if months == 1:
        only = financed + _interest(financed, rate)
        return only, only
    payment = _annuity_payment(financed, annuity_factor(rate, months))
    first, largest, early = _annuity_run(financed, payment, rate, months)
    # as ``schedules.build_schedule``: one fen less while the loan would be repaid
    # before its last month (rare: long terms at high rates)
    early &= payment > _interest(financed, rate)
    while early.any():
        rows = np.flatnonzero(early)
        payment[rows] -= 1
        first[rows], largest[rows], again = _annuity_run(
            financed[rows], payment[rows], rate, months
        )
        early[:] = False
        early[rows] = again & (payment[rows] > _interest(financed[rows], rate))
    return first, largest


def _annuity_run(
    financed: Int64Array, payment: Int64Array, rate: int, months: int
) -> tuple[Int64Array, Int64Array, BoolArray]:
    """(first instalment, heaviest instalment, repaid before the last month) at ``payment``."""
    balance = financed.copy()
    first = np.zeros_like(financed)
    largest = np.zeros_like(financed)
    early = np.zeros(financed.shape, dtype=bool)
    for k in range(months - 1):
        interest = _interest(balance, rate)
        part = np.minimum(payment - interest, balance)
        if k == 0:
            first = part + interest
        largest = np.maximum(largest, part + interest)
        balance -= part
        early |= balance == 0
    largest = np.maximum(largest, balance + _interest(balance, rate))
    return first, largest, early & (financed > 0)


def _terms_and_first(
    financed: Int64Array, down: Int64Array, debts: DebtColumns, rule: PlanRule
) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array]:
    """(term chosen, its heaviest instalment, first repayment instalment, first payment)."""
    n = financed.shape[0]
    chosen = np.full(n, rule.terms[-1], dtype=np.int64)
    first = np.zeros(n, dtype=np.int64)
    largest = np.zeros(n, dtype=np.int64)
    undecided = np.ones(n, dtype=bool)
    for months in rule.terms:
        term_first, term_largest = _schedule_headline(financed, rule, months)
        fits = undecided & (term_largest * BP <= rule.target_burden_bp * debts.current_monthly_fen)
        is_last = months == rule.terms[-1]
        take = undecided if is_last else fits
        chosen[take] = months
        first[take] = term_first[take]
        largest[take] = term_largest[take]
        undecided &= ~take
    if rule.grace_months:
        rate = rate_units(rule.monthly_rate)
        if rule.grace_interest is GraceInterest.INTEREST_ONLY:
            first = _interest(financed, rate)
        else:
            first = np.zeros(n, dtype=np.int64)
    return chosen, largest, first, np.where(down > 0, down, first)


def _plan_segment(
    debts: DebtColumns, rule: PlanRule, mandate: Mandate, minimum: Int64Array
) -> tuple[Int64Array, ...]:
    total = debts.principal_fen + debts.interest_fen + debts.penalty_fen
    relief = (
        debts.interest_fen * rule.interest_relief_bp // BP
        + debts.penalty_fen * rule.penalty_relief_bp // BP
    )
    due = total - relief
    down = due * rule.down_payment_bp // BP
    chosen, largest, first, first_payment = _terms_and_first(due - down, down, debts, rule)
    # as ``treatment.make_offer``: a first payment that is not an ordinary instalment (a
    # down payment, a grace month) is raised to the creditor's minimum, then terms redone
    raise_down = (
        (first_payment < minimum) & (minimum < due)
        if rule.down_payment_bp or rule.grace_months
        else np.zeros(due.shape[0], dtype=bool)
    )
    if raise_down.any():
        down = np.where(raise_down, minimum, down)
        chosen, largest, first, first_payment = _terms_and_first(due - down, down, debts, rule)
    term = chosen + rule.grace_months
    breaches = (
        np.where(relief * BP > mandate.max_relief_bp * total, BREACH_RELIEF, 0)
        | np.where(term > mandate.max_term_months, BREACH_TERM, 0)
        | np.where(first_payment < minimum, BREACH_FIRST_PAYMENT, 0)
    )
    current = debts.current_monthly_fen
    delta = largest - current
    safe_current = np.maximum(current, 1)
    magnitude = (2 * np.abs(delta) * BP + safe_current) // (2 * safe_current)
    burden = np.where(current > 0, np.sign(delta) * magnitude, 0)
    verdict = np.asarray(breaches, dtype=np.int64)
    return term, chosen, relief, down, first_payment, largest, burden.astype(np.int64), verdict


def propose_many(
    segment: npt.NDArray[np.int8],
    debts: DebtColumns,
    mandate: Mandate,
    rules: TreatmentRules,
    min_first_payment_fen: Int64Array | None = None,
) -> BatchPlans:
    """Offer headlines for every case; ``segment`` indexes :data:`SEGMENT_ORDER`.
    ``min_first_payment_fen`` gives the creditor's minimum first payment per case (default:
    the mandate's, for every case)."""
    n = segment.shape[0]
    if debts.principal_fen.shape[0] != n:
        raise ValueError("segment and debt columns must have the same length")
    minimum = (
        np.full(n, mandate.min_first_payment_fen, dtype=np.int64)
        if min_first_payment_fen is None
        else np.asarray(min_first_payment_fen, dtype=np.int64)
    )
    if minimum.shape != (n,):
        raise ValueError("one minimum first payment per case")
    kind = np.zeros(n, dtype=np.int8)
    columns = [np.zeros(n, dtype=np.int64) for _ in range(7)]
    breaches = np.zeros(n, dtype=np.int8)
    for index, seg in enumerate(SEGMENT_ORDER):
        rows = np.flatnonzero(segment == index)
        rule = rules.by_segment[seg]
        kind[rows] = KIND_ORDER.index(rule.kind)
        if rule.kind is TreatmentKind.LEGAL or rows.size == 0:
            continue
        subset = DebtColumns(
            debts.principal_fen[rows],
            debts.interest_fen[rows],
            debts.penalty_fen[rows],
            debts.current_monthly_fen[rows],
        )
        *values, verdict = _plan_segment(subset, rule, mandate, minimum[rows])
        for column, value in zip(columns, values, strict=True):
            column[rows] = value
        breaches[rows] = verdict
    term, repayment, relief, down, first, largest, burden = columns
    return BatchPlans(
        kind=kind,
        term_months=term,
        repayment_months=repayment,
        relief_fen=relief,
        down_payment_fen=down,
        first_payment_fen=first,
        largest_instalment_fen=largest,
        burden_change_bp=burden,
        breaches=breaches,
    )
