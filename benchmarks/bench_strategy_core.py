"""Score + segment + treat for N synthetic cases in memory, beside raw model prediction time.

    .venv/bin/python benchmarks/bench_strategy_core.py [--cases 1000000] [--model PATH]

Without --model a model is trained first from the shipped UCI data (2-fold calibration, not
timed).  Every figure is measured in this run; the ratio compares the whole pure-core pipeline
with the booster's raw prediction on the same feature matrix.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from debtflow.cli.model import read_uci_file
from debtflow.core.strategy import propensity
from debtflow.core.strategy.features import RepaymentHistory, build_features
from debtflow.core.strategy.segmentation import (
    SEGMENT_ORDER,
    CaseColumns,
    OverdueCause,
    segment_many,
    shipped_rules,
)
from debtflow.core.strategy.treatment import Mandate, shipped_treatment_rules
from debtflow.core.strategy.treatment_batch import DebtColumns, propose_many

ROOT = Path(__file__).resolve().parents[1]


def synthetic_portfolio(
    source: RepaymentHistory, n: int, seed: int
) -> tuple[RepaymentHistory, CaseColumns, DebtColumns]:
    """Real UCI histories drawn with replacement, amounts jittered; random case fields."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, source.cases, n)
    jitter = rng.uniform(0.9, 1.1, (n, 1))
    status = source.status[rows]
    history = RepaymentHistory(
        status=status,
        statement_amount=(source.statement_amount[rows] * jitter).astype(np.int64),
        paid_amount=(source.paid_amount[rows] * jitter).astype(np.int64),
        credit_limit=(source.credit_limit[rows] * jitter[:, 0]).astype(np.int64),
        age_years=source.age_years[rows],
    )
    # cause shares: unemployment, illness, business downturn, deliberate, unknown
    cause = rng.choice(len(OverdueCause), n, p=[0.12, 0.06, 0.08, 0.09, 0.65])
    cases = CaseColumns(
        days_past_due=np.minimum(rng.geometric(1 / 60, n), 720).astype(np.int64),
        overdue_cause=cause.astype(np.int8),
        failed_contact_streak=rng.geometric(0.45, n).astype(np.int64) - 1,
        broken_promises=rng.poisson(0.6, n).astype(np.int64),
        late_months=(status > 0).sum(axis=1).astype(np.int64),
        propensity=np.zeros(n),  # filled by the score step
        income_stable=rng.random(n) < 0.4,
    )
    principal = rng.integers(100_000, 20_000_000, n)
    debts = DebtColumns(
        principal_fen=principal,
        interest_fen=principal * rng.integers(0, 2_000, n) // 10_000,
        penalty_fen=principal * rng.integers(0, 500, n) // 10_000,
        current_monthly_fen=np.maximum(principal // rng.integers(3, 24, n), 1),
    )
    return history, cases, debts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2, help="booster threads (0 = all)")
    args = parser.parse_args()

    labelled = read_uci_file(ROOT / "data/credit/uci_credit_card_train.csv")
    if args.model:
        model = propensity.load(args.model)
    else:
        model = propensity.train(labelled.history, labelled.pay, folds=2)
    history, cases, debts = synthetic_portfolio(labelled.history, args.cases, args.seed)
    segment_rules, treatment_rules = shipped_rules(), shipped_treatment_rules()
    mandate = Mandate(max_relief_bp=1_500, max_term_months=40, min_first_payment_fen=10_000)

    features = build_features(history)
    start, cpu = time.perf_counter(), time.process_time()
    model.booster.predict(features, raw_score=True, num_threads=args.threads)
    raw_seconds = time.perf_counter() - start
    raw_cpu = time.process_time() - cpu

    timings: dict[str, float] = {}
    pipeline_cpu = time.process_time()
    start = time.perf_counter()
    probability = model.score(history, threads=args.threads)
    timings["score (features + booster + calibration)"] = time.perf_counter() - start

    start = time.perf_counter()
    scored = CaseColumns(**{**cases.__dict__, "propensity": probability})
    segmented = segment_many(scored, segment_rules)
    timings["segment (segmentation-v1, 9 rules)"] = time.perf_counter() - start

    start = time.perf_counter()
    plans = propose_many(segmented.segment, debts, mandate, treatment_rules)
    timings["treat (treatment-v1 + mandate)"] = time.perf_counter() - start

    total = sum(timings.values())
    pipeline_cpu = time.process_time() - pipeline_cpu
    print(f"cases: {args.cases:,}")
    print(f"raw model prediction (booster only, same rows): {raw_seconds:8.2f} s")
    for name, seconds in timings.items():
        print(f"{name:<45} {seconds:8.2f} s")
    print(f"{'score + segment + treat':<45} {total:8.2f} s")
    print(f"ratio pipeline / raw prediction (wall): {total / raw_seconds:.2f}")
    print(
        f"CPU seconds: raw prediction {raw_cpu:.2f}, pipeline {pipeline_cpu:.2f} "
        f"(ratio {pipeline_cpu / raw_cpu:.2f}; wall time on a shared machine varies)"
    )
    print(f"cases per second (pipeline): {args.cases / total:,.0f}")
    shares = np.bincount(segmented.segment, minlength=len(SEGMENT_ORDER)) / args.cases
    print(
        "segments: "
        + ", ".join(f"{s.value} {p:.1%}" for s, p in zip(SEGMENT_ORDER, shares, strict=True))
    )
    offered = (plans.breaches == 0) & (plans.term_months > 0)
    print(
        f"offers within mandate: {offered.mean():.1%}; refused: {(plans.breaches != 0).mean():.1%}"
    )


if __name__ == "__main__":
    main()
