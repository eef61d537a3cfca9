"""Platform-scale case-to-collector assignment over sparse top-k candidates.

Each case has up to k candidate collectors (eligibility by region and licence is already
applied: a collector that may not work the case is simply not a candidate), a value per
pair in fen (expected recovery less the cost of working it), and an effort in hours;
each collector has a weekly capacity in hours. The plan maximises

    sum of pair values
    + continuity bonus for every case left with its current collector
    - fairness penalty per hour a collector is loaded above its fair share of capacity

A case that fits nowhere (or whose values are all non-positive) stays unassigned, in the
queue. The continuity bonus is the threshold a move has to beat: a case moves only when
the new pair is worth more than the current one plus the threshold.

Two solvers:
* uniform efforts: min-cost flow (OR-Tools ``SimpleMinCostFlow``), exact but for fairness
  charges rounded down to whole fen, its optimum a proven upper bound;
* general efforts: Lagrangian prices per collector hour (market clearing on the
  relaxed capacities), a primal plan from those prices repaired to capacity, and the
  Lagrangian dual value as an upper bound equal to the LP relaxation bound at the optimum.

Both return, for each case, the runner-up collector (best other candidate under the
final prices) for the explanation shown to managers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]

NO_COLLECTOR = -1
_RAISE = 0.5
_ITERATIONS = 12
_FALL = 0.1


class AssignmentInputError(ValueError):
    """Inconsistent candidate table, efforts or capacities."""


@dataclass(frozen=True)
class CandidateTable:
    """Sparse top-k candidates. Row j is case j, slot s one candidate:
    ``collector[j, s]`` (``NO_COLLECTOR`` for an empty slot) and ``value_fen[j, s]``.
    ``current_collector[j]`` is the case's collector today (``NO_COLLECTOR`` if new)."""

    collector: Int32Array
    value_fen: IntArray
    effort_hours: FloatArray
    capacity_hours: FloatArray
    current_collector: Int32Array | None = None

    @property
    def cases(self) -> int:
        return int(self.collector.shape[0])

    @property
    def collectors(self) -> int:
        return int(self.capacity_hours.shape[0])

    def validate(self) -> None:
        if self.collector.ndim != 2 or self.collector.shape != self.value_fen.shape:
            raise AssignmentInputError("collector and value_fen must be (cases, k) of one shape")
        if self.effort_hours.shape != (self.cases,):
            raise AssignmentInputError("effort_hours needs one entry per case")
        if self.capacity_hours.ndim != 1:
            raise AssignmentInputError("capacity_hours needs one entry per collector")
        if not np.isfinite(self.effort_hours).all() or (self.effort_hours <= 0).any():
            raise AssignmentInputError("every effort must be a positive number of hours")
        if not np.isfinite(self.capacity_hours).all() or (self.capacity_hours < 0).any():
            raise AssignmentInputError("capacities must be non-negative hours")
        if (self.collector < NO_COLLECTOR).any() or (self.collector >= self.collectors).any():
            raise AssignmentInputError("a candidate names a collector that does not exist")
        if self.current_collector is not None:
            current = self.current_collector
            if current.shape != (self.cases,):
                raise AssignmentInputError("current_collector needs one entry per case")
            if (current < NO_COLLECTOR).any() or (current >= self.collectors).any():
                raise AssignmentInputError("a current collector does not exist")


@dataclass(frozen=True)
class AssignmentPolicy:
    """``continuity_threshold_fen``: what a move must gain to happen.
    ``fair_share``: share of capacity above which each extra hour costs
    ``fairness_penalty_fen_per_hour`` (1.0 = no fairness term)."""

    continuity_threshold_fen: int = 0
    fair_share: float = 1.0
    fairness_penalty_fen_per_hour: int = 0

    def validate(self) -> None:
        if self.continuity_threshold_fen < 0:
            raise AssignmentInputError("the continuity threshold cannot be negative")
        if not 0.0 < self.fair_share <= 1.0:
            raise AssignmentInputError("fair_share must be in (0, 1]")
        if self.fairness_penalty_fen_per_hour < 0:
            raise AssignmentInputError("the fairness penalty cannot be negative")


