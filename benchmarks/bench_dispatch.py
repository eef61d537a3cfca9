"""Dispatch benchmark: platform-scale assignment and real-time placement.

    .venv/bin/python benchmarks/bench_dispatch.py                      # 1,000,000 x 5,000 x 30
    .venv/bin/python benchmarks/bench_dispatch.py --cases 100000 --collectors 1000   # quick

Synthetic, seeded table (``debtflow.core.dispatch.synthetic``): general efforts
(0.1-0.6 h), capacities sized so total effort is 1.3x total capacity. Prints:
* the greedy baseline (objective, seconds), measured in this run;
* the Lagrangian-price solver: seconds, objective, upper bound (LP relaxation value via
  the Lagrangian dual), gap to the bound and gain over greedy;
* with --flow: the same table with uniform efforts solved exactly by min-cost flow;
* real-time placement latency p50/p99 with --assigned cases already in memory.
Targets from issue 4: <= 120 s and <= 0.5 % from the LP bound; p99 <= 20 ms.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from debtflow.core.dispatch.assignment import (
    AssignmentPolicy,
    greedy_assignment,
    plan_objective,
    solve_with_min_cost_flow,
    solve_with_prices,
)
from debtflow.core.dispatch.realtime import RealtimeDispatcher
from debtflow.core.dispatch.synthetic import synthetic_table


def _realtime(
    plan_collectors: np.ndarray,
    efforts: np.ndarray,
    capacity: np.ndarray,
    prices: np.ndarray,
    candidates: np.ndarray,
    values: np.ndarray,
    assigned: int,
    events: int,
    policy: AssignmentPolicy,
) -> tuple[float, float, int]:
    dispatcher = RealtimeDispatcher(capacity, price_per_hour=prices, policy=policy)
    cases = np.arange(assigned, dtype=np.int64)
    dispatcher.load_plan(cases, plan_collectors[:assigned], efforts[:assigned])
    # Free a little room so that arrivals can be placed (closures during the day).
    for case in range(0, assigned, 20):
        if dispatcher.collector_of(case) >= 0:
            dispatcher.release(case)
    rng = np.random.default_rng(7)
    rows = rng.integers(0, candidates.shape[0], size=events)
    latencies = np.empty(events)
    placed = 0
    for index, row in enumerate(rows.tolist()):
        case_id = 10_000_000 + index
        begin = time.perf_counter()
        choice = dispatcher.assign(case_id, candidates[row], values[row], float(efforts[row]))
        latencies[index] = time.perf_counter() - begin
        placed += choice.collector >= 0
    return (
        float(np.percentile(latencies, 50) * 1000),
        float(np.percentile(latencies, 99) * 1000),
        placed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="dispatch benchmark")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--collectors", type=int, default=5_000)
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--assigned", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--flow", action="store_true", help="also run min-cost flow")
    parser.add_argument("--continuity-fen", type=int, default=0)
    arguments = parser.parse_args()
    policy = AssignmentPolicy(continuity_threshold_fen=arguments.continuity_fen)

    begin = time.perf_counter()
    table = synthetic_table(
        arguments.cases,
        arguments.collectors,
        arguments.candidates,
        seed=arguments.seed,
        with_current=arguments.continuity_fen > 0,
    )
    print(
        f"table: {arguments.cases:,} cases x {arguments.collectors:,} collectors x "
        f"{arguments.candidates} candidates, built in {time.perf_counter() - begin:.1f} s"
    )

    begin = time.perf_counter()
    greedy = greedy_assignment(table, policy)
    greedy_seconds = time.perf_counter() - begin
    _, greedy_objective, _ = plan_objective(table, policy, greedy)
    print(f"greedy baseline: objective {greedy_objective:,.0f} in {greedy_seconds:.1f} s")

    plan = solve_with_prices(table, policy)
    print(
        f"lagrangian prices: objective {plan.objective:,.0f} in {plan.seconds:.1f} s; "
        f"upper bound {plan.upper_bound:,.0f}; gap to bound {100 * plan.gap_to_bound:.3f} %; "
        f"vs greedy {100 * (plan.objective / greedy_objective - 1):+.3f} %; "
        f"assigned {plan.assigned:,} of {table.cases:,}"
    )

    if arguments.flow:
        uniform = synthetic_table(
            arguments.cases,
            arguments.collectors,
            arguments.candidates,
            seed=arguments.seed,
            uniform_effort=True,
        )
        begin = time.perf_counter()
        flow_plan = solve_with_min_cost_flow(uniform, policy)
        uniform_greedy = greedy_assignment(uniform, policy)
        _, uniform_greedy_objective, _ = plan_objective(uniform, policy, uniform_greedy)
        print(
            f"min-cost flow (uniform 0.3 h efforts): optimum {flow_plan.objective:,.0f} in "
            f"{flow_plan.seconds:.1f} s; greedy {uniform_greedy_objective:,.0f} "
            f"({100 * (flow_plan.objective / uniform_greedy_objective - 1):+.3f} %)"
        )
        del begin

    assigned = min(arguments.assigned, table.cases)
    p50, p99, placed = _realtime(
        plan.collector_of_case,
        table.effort_hours,
        table.capacity_hours,
        plan.price_per_hour,
        table.collector,
        table.value_fen,
        assigned,
        arguments.events,
        policy,
    )
    print(
        f"real time: {arguments.events:,} placements with {assigned:,} cases in memory: "
        f"p50 {p50:.3f} ms, p99 {p99:.3f} ms ({placed:,} placed, rest queued)"
    )


if __name__ == "__main__":
    main()
