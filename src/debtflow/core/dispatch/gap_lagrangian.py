"""Lagrangian heuristic for the GAP: relax "every job exactly once", keep the capacities.

With a price ``u[j]`` per job the problem splits into one 0/1 knapsack per agent (take
the jobs whose price exceeds their cost on that agent, within its capacity), solved
exactly by dynamic programming over the capacity, for all agents at once. Each price
vector gives a lower bound ``sum(u) - sum(knapsack values)``, usually much tighter than
the LP relaxation on the hard (type D/E) problems. Subgradient steps move the prices
towards "every job taken once".

Every knapsack solution is also turned into an assignment: jobs taken by exactly one
agent stay there, the others (taken twice or not at all) form a small residual problem
solved exactly by CP-SAT within the capacity left over, or, when that is too big or
slow, placed greedily; a penalised descent then repairs and polishes the result. The
knapsack solutions near the optimal prices differ from each other in a few jobs, so
this samples good, varied assignments around the optimum.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Cells of the knapsack tables (jobs x agents x capacity) above which the phase is skipped.
KNAPSACK_CELL_LIMIT = 25_000_000
# Residual problems up to this many jobs are solved with CP-SAT.
_RESIDUAL_JOBS = 40
_RESIDUAL_SECONDS = 0.3
# An assignment is built from a knapsack solution whose conflicting jobs (taken twice or
# not at all) are at most this factor (+2) above the fewest seen, and every _EVERY steps.
_CONFLICT_SLACK = 1.25
_EVERY = 10
# Halve the subgradient step after this many iterations without a better bound.
_STALL_ITERATIONS = 10


@dataclass(frozen=True)
class LagrangianOutcome:
    """Best feasible assignment seen (or None), its cost, and the best lower bound."""

    assignment: IntArray | None
    cost: float
    bound: float
    iterations: int


def knapsack_cells(resource: IntArray, capacity: IntArray) -> int:
    """Size of the dynamic-programming tables one Lagrangian iteration fills."""
    agents, jobs = (int(size) for size in resource.shape)
    return jobs * agents * (int(capacity.max(initial=0)) + 1)


def solve_knapsacks(
    profit: FloatArray, resource: IntArray, capacity: IntArray
) -> tuple[BoolArray, FloatArray]:
    """For every agent i, the jobs maximising ``sum profit[i, j]`` with ``sum resource[i, j]
    <= capacity[i]`` (exact, 0/1). Returns the (agents, jobs) choice and each agent's value."""
    agents, jobs = profit.shape
    top = int(capacity.max(initial=0))
    columns = np.arange(top + 1)
    within = columns[None, :] <= capacity[:, None]
    best = np.where(within, 0.0, -np.inf)
    rows = np.arange(agents)[:, None]
    items = np.nonzero((profit > 0).any(axis=0))[0]
    taken = np.zeros((items.size, agents, top + 1), dtype=np.bool_)
    for position, job in enumerate(items):
        weight = resource[:, job]
        gain = profit[:, job]
        source = columns[None, :] - weight[:, None]
        candidate = best[rows, np.maximum(source, 0)] + gain[:, None]
        better = within & (source >= 0) & (gain[:, None] > 0) & (candidate > best)
        taken[position] = better
        best = np.where(better, candidate, best)
    room = np.argmax(best, axis=1)
    value = best[np.arange(agents), room]
    chosen = np.zeros((agents, jobs), dtype=np.bool_)
    all_agents = np.arange(agents)
    for position in range(items.size - 1, -1, -1):
        job = items[position]
        take = taken[position, all_agents, room]
        chosen[take, job] = True
        room = room - np.where(take, resource[:, job], 0)
    return chosen, value.astype(np.float64)


def _greedy_completion(
    chosen: BoolArray, cost: FloatArray, resource: IntArray, capacity: IntArray
) -> IntArray:
    """Each job to its cheapest choosing agent; jobs nobody chose to the cheapest agent
    with room left (or the least overloaded one); may leave overloads for the descent."""
    agents, jobs = cost.shape
    all_jobs = np.arange(jobs)
    assign: IntArray = np.argmin(np.where(chosen, cost, np.inf), axis=0).astype(np.int64)
    missing = ~chosen.any(axis=0)
    placed = ~missing
    load = np.bincount(
        assign[placed], weights=resource[assign[placed], all_jobs[placed]], minlength=agents
    ).astype(np.float64)
    for job in np.nonzero(missing)[0]:
        fits = load + resource[:, job] <= capacity
        if fits.any():
            agent = int(np.argmin(np.where(fits, cost[:, job], np.inf)))
        else:
            agent = int(np.argmin(load + resource[:, job] - capacity))
        assign[job] = agent
        load[agent] += resource[agent, job]
    return assign