@dataclass(frozen=True)
class AssignmentPlan:
    """``collector_of_case`` / ``runner_up_of_case``: collector index or NO_COLLECTOR.
    ``value_fen``: sum of the chosen pairs' values. ``objective``: what was maximised
    (values + continuity bonus - fairness penalty), ``upper_bound`` a proven bound on it.
    ``price_per_hour``: the final Lagrangian price of an hour of each collector (zero
    for min-cost flow), reused by real-time assignment."""

    collector_of_case: Int32Array
    runner_up_of_case: Int32Array
    value_fen: int
    objective: float
    upper_bound: float
    load_hours: FloatArray
    price_per_hour: FloatArray
    method: str
    seconds: float

    @property
    def gap_to_bound(self) -> float:
        """Relative distance to the upper bound (0.004 = 0.4 %)."""
        if self.upper_bound <= 0:
            return 0.0
        return max(0.0, (self.upper_bound - self.objective) / self.upper_bound)

    @property
    def assigned(self) -> int:
        return int((self.collector_of_case != NO_COLLECTOR).sum())


def _adjusted_values(table: CandidateTable, policy: AssignmentPolicy) -> FloatArray:
    """Pair values plus the continuity bonus; empty slots become -inf."""
    adjusted = table.value_fen.astype(np.float64)
    if table.current_collector is not None and policy.continuity_threshold_fen > 0:
        keeps = table.collector == table.current_collector[:, None]
        keeps &= table.current_collector[:, None] != NO_COLLECTOR
        adjusted += keeps * float(policy.continuity_threshold_fen)
    adjusted[table.collector == NO_COLLECTOR] = -np.inf
    return adjusted


def plan_objective(
    table: CandidateTable, policy: AssignmentPolicy, collector_of_case: Int32Array
) -> tuple[int, float, FloatArray]:
    """(sum of values, maximised objective, loads) of a plan; raises if a case is given
    to a collector that is not among its candidates or a capacity is exceeded."""
    assigned = collector_of_case != NO_COLLECTOR
    matches = table.collector == collector_of_case[:, None]
    has_slot = matches.any(axis=1)
    if (assigned & ~has_slot).any():
        raise AssignmentInputError("a case was given to a collector that is not a candidate")
    slot = np.argmax(matches, axis=1)
    rows = np.nonzero(assigned)[0]
    value = int(table.value_fen[rows, slot[rows]].sum())
    adjusted = _adjusted_values(table, policy)
    objective = float(adjusted[rows, slot[rows]].sum())
    load = np.bincount(
        collector_of_case[rows], weights=table.effort_hours[rows], minlength=table.collectors
    ).astype(np.float64)
    if (load > table.capacity_hours * (1 + 1e-9) + 1e-9).any():
        raise AssignmentInputError("a collector is loaded beyond capacity")
    objective -= _fairness_cost(load, table.capacity_hours, policy)
    return value, objective, load


def _fairness_cost(load: FloatArray, capacity: FloatArray, policy: AssignmentPolicy) -> float:
    if policy.fairness_penalty_fen_per_hour == 0 or policy.fair_share >= 1.0:
        return 0.0
    over = np.maximum(load - policy.fair_share * capacity, 0.0)
    return float(policy.fairness_penalty_fen_per_hour * over.sum())


def _runner_up(
    table: CandidateTable, score: FloatArray, collector_of_case: Int32Array
) -> Int32Array:
    """Best-scoring candidate other than the chosen collector, per case."""
    masked = np.where(table.collector == collector_of_case[:, None], -np.inf, score)
    slot = np.argmax(masked, axis=1)
    rows = np.arange(table.cases)
    runner: Int32Array = table.collector[rows, slot].astype(np.int32)
    runner[~np.isfinite(masked[rows, slot])] = NO_COLLECTOR
    return runner


