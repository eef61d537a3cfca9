"""Platform-scale assignment: min-cost flow, Lagrangian prices, greedy baseline."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from debtflow.core.dispatch.assignment import (
    NO_COLLECTOR,
    AssignmentInputError,
    AssignmentPolicy,
    CandidateTable,
    greedy_assignment,
    lp_bound,
    plan_objective,
    solve_assignment,
    solve_with_min_cost_flow,
    solve_with_prices,
)
from debtflow.core.dispatch.synthetic import synthetic_table


def _table(
    collector: list[list[int]],
    value: list[list[int]],
    effort: list[float],
    capacity: list[float],
    current: list[int] | None = None,
) -> CandidateTable:
    return CandidateTable(
        collector=np.array(collector, dtype=np.int32),
        value_fen=np.array(value, dtype=np.int64),
        effort_hours=np.array(effort, dtype=np.float64),
        capacity_hours=np.array(capacity, dtype=np.float64),
        current_collector=None if current is None else np.array(current, dtype=np.int32),
    )


def test_uniform_efforts_use_min_cost_flow_and_reach_the_lp_optimum() -> None:
    drawn = synthetic_table(600, 12, 5, seed=3, uniform_effort=True)
    # capacities in whole cases, so that the LP relaxation is integral
    table = replace(drawn, capacity_hours=np.floor(drawn.capacity_hours / 0.3) * 0.3)
    plan = solve_assignment(table)
    assert plan.method == "min_cost_flow"
    assert plan.objective == pytest.approx(lp_bound(table), rel=1e-9)
    assert plan.objective >= plan_objective(table, AssignmentPolicy(), greedy_assignment(table))[1]


def test_general_efforts_stay_close_to_the_lp_bound_and_beat_greedy() -> None:
    table = synthetic_table(3000, 30, 8, seed=5)
    policy = AssignmentPolicy()
    plan = solve_assignment(table, policy)
    assert plan.method == "lagrangian_prices"
    lp = lp_bound(table, policy)
    # the Lagrangian bound is a valid bound: never below the LP optimum
    assert plan.upper_bound >= lp - 1e-6 * lp
    assert plan.objective <= lp + 1e-6
    assert plan.objective >= 0.98 * lp
    greedy = plan_objective(table, policy, greedy_assignment(table, policy))[1]
    assert plan.objective > greedy


def test_plans_never_exceed_capacity_and_only_use_candidates() -> None:
    table = synthetic_table(2000, 20, 6, seed=9)
    plan = solve_with_prices(table, AssignmentPolicy())
    assert (plan.load_hours <= table.capacity_hours + 1e-9).all()
    assigned = plan.collector_of_case != NO_COLLECTOR
    rows = np.nonzero(assigned)[0]
    assert (table.collector[rows] == plan.collector_of_case[rows, None]).any(axis=1).all()
    # total effort exceeds total capacity, so some cases must wait
    assert 0 < plan.assigned < table.cases


def test_runner_up_is_the_best_other_candidate() -> None:
    table = _table([[0, 1, 2]], [[500, 900, 700]], [1.0], [5, 5, 5])
    plan = solve_assignment(table)
    assert plan.collector_of_case.tolist() == [1]
    assert plan.runner_up_of_case.tolist() == [2]


@pytest.mark.parametrize("solver", [solve_with_min_cost_flow, solve_with_prices])
def test_case_moves_only_when_the_gain_beats_the_continuity_threshold(solver: object) -> None:
    table = _table([[0, 1]], [[1_000, 1_300]], [1.0], [5, 5], current=[0])
    stays = solver(table, AssignmentPolicy(continuity_threshold_fen=500))  # type: ignore[operator]
    moves = solver(table, AssignmentPolicy(continuity_threshold_fen=200))  # type: ignore[operator]
    assert stays.collector_of_case.tolist() == [0]
    assert moves.collector_of_case.tolist() == [1]
    assert stays.value_fen == 1_000 and moves.value_fen == 1_300


@pytest.mark.parametrize("uniform", [True, False])
def test_fairness_penalty_spreads_load_from_the_favourite_collector(uniform: bool) -> None:
    efforts = [1.0] * 4 if uniform else [1.0, 1.1, 0.9, 1.0]
    table = _table([[0, 1]] * 4, [[1_000, 900]] * 4, efforts, [4.4, 4.4])
    unfair = solve_assignment(table, AssignmentPolicy())
    fair = solve_assignment(
        table, AssignmentPolicy(fair_share=0.5, fairness_penalty_fen_per_hour=500)
    )
    assert np.bincount(unfair.collector_of_case, minlength=2).tolist() == [4, 0]
    assert np.bincount(fair.collector_of_case, minlength=2).tolist() == [2, 2]


def test_cases_with_no_positive_value_stay_in_the_queue() -> None:
    table = _table([[0, 1], [0, -1]], [[-5, 0], [300, 0]], [1.0, 1.0], [5, 5])
    plan = solve_assignment(table)
    assert plan.collector_of_case.tolist() == [NO_COLLECTOR, 0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"effort_hours": np.array([0.0])}, "positive"),
        ({"capacity_hours": np.array([-1.0, 2.0])}, "non-negative"),
        ({"collector": np.array([[0, 7]], dtype=np.int32)}, "does not exist"),
        ({"value_fen": np.array([[1, 2, 3]])}, "one shape"),
        ({"current_collector": np.array([4], dtype=np.int32)}, "does not exist"),
    ],
)
def test_inconsistent_input_is_rejected(change: dict[str, np.ndarray], message: str) -> None:
    base = _table([[0, 1]], [[10, 20]], [1.0], [2.0, 2.0])
    fields = {
        "collector": base.collector,
        "value_fen": base.value_fen,
        "effort_hours": base.effort_hours,
        "capacity_hours": base.capacity_hours,
        "current_collector": None,
    }
    fields.update(change)
    with pytest.raises(AssignmentInputError, match=message):
        solve_assignment(CandidateTable(**fields))


def test_bad_policy_is_rejected() -> None:
    table = _table([[0]], [[10]], [1.0], [2.0])
    with pytest.raises(AssignmentInputError, match="fair_share"):
        solve_assignment(table, AssignmentPolicy(fair_share=0.0))
    with pytest.raises(AssignmentInputError, match="threshold"):
        solve_assignment(table, AssignmentPolicy(continuity_threshold_fen=-1))


def test_plan_objective_refuses_an_overloaded_plan() -> None:
    table = _table([[0], [0]], [[10], [10]], [1.0, 1.0], [1.5])
    with pytest.raises(AssignmentInputError, match="beyond capacity"):
        plan_objective(table, AssignmentPolicy(), np.array([0, 0], dtype=np.int32))


# ------------------------------------- min-cost flow with a fair share, against a MILP


def _milp_optimum(table: CandidateTable, policy: AssignmentPolicy) -> float:
    """The exact optimum of what plan_objective charges (scipy's HiGHS MILP): binary pairs,
    per collector the hours above its fair share (continuous, >= 0) at the penalty."""
    from scipy.optimize import LinearConstraint, milp

    collector = table.collector
    rows, slots = np.nonzero(collector != NO_COLLECTOR)
    adjusted = table.value_fen[rows, slots].astype(np.float64)
    if table.current_collector is not None:
        keeps = collector[rows, slots] == table.current_collector[rows]
        adjusted += keeps * float(policy.continuity_threshold_fen)
    pairs, c = rows.size, table.collectors
    cost = np.concatenate([-adjusted, np.full(c, float(policy.fairness_penalty_fen_per_hour))])
    one_each = np.zeros((table.cases, pairs + c))
    one_each[rows, np.arange(pairs)] = 1.0
    hours = np.zeros((c, pairs + c))
    hours[collector[rows, slots], np.arange(pairs)] = table.effort_hours[rows]
    over = hours.copy()
    over[np.arange(c), pairs + np.arange(c)] = -1.0
    result = milp(
        cost,
        constraints=[
            LinearConstraint(one_each, -np.inf, 1.0),
            LinearConstraint(hours, -np.inf, table.capacity_hours),
            LinearConstraint(over, -np.inf, policy.fair_share * table.capacity_hours),
        ],
        integrality=np.concatenate([np.ones(pairs), np.zeros(c)]),
        bounds=(0.0, np.concatenate([np.ones(pairs), np.full(c, np.inf)])),
    )
    assert result.status == 0, result.message
    return float(-result.fun)


def test_the_reviewers_instance_is_solved_exactly_with_an_honest_bound() -> None:
    table = _table(
        [[2], [4], [3], [2], [4]],
        [[410], [-155], [-118], [1559], [61]],
        [1.0] * 5,
        [0, 0, 1, 1, 0],
        [-1, -1, 3, -1, -1],
    )
    policy = AssignmentPolicy(
        continuity_threshold_fen=298, fair_share=0.9, fairness_penalty_fen_per_hour=371
    )
    optimum = _milp_optimum(table, policy)
    assert optimum == pytest.approx(1664.8)
    plan = solve_with_min_cost_flow(table, policy)
    assert plan.objective == pytest.approx(optimum)  # it kept 1521.9 before
    assert plan.upper_bound >= optimum - 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_flow_plans_meet_the_milp_optimum_and_bound_it_with_fairness(seed: int) -> None:
    """plan <= optimum <= upper_bound, and the plan is within rounding (< 1 fen per
    collector) of the optimum, on small random instances with the fairness term on."""
    rng = np.random.default_rng(seed)
    gaps = 0
    for _ in range(100):
        n, c = int(rng.integers(1, 8)), int(rng.integers(1, 5))
        k = int(rng.integers(1, c + 1))
        collector = np.array(
            [rng.choice(c, size=k, replace=False) for _ in range(n)], dtype=np.int32
        )
        effort = float(rng.choice([0.25, 0.3, 1.0, 1.5]))
        table = CandidateTable(
            collector=collector,
            value_fen=rng.integers(-300, 2_000, size=(n, k)).astype(np.int64),
            effort_hours=np.full(n, effort),
            capacity_hours=rng.integers(0, 4, size=c) * effort * float(rng.choice([1.0, 1.3])),
            current_collector=np.where(
                rng.random(n) < 0.4, rng.integers(0, c, size=n), NO_COLLECTOR
            ).astype(np.int32),
        )
        policy = AssignmentPolicy(
            continuity_threshold_fen=int(rng.integers(0, 400)),
            fair_share=float(rng.choice([0.5, 0.75, 0.85, 0.9])),
            fairness_penalty_fen_per_hour=int(rng.integers(1, 600)),
        )
        optimum = _milp_optimum(table, policy)
        plan = solve_with_min_cost_flow(table, policy)
        assert plan.objective <= optimum + 1e-6
        assert optimum <= plan.upper_bound + 1e-6
        assert optimum - plan.objective < c  # floors of fractional penalties only
        assert plan.upper_bound - plan.objective < c
        gaps += plan.gap_to_bound > 0
    assert gaps < 100  # the bound is tight wherever the penalties are whole fen
