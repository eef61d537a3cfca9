"""Match-value throughput: pairs scored per second, against a plain-Python baseline.

    python benchmarks/bench_match.py [--cases 20000] [--collectors 2000] [--per-case 50]

Builds a synthetic portfolio (seeded), scores cases × per-case sparse candidates with
the vectorised scorer (`score_pairs`, reasons included), and scores a sample of the
same pairs one by one in plain Python through the same code path (one pair per call) as
the baseline measured in the same run. Prints pairs/second for both and the speed-up.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import numpy as np

from debtflow.core.dispatch.features import (
    CaseProfile,
    Channel,
    CollectorProfile,
    CollectorType,
    ProductType,
    Segment,
    case_context,
    tabulate,
)
from debtflow.core.dispatch.geo import GeoPoint
from debtflow.core.dispatch.learner import DispatchOutcome, OutcomeLearner
from debtflow.core.dispatch.match import score_pairs

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def portfolio(
    cases: int, collectors: int, seed: int
) -> tuple[list[CaseProfile], list[CollectorProfile]]:
    rng = np.random.default_rng(seed)
    regions = [f"region-{i}" for i in range(40)]
    industries = ["catering", "retail", "logistics", "textiles", "farming"]
    emotions = ["angry", "calm", "anxious", "hesitant"]
    case_list = [
        CaseProfile(
            case_id=i,
            days_past_due=int(rng.integers(1, 720)),
            balance_fen=int(rng.integers(50_000, 20_000_000)),
            segment=Segment(rng.choice([s.value for s in Segment])),
            propensity=float(rng.random()),
            product=ProductType(rng.choice([p.value for p in ProductType])),
            region=str(rng.choice(regions)),
            reachable=frozenset({Channel.PHONE, Channel.SMS, Channel.VISIT}),
            industry=str(rng.choice(industries)),
            dialect=str(rng.choice(["wu", "yue", "min", "mandarin"])),
            location=GeoPoint(28 + 4 * rng.random(), 118 + 4 * rng.random()),
            emotions={str(rng.choice(emotions)): int(rng.integers(1, 4))},
            intents={"evade": int(rng.integers(0, 2)), "promise": 1},
        )
        for i in range(cases)
    ]
    kinds = list(CollectorType)
    collector_list = [
        CollectorProfile(
            collector_id=10_000 + k,
            kind=kinds[k % len(kinds)],
            regions=frozenset(str(r) for r in rng.choice(regions, size=3, replace=False)),
            channels=frozenset({Channel.PHONE, Channel.SMS})
            if k % 4 != 1
            else frozenset({Channel.VISIT}),
            open_cases=int(rng.integers(0, 120)),
            capacity_cases=100,
            cost_per_case_fen=int(rng.integers(1_000, 20_000)),
            style_tags=frozenset({"communicative"}) if rng.random() < 0.4 else frozenset(),
            legal_skill=float(rng.random()),
            industries=frozenset({str(rng.choice(industries))}),
            dialects=frozenset({str(rng.choice(["wu", "yue", "min", "mandarin"]))}),
            location=GeoPoint(28 + 4 * rng.random(), 118 + 4 * rng.random()),
            cost_per_km_fen=100 if k % 4 == 1 else 0,
        )
        for k in range(collectors)
    ]
    return case_list, collector_list


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--collectors", type=int, default=2_000)
    parser.add_argument("--per-case", type=int, default=50)
    parser.add_argument("--baseline-pairs", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    cases, collectors = portfolio(args.cases, args.collectors, args.seed)
    started = time.perf_counter()
    case_table, collector_table = tabulate(cases, collectors, scene_time=NOW)
    tabulate_s = time.perf_counter() - started
    rng = np.random.default_rng(args.seed)
    case_index = np.repeat(np.arange(args.cases, dtype=np.int64), args.per_case)
    collector_index = rng.integers(0, args.collectors, size=len(case_index)).astype(np.int64)
    pairs = len(case_index)

    learner = OutcomeLearner(seed=args.seed)
    context = case_context(case_table, np.arange(min(args.cases, 5_000)))
    for row in range(len(context)):
        learner.record(
            collector_id=collectors[row % args.collectors].collector_id,
            context=context[row],
            prior_probability=0.3,
            outcome=DispatchOutcome(balance_fen=100_000, recovered_fen=int(row % 3) * 30_000),
        )

    started, cpu = time.perf_counter(), time.process_time()
    scores = score_pairs(case_table, collector_table, case_index, collector_index, scene_time=NOW)
    vector_s, vector_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    score_pairs(
        case_table,
        collector_table,
        case_index,
        collector_index,
        scene_time=NOW,
        learner=learner,
        explore=True,
    )
    learned_s, learned_cpu = time.perf_counter() - started, time.process_time() - cpu

    sample = min(args.baseline_pairs, pairs)
    started = time.perf_counter()
    for p in range(sample):
        score_pairs(
            case_table,
            collector_table,
            case_index[p : p + 1],
            collector_index[p : p + 1],
            scene_time=NOW,
        )
    single_s = (time.perf_counter() - started) / sample

    print(f"portfolio: {args.cases} cases, {args.collectors} collectors, {pairs:,} pairs")
    print(f"tabulate profiles: {tabulate_s:.2f} s")
    print(
        f"vectorised, priors only:       {vector_s:.2f} s wall, {vector_cpu:.2f} s CPU "
        f"({pairs / vector_s:,.0f} pairs/s wall)"
    )
    print(
        f"vectorised, learner + explore: {learned_s:.2f} s wall, {learned_cpu:.2f} s CPU "
        f"({pairs / learned_s:,.0f} pairs/s wall)"
    )
    print(
        f"one pair per call (baseline): {single_s * 1e6:.0f} µs/pair ({1 / single_s:,.0f} pairs/s)"
    )
    print(f"speed-up of the vectorised scorer: {single_s * pairs / vector_s:,.0f}x")
    print(f"mean value: ¥{scores.value_fen.mean() / 100:,.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