def greedy_assignment(
    table: CandidateTable,
    policy: AssignmentPolicy | None = None,
    *,
    score: FloatArray | None = None,
    start: Int32Array | None = None,
    capacity_left: FloatArray | None = None,
) -> Int32Array:
    """Greedy baseline: in rounds, every unassigned case proposes to its best untried
    candidate (by ``score``, default the values with continuity bonus); each collector
    accepts proposals in descending score while its hours last. Cases with no candidate
    of positive score stay unassigned."""
    policy = policy or AssignmentPolicy()
    if score is None:
        score = _adjusted_values(table, policy)
    n = table.cases
    assigned = start.copy() if start is not None else np.full(n, NO_COLLECTOR, dtype=np.int32)
    if capacity_left is None:
        used = np.bincount(
            assigned[assigned != NO_COLLECTOR],
            weights=table.effort_hours[assigned != NO_COLLECTOR],
            minlength=table.collectors,
        )
        left = table.capacity_hours - used
    else:
        left = capacity_left.copy()
    # Round 0 needs only each row's best slot; rows still waiting after it are sorted.
    order = np.empty((0, score.shape[1]), dtype=np.int64)
    position = np.full(n, -1, dtype=np.int64)
    for round_index in range(score.shape[1]):
        waiting = np.nonzero(assigned == NO_COLLECTOR)[0]
        if waiting.size == 0:
            break
        if round_index == 0:
            slot = np.argmax(score[waiting], axis=1)
        else:
            if round_index == 1:
                order = np.argsort(-score[waiting], axis=1, kind="stable")
                position[waiting] = np.arange(waiting.size)
            slot = order[position[waiting], round_index]
        proposal_score = score[waiting, slot]
        proposal_collector = table.collector[waiting, slot]
        live = np.isfinite(proposal_score) & (proposal_score > 0)
        live &= proposal_collector != NO_COLLECTOR
        if not live.any():
            continue
        cases = waiting[live]
        collectors = proposal_collector[live].astype(np.int64)
        efforts = table.effort_hours[cases]
        # by collector, best score first
        ranking = np.lexsort((-proposal_score[live], collectors))
        cases, collectors, efforts = cases[ranking], collectors[ranking], efforts[ranking]
        cumulative = np.cumsum(efforts)
        starts = np.searchsorted(collectors, collectors, side="left")
        before = cumulative[starts] - efforts[starts]
        within = cumulative - before
        accept = within <= left[collectors] + 1e-9
        assigned[cases[accept]] = collectors[accept]
        left -= np.bincount(collectors[accept], weights=efforts[accept], minlength=left.size)
    return assigned


def _uniform_effort(table: CandidateTable) -> bool:
    efforts = table.effort_hours
    return bool(efforts.size == 0 or np.allclose(efforts, efforts[0], rtol=0, atol=1e-12))