def solve_residual(
    cost: IntArray,
    resource: IntArray,
    room: IntArray,
    free_jobs: IntArray,
    hint: IntArray,
    seconds: float,
    seed: int,
) -> dict[int, int] | None:
    """Optimal placement of ``free_jobs`` on any agent within ``room`` (capacity left by
    the other jobs) by CP-SAT; None when none was found in time or none exists."""
    model = cp_model.CpModel()
    pairs: list[tuple[int, int, cp_model.IntVar]] = []
    by_job: dict[int, list[cp_model.IntVar]] = {int(job): [] for job in free_jobs}
    by_agent: dict[int, tuple[list[cp_model.IntVar], list[int]]] = {}
    for job in free_jobs:
        for agent in np.nonzero(resource[:, job] <= room)[0]:
            var = model.new_bool_var(f"x{agent}_{job}")
            pairs.append((int(agent), int(job), var))
            by_job[int(job)].append(var)
            members, weights = by_agent.setdefault(int(agent), ([], []))
            members.append(var)
            weights.append(int(resource[agent, job]))
            model.add_hint(var, bool(hint[job] == agent))
    for options in by_job.values():
        if not options:
            return None
        model.add_exactly_one(options)
    for holder, (members, weights) in by_agent.items():
        model.add(cp_model.LinearExpr.weighted_sum(members, weights) <= int(room[holder]))
    model.minimize(
        cp_model.LinearExpr.weighted_sum(
            [var for _, _, var in pairs], [int(cost[agent, job]) for agent, job, _ in pairs]
        )
    )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.01)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return {job: agent for agent, job, var in pairs if solver.boolean_value(var)}


def lagrangian_search(
    cost: IntArray,
    resource: IntArray,
    capacity: IntArray,
    *,
    prices: FloatArray,
    upper: float,
    deadline: float,
    polish: Callable[[IntArray], IntArray | None],
    seed: int = 0,
) -> LagrangianOutcome:
    """Subgradient ascent on the job prices from ``prices`` (e.g. the LP duals) until
    ``deadline``, the bound meets the best assignment, or the prices give an assignment.

    ``upper`` is the cost of a known feasible assignment (``math.inf`` if none);
    ``polish`` turns a possibly overloaded assignment into a feasible improved one
    (or None). Costs are minimised."""
    agents, jobs = cost.shape
    all_jobs = np.arange(jobs)
    float_cost = cost.astype(np.float64)
    price = prices.astype(np.float64).copy()
    best_bound = -math.inf
    best_assign: IntArray | None = None
    best_cost = upper
    step_share = 1.0
    stall = 0
    iterations = 0
    fewest_conflicts = jobs
    while time.monotonic() < deadline:
        iterations += 1
        chosen, values = solve_knapsacks(price[None, :] - float_cost, resource, capacity)
        bound = float(price.sum() - values.sum())
        if bound > best_bound + 1e-6:
            best_bound, stall = bound, 0
        else:
            stall += 1
            if stall >= _STALL_ITERATIONS:
                step_share, stall = step_share / 2.0, 0
        taken = chosen.sum(axis=0)
        free = np.nonzero(taken != 1)[0]
        fewest_conflicts = min(fewest_conflicts, free.size)
        # Building an assignment costs far more than a price step: only from the knapsack
        # solutions with (nearly) the fewest conflicting jobs so far, and now and then.
        if free.size > fewest_conflicts * _CONFLICT_SLACK + 2 and iterations % _EVERY != 0:
            if not _step_prices(price, taken, best_cost, best_bound, bound, step_share):
                break
            continue
        start = _greedy_completion(chosen, float_cost, resource, capacity)
        if 0 < free.size <= _RESIDUAL_JOBS:
            once = taken == 1
            fixed = np.argmax(chosen, axis=0).astype(np.int64)
            room = capacity - np.bincount(
                fixed[once], weights=resource[fixed[once], all_jobs[once]], minlength=agents
            ).astype(np.int64)
            seconds = min(_RESIDUAL_SECONDS, deadline - time.monotonic())
            placed = solve_residual(cost, resource, room, free, start, seconds, seed + iterations)
            if placed is not None:
                for job, agent in placed.items():
                    fixed[job] = agent
                start = fixed
        candidate = polish(start)
        if candidate is not None:
            value = float(float_cost[candidate, all_jobs].sum())
            if value < best_cost:
                best_assign, best_cost = candidate, value
        if free.size == 0 or best_cost <= math.ceil(best_bound - 1e-6):
            break
        if not _step_prices(price, taken, best_cost, best_bound, bound, step_share):
            break
    return LagrangianOutcome(
        assignment=best_assign, cost=best_cost, bound=best_bound, iterations=iterations
    )


def _step_prices(
    price: FloatArray,
    taken: IntArray,
    best_cost: float,
    best_bound: float,
    bound: float,
    step_share: float,
) -> bool:
    """One subgradient (Polyak) step in place; False once the step has shrunk to nothing."""
    if step_share < 1e-4:
        return False
    direction = 1.0 - taken
    target = best_cost if math.isfinite(best_cost) else abs(best_bound) * 1.05 + 1.0
    step = step_share * max(target - bound, 1e-6) / float(direction @ direction)
    price += step * direction
    return True