def solve_with_min_cost_flow(table: CandidateTable, policy: AssignmentPolicy) -> AssignmentPlan:
    """Optimum when every case takes the same effort (capacities become case counts):
    source -> case -> collector -> sink, plus a zero-cost 'stays in queue' arc per case.

    The fairness charge of a collector with n cases, penalty x max(0, n x effort - fair
    share x capacity), is convex in n; it becomes up to three collector -> sink arcs: the
    whole cases within the fair share (free), the case that crosses it (charged for its
    hours above the share only) and the rest (charged for every hour). Each arc's charge
    is rounded *down* to whole fen, so the flow never charges a plan more than
    `plan_objective` does: its optimum is a proven upper bound on the true optimum
    (``upper_bound``), and the plan is within those roundings (under 1 fen per collector
    with a fractional charge) of it; with whole-fen charges it is exact."""
    started = time.monotonic()
    table.validate()
    policy.validate()
    n, c = table.cases, table.collectors
    effort = float(table.effort_hours[0]) if n else 1.0
    adjusted = _adjusted_values(table, policy)
    rows, slot_idx = np.nonzero(np.isfinite(adjusted) & (adjusted > 0))
    cost = -np.rint(adjusted[rows, slot_idx]).astype(np.int64)
    cap_cases = np.floor(table.capacity_hours / effort + 1e-9).astype(np.int64)
    fair_hours = policy.fair_share * table.capacity_hours
    per_hour = float(policy.fairness_penalty_fen_per_hour)
    if per_hour == 0 or policy.fair_share >= 1.0:
        soft_cases = cap_cases
        crossing = np.zeros(c, dtype=np.int64)
        crossing_cost = np.zeros(c, dtype=np.int64)
    else:
        soft_cases = np.minimum(np.floor(fair_hours / effort).astype(np.int64), cap_cases)
        crossing = np.minimum(cap_cases - soft_cases, 1)
        hours_over = np.maximum((soft_cases + 1) * effort - fair_hours, 0.0)
        crossing_cost = np.floor(per_hour * hours_over + 1e-9).astype(np.int64)
    penalty = int(math.floor(per_hour * effort + 1e-9))  # per whole case above the share
    source, sink = n + c, n + c + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    case_nodes = np.arange(n, dtype=np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(
        np.full(n, source), case_nodes, np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        case_nodes, np.full(n, sink), np.ones(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    )
    pair_start = 2 * n
    flow.add_arcs_with_capacity_and_unit_cost(
        rows.astype(np.int64),
        n + table.collector[rows, slot_idx].astype(np.int64),
        np.ones(rows.size, dtype=np.int64),
        cost,
    )
    collector_nodes = n + np.arange(c, dtype=np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(
        collector_nodes, np.full(c, sink), soft_cases, np.zeros(c, dtype=np.int64)
    )
    if (crossing > 0).any():
        flow.add_arcs_with_capacity_and_unit_cost(
            collector_nodes, np.full(c, sink), crossing, crossing_cost
        )
    extra = cap_cases - soft_cases - crossing
    if (extra > 0).any():
        flow.add_arcs_with_capacity_and_unit_cost(
            collector_nodes, np.full(c, sink), extra, np.full(c, penalty, dtype=np.int64)
        )
    supplies = np.zeros(n + c + 2, dtype=np.int64)
    supplies[source], supplies[sink] = n, -n
    flow.set_nodes_supplies(np.arange(n + c + 2, dtype=np.int64), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise AssignmentInputError(f"min-cost flow failed with status {status}")
    arcs = pair_start + np.arange(rows.size, dtype=np.int64)
    used = flow.flows(arcs) > 0
    collector_of_case = np.full(n, NO_COLLECTOR, dtype=np.int32)
    collector_of_case[rows[used]] = table.collector[rows[used], slot_idx[used]]
    value, objective, load = plan_objective(table, policy, collector_of_case)
    return AssignmentPlan(
        collector_of_case=collector_of_case,
        runner_up_of_case=_runner_up(table, adjusted, collector_of_case),
        value_fen=value,
        objective=objective,
        # the flow never overcharges a plan (fairness charges rounded down): a true bound
        upper_bound=max(float(-flow.optimal_cost()), objective),
        load_hours=load,
        price_per_hour=np.zeros(c),
        method="min_cost_flow",
        seconds=time.monotonic() - started,
    )


@dataclass
class _DualState:
    price: FloatArray
    bound: float
    choice_slot: IntArray  # -1 = queue
    best: FloatArray
    second: FloatArray


def _evaluate_prices(
    table: CandidateTable,
    adjusted: npt.NDArray[np.float32],
    price: FloatArray,
    soft: FloatArray,
    penalty: float,
    buffer: npt.NDArray[np.float32],
    slot_collector: npt.NDArray[np.int32],
) -> _DualState:
    """Each case's best and second-best priced candidate (float32 work on the table)."""
    np.take(price.astype(np.float32), slot_collector, out=buffer)
    buffer *= table.effort_hours.astype(np.float32)[:, None]
    np.subtract(adjusted, buffer, out=buffer)
    slot = np.argmax(buffer, axis=1)
    rows = np.arange(table.cases)
    best = buffer[rows, slot].astype(np.float64)
    buffer[rows, slot] = -np.inf
    second = np.maximum(buffer.max(axis=1).astype(np.float64), 0.0)
    queued = ~(best > 0)
    choice = np.where(queued, -1, slot).astype(np.int64)
    best = np.maximum(best, 0.0)
    extra = table.capacity_hours - soft
    bound = float(best.sum() + price @ soft + np.maximum(price - penalty, 0.0) @ extra)
    return _DualState(price=price, bound=bound, choice_slot=choice, best=best, second=second)


def _clearing_prices(
    table: CandidateTable,
    state: _DualState,
    soft: FloatArray,
    penalty: float,
) -> FloatArray:
    """Raise each over-demanded collector's price to where its current choosers' demand
    fits (their margins over their next option, per hour, sorted); let idle prices fall."""
    c = table.collectors
    price = state.price
    chosen = np.nonzero(state.choice_slot >= 0)[0]
    collectors = table.collector[chosen, state.choice_slot[chosen]].astype(np.int64)
    efforts = table.effort_hours[chosen]
    margin = (state.best[chosen] - state.second[chosen]) / efforts
    demand = np.bincount(collectors, weights=efforts, minlength=c)
    supply = np.where(price >= penalty, table.capacity_hours, soft)
    ranking = np.lexsort((-margin, collectors))
    collectors, efforts, margin = collectors[ranking], efforts[ranking], margin[ranking]
    cumulative = np.cumsum(efforts)
    starts = np.searchsorted(collectors, collectors, side="left")
    within = cumulative - (cumulative[starts] - efforts[starts])
    over_soft = within > soft[collectors] + 1e-9
    over_cap = within > table.capacity_hours[collectors] + 1e-9
    first_soft = _first_per_group(collectors, over_soft, c)
    first_cap = _first_per_group(collectors, over_cap, c)
    new_price = price.copy()
    # margin of the first chooser that no longer fits = price increase that clears
    has_soft = first_soft >= 0
    step_soft = np.zeros(c)
    step_soft[has_soft] = margin[first_soft[has_soft]]
    candidate = price + step_soft * _RAISE
    if penalty < math.inf:
        above = has_soft & (candidate > penalty)
        has_cap = first_cap >= 0
        step_cap = np.zeros(c)
        step_cap[has_cap] = margin[first_cap[has_cap]]
        candidate = np.where(above, np.maximum(penalty, price + step_cap * _RAISE), candidate)
        candidate = np.where(above & ~has_cap, np.minimum(candidate, penalty), candidate)
    over = demand > supply + 1e-9
    new_price[over] = candidate[over]
    slack = supply - demand
    idle = (slack > 1e-9) & (price > 0)
    new_price[idle] = price[idle] * np.maximum(
        0.0, 1.0 - _FALL * slack[idle] / np.maximum(supply[idle], 1e-9)
    )
    return new_price


def _global_clearing_price(table: CandidateTable, adjusted: FloatArray, soft: FloatArray) -> float:
    """One price for every collector hour at which the cases' best values per hour just
    fill the total capacity: a starting point for the per-collector prices."""
    per_hour = np.max(adjusted, axis=1) / table.effort_hours
    order = np.argsort(-per_hour)
    filled = np.cumsum(table.effort_hours[order])
    position = int(np.searchsorted(filled, float(soft.sum())))
    if position >= order.size:
        return 0.0
    return max(0.0, float(per_hour[order[position]]))


def _first_per_group(groups: IntArray, flags: npt.NDArray[np.bool_], count: int) -> IntArray:
    """Index of the first flagged element of each group in a group-sorted array (-1 none)."""
    first = np.full(count, -1, dtype=np.int64)
    positions = np.nonzero(flags)[0]
    if positions.size:
        group_of = groups[positions]
        unique, where = np.unique(group_of, return_index=True)
        first[unique] = positions[where]
    return first


def solve_with_prices(
    table: CandidateTable,
    policy: AssignmentPolicy,
    *,
    iterations: int = _ITERATIONS,
    time_limit_s: float = 90.0,
) -> AssignmentPlan:
    """General efforts: Lagrangian prices per collector hour by market clearing; every
    price vector gives an upper bound (the best is kept); the primal plan takes each case's
    best priced candidate, drops the lowest-margin cases of over-full collectors and
    re-places them greedily by priced value into the hours left."""
    started = time.monotonic()
    table.validate()
    policy.validate()
    c = table.collectors
    adjusted = _adjusted_values(table, policy)
    penalty = (
        float(policy.fairness_penalty_fen_per_hour)
        if policy.fairness_penalty_fen_per_hour > 0 and policy.fair_share < 1.0
        else math.inf
    )
    soft = table.capacity_hours * (policy.fair_share if penalty < math.inf else 1.0)
    price = np.full(c, _global_clearing_price(table, adjusted, soft))
    best_bound = math.inf
    state: _DualState | None = None
    adjusted32 = adjusted.astype(np.float32)
    buffer = np.empty_like(adjusted32)
    slot_collector = np.maximum(table.collector, 0)
    for _ in range(iterations):
        state = _evaluate_prices(table, adjusted32, price, soft, penalty, buffer, slot_collector)
        best_bound = min(best_bound, state.bound)
        if time.monotonic() - started > 0.6 * time_limit_s:
            break
        price = _clearing_prices(table, state, soft, penalty)
    assert state is not None
    collector_of_case, price_used = _primal_from_prices(
        table, policy, adjusted, state, soft, penalty
    )
    value, objective, load = plan_objective(table, policy, collector_of_case)
    score = adjusted - price_used[np.maximum(table.collector, 0)] * table.effort_hours[:, None]
    return AssignmentPlan(
        collector_of_case=collector_of_case,
        runner_up_of_case=_runner_up(table, score, collector_of_case),
        value_fen=value,
        objective=objective,
        upper_bound=best_bound,
        load_hours=load,
        price_per_hour=price_used,
        method="lagrangian_prices",
        seconds=time.monotonic() - started,
    )


def _primal_from_prices(
    table: CandidateTable,
    policy: AssignmentPolicy,
    adjusted: FloatArray,
    state: _DualState,
    soft: FloatArray,
    penalty: float,
) -> tuple[Int32Array, FloatArray]:
    """Greedy by priced value (value less the hours at the collector's price), then a
    greedy pass by plain value over the hours still free, both within the fair share;
    then, with a fairness penalty, the hours above the fair share for cases still worth
    more than the penalty."""
    score = adjusted - state.price[np.maximum(table.collector, 0)] * table.effort_hours[:, None]
    priced = greedy_assignment(table, policy, score=score, capacity_left=soft.copy())
    plan = greedy_assignment(
        table, policy, score=adjusted, start=priced, capacity_left=soft - _loads(table, priced)
    )
    if penalty < math.inf:
        over_share = adjusted - penalty * table.effort_hours[:, None]
        plan = greedy_assignment(
            table,
            policy,
            score=over_share,
            start=plan,
            capacity_left=table.capacity_hours - _loads(table, plan),
        )
    return plan, state.price


def _loads(table: CandidateTable, collector_of_case: Int32Array) -> FloatArray:
    placed = collector_of_case != NO_COLLECTOR
    return np.bincount(
        collector_of_case[placed], weights=table.effort_hours[placed], minlength=table.collectors
    ).astype(np.float64)


def solve_assignment(
    table: CandidateTable,
    policy: AssignmentPolicy | None = None,
    *,
    time_limit_s: float = 90.0,
) -> AssignmentPlan:
    """Min-cost flow when all efforts are equal, Lagrangian prices otherwise."""
    policy = policy or AssignmentPolicy()
    table.validate()
    if _uniform_effort(table):
        return solve_with_min_cost_flow(table, policy)
    return solve_with_prices(table, policy, time_limit_s=time_limit_s)


def lp_bound(table: CandidateTable, policy: AssignmentPolicy | None = None) -> float:
    """Optimum of the LP relaxation by HiGHS (for checks on small tables; the price
    method's bound is the scalable equivalent)."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix

    policy = policy or AssignmentPolicy()
    table.validate()
    policy.validate()
    adjusted = _adjusted_values(table, policy)
    rows, slots = np.nonzero(np.isfinite(adjusted))
    pairs = rows.size
    c = table.collectors
    collectors = table.collector[rows, slots].astype(np.int64)
    efforts = table.effort_hours[rows]
    fairness = policy.fairness_penalty_fen_per_hour > 0 and policy.fair_share < 1.0
    overflow = c if fairness else 0
    objective = np.concatenate(
        [-adjusted[rows, slots], np.full(overflow, float(policy.fairness_penalty_fen_per_hour))]
    )
    columns = np.arange(pairs)
    case_rows = coo_matrix((np.ones(pairs), (rows, columns)), shape=(table.cases, pairs + overflow))
    entries_r = [collectors]
    entries_c = [columns]
    entries_v = [efforts]
    if fairness:
        entries_r.append(np.arange(c))
        entries_c.append(pairs + np.arange(c))
        entries_v.append(-np.ones(c))
    hours = coo_matrix(
        (np.concatenate(entries_v), (np.concatenate(entries_r), np.concatenate(entries_c))),
        shape=(c, pairs + overflow),
    )
    soft = table.capacity_hours * (policy.fair_share if fairness else 1.0)
    upper = np.concatenate([np.ones(pairs), (table.capacity_hours - soft)[:overflow]])
    from scipy.sparse import vstack

    result = linprog(
        objective,
        A_ub=vstack([case_rows, hours]).tocsr(),
        b_ub=np.concatenate([np.ones(table.cases), soft]),
        bounds=np.stack([np.zeros(pairs + overflow), upper], axis=1),
        method="highs",
    )
    if result.status != 0:
        raise AssignmentInputError(f"LP relaxation failed: {result.message}")
    return float(-result.fun)
