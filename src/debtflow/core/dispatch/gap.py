"""Generalized Assignment Problem solver: relaxations, a Lagrangian heuristic, a
large-neighbourhood search, tabu search and CP-SAT.

Every job goes to exactly one agent; the resources an agent's jobs consume must fit its
capacity; the total cost is minimised (or the profit maximised). The steps:

1. LP relaxation (HiGHS; a capacity-priced Lagrangian for large models): a lower bound,
   fractional assignments, reduced costs and a price per job.
2. Construction: each job to the agent with its largest LP share, then a penalised local
   search (shift and swap moves, shift only on large models unless that stalls; overload
   priced by a growing penalty) until feasible and no move improves.
3. Small models: a short CP-SAT pass, which proves most small problems optimal.
4. Lagrangian knapsack phase (``gap_lagrangian``) when its tables are small enough: a
   tighter bound and good assignments built from the knapsack solutions.
5. Models over ``_LNS_PAIRS`` pairs: large-neighbourhood search (``gap_lns``), CP-SAT on
   the jobs of a few related agents at a time, in two threads where there are two cores.
   Smaller ones: tabu search (``gap_tabu``) from the best assignment while CP-SAT works
   on the model reduced by reduced-cost fixing (a pair whose LP reduced cost pushes the
   LP bound past the incumbent cannot be in a better solution) in a background thread,
   hinted with it.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from debtflow.core.dispatch.gap_lagrangian import (
    KNAPSACK_CELL_LIMIT,
    knapsack_cells,
    lagrangian_search,
)
from debtflow.core.dispatch.gap_lns import lns_search
from debtflow.core.dispatch.gap_tabu import tabu_search
from debtflow.core.dispatch.orlib import GapInstance

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GapSolution:
    """``agent_of_job[j]`` is the agent job j goes to (-1 everywhere when none was found).

    ``objective`` is in the caller's sense (profit when maximising), ``bound`` the best
    proven bound in the same sense (LP relaxation or CP-SAT's), ``None`` when unknown.
    """

    agent_of_job: IntArray
    objective: int | None
    feasible: bool
    optimal: bool
    bound: float | None
    seconds: float
    status: str


def objective_value(instance: GapInstance, agent_of_job: IntArray) -> int:
    """Total cost (or profit) of an assignment in the instance's own numbers."""
    jobs = np.arange(instance.jobs)
    return int(instance.cost[agent_of_job, jobs].sum())


def agent_loads(instance: GapInstance, agent_of_job: IntArray) -> IntArray:
    jobs = np.arange(instance.jobs)
    used = instance.resource[agent_of_job, jobs]
    return np.bincount(agent_of_job, weights=used, minlength=instance.agents).astype(np.int64)


def is_feasible(instance: GapInstance, agent_of_job: IntArray) -> bool:
    """Every job on a valid agent and no agent over capacity."""
    if agent_of_job.shape != (instance.jobs,):
        return False
    if (agent_of_job < 0).any() or (agent_of_job >= instance.agents).any():
        return False
    return bool((agent_loads(instance, agent_of_job) <= instance.capacity).all())


@dataclass(frozen=True)
class _Relaxation:
    bound: float
    share: FloatArray  # (m, n) fractional assignment
    reduced_cost: FloatArray  # (m, n)
    job_price: FloatArray  # (n,) dual price of "job j assigned once"


def _solve_relaxation(cost: IntArray, instance: GapInstance) -> _Relaxation | None:
    m, n = instance.agents, instance.jobs
    allowed = instance.resource <= instance.capacity[:, None]
    agents_idx, jobs_idx = np.nonzero(allowed)
    count = agents_idx.size
    columns = np.arange(count)
    job_rows = coo_matrix((np.ones(count), (jobs_idx, columns)), shape=(n, count)).tocsr()
    agent_rows = coo_matrix(
        (instance.resource[agents_idx, jobs_idx].astype(np.float64), (agents_idx, columns)),
        shape=(m, count),
    ).tocsr()
    result = linprog(
        cost[agents_idx, jobs_idx].astype(np.float64),
        A_ub=agent_rows,
        b_ub=instance.capacity.astype(np.float64),
        A_eq=job_rows,
        b_eq=np.ones(n),
        bounds=(0.0, None),
        method="highs",
    )
    if result.status != 0:
        return None
    share = np.zeros((m, n))
    share[agents_idx, jobs_idx] = result.x
    reduced = np.full((m, n), np.inf)
    reduced[agents_idx, jobs_idx] = np.maximum(result.lower.marginals, 0.0)
    return _Relaxation(
        bound=float(result.fun),
        share=share,
        reduced_cost=reduced,
        job_price=np.asarray(result.eqlin.marginals, dtype=np.float64),
    )


def _lagrangian_relaxation(
    cost: IntArray, instance: GapInstance, deadline: float
) -> _Relaxation | None:
    """Relax the capacities with prices ``price[i] >= 0`` per unit of agent i's resource:
    each job then simply takes its cheapest priced agent. Subgradient ascent on the prices;
    every price vector gives a valid lower bound, the best one is kept. Used for models too
    large for a quick LP solve."""
    m, n = instance.agents, instance.jobs
    jobs = np.arange(n)
    c = cost.astype(np.float64)
    r = instance.resource.astype(np.float64)
    cap = instance.capacity.astype(np.float64)
    c = np.where(r <= cap[:, None], c, np.inf)
    if not np.isfinite(c).any(axis=0).all():
        return None
    price = np.zeros(m)
    best_bound = -math.inf
    best_price = price.copy()
    scale = float(np.abs(c[np.isfinite(c)]).mean()) + 1.0
    step_share = 2.0
    stall = 0
    for _ in range(3000):
        priced = c + price[:, None] * r
        choice = np.argmin(priced, axis=0)
        value = float(priced[choice, jobs].sum() - price @ cap)
        if value > best_bound + 1e-9 * abs(best_bound if math.isfinite(best_bound) else 1.0):
            best_bound, best_price, stall = value, price.copy(), 0
        else:
            stall += 1
            if stall >= 25:
                step_share, stall = step_share / 2.0, 0
        used = np.bincount(choice, weights=r[choice, jobs], minlength=m)
        direction = used - cap
        direction[(price <= 0.0) & (direction < 0.0)] = 0.0
        norm = float(direction @ direction)
        if norm == 0.0 or step_share < 1e-6 or time.monotonic() > deadline:
            break
        gap_estimate = max(0.01 * abs(best_bound), 0.01 * scale)
        price = np.maximum(price + step_share * gap_estimate / norm * direction, 0.0)
    priced = c + best_price[:, None] * r
    choice = np.argmin(priced, axis=0)
    share = np.zeros((m, n))
    share[choice, jobs] = 1.0
    reduced = priced - priced[choice, jobs]
    return _Relaxation(
        bound=best_bound, share=share, reduced_cost=reduced, job_price=priced[choice, jobs]
    )


def _overload(load: FloatArray, capacity: FloatArray) -> FloatArray:
    return np.maximum(load - capacity, 0.0)


def _local_search(
    cost: FloatArray,
    resource: FloatArray,
    capacity: FloatArray,
    start: IntArray,
    deadline: float,
    swaps: bool = True,
) -> IntArray:
    """Penalised shift/swap descent from ``start`` (shift moves only unless ``swaps``);
    returns the best feasible assignment found, or the last (possibly infeasible) one
    when none was feasible."""
    m, n = cost.shape
    jobs = np.arange(n)
    assign = start.copy()
    spread = float(cost.max() - cost.min()) + 1.0
    penalty = spread / max(float(resource[resource > 0].min(initial=1.0)), 1e-9)
    best: IntArray | None = None
    best_cost = math.inf
    for _round in range(30):
        _descend(cost, resource, capacity, assign, penalty, deadline, swaps)
        load = np.bincount(assign, weights=resource[assign, jobs], minlength=m)
        if (load <= capacity + 1e-9).all():
            total = float(cost[assign, jobs].sum())
            if total < best_cost:
                best, best_cost = assign.copy(), total
            break
        penalty *= 4.0
        if time.monotonic() > deadline:
            break
    return best if best is not None else assign


def _descend(
    cost: FloatArray,
    resource: FloatArray,
    capacity: FloatArray,
    assign: IntArray,
    penalty: float,
    deadline: float,
    swaps: bool,
) -> None:
    m, n = cost.shape
    jobs = np.arange(n)
    load: FloatArray = np.bincount(assign, weights=resource[assign, jobs], minlength=m).astype(
        np.float64
    )
    while time.monotonic() < deadline:
        # Best shift move over all jobs and agents.
        own_cost = cost[assign, jobs]
        own_res = resource[assign, jobs]
        over_now = _overload(load, capacity)
        leave_gain = _overload(load[assign] - own_res, capacity[assign]) - over_now[assign]
        arrive = _overload(load[:, None] + resource, capacity[:, None]) - over_now[:, None]
        delta = cost - own_cost + penalty * (arrive + leave_gain)
        delta[assign, jobs] = np.inf
        flat = int(np.argmin(delta))
        if delta.flat[flat] < -1e-9:
            to_agent, job = divmod(flat, n)
            from_agent = int(assign[job])
            load[from_agent] -= resource[from_agent, job]
            load[to_agent] += resource[to_agent, job]
            assign[job] = to_agent
            continue
        if not swaps or not _best_swap(cost, resource, capacity, assign, load, penalty, deadline):
            return


def _best_swap(
    cost: FloatArray,
    resource: FloatArray,
    capacity: FloatArray,
    assign: IntArray,
    load: FloatArray,
    penalty: float,
    deadline: float,
) -> bool:
    """Apply the first improving swap found (scanning jobs in order); False if none."""
    n = cost.shape[1]
    jobs = np.arange(n)
    over_now = _overload(load, capacity)
    for job in range(n):
        if time.monotonic() > deadline:
            return False
        a = int(assign[job])
        b = assign  # partner agents
        own_cost = cost[assign, jobs]
        # job -> b, partner k -> a
        cost_delta = cost[b, job] + cost[a, jobs] - cost[a, job] - own_cost
        load_a = load[a] - resource[a, job] + resource[a, jobs]
        load_b = load[b] - resource[b, jobs] + resource[b, job]
        over_delta = (
            _overload(load_a, capacity[a])
            - over_now[a]
            + _overload(load_b, capacity[b])
            - over_now[b]
        )
        delta = cost_delta + penalty * over_delta
        delta[b == a] = np.inf
        partner = int(np.argmin(delta))
        if delta[partner] < -1e-9:
            pa = int(assign[partner])
            load[a] += resource[a, partner] - resource[a, job]
            load[pa] += resource[pa, job] - resource[pa, partner]
            assign[job], assign[partner] = pa, a
            return True
    return False


def _cp_sat(
    instance: GapInstance,
    cost: IntArray,
    keep: npt.NDArray[np.bool_],
    hint: IntArray | None,
    seconds: float,
    workers: int,
    seed: int,
) -> tuple[IntArray | None, str, float | None]:
    deadline = time.monotonic() + seconds
    m, n = instance.agents, instance.jobs
    model = cp_model.CpModel()
    variables: dict[tuple[int, int], cp_model.IntVar] = {}
    for agent, job in zip(*np.nonzero(keep), strict=True):
        variables[(int(agent), int(job))] = model.new_bool_var(f"x{agent}_{job}")
    by_job: list[list[cp_model.IntVar]] = [[] for _ in range(n)]
    by_agent: list[list[tuple[cp_model.IntVar, int]]] = [[] for _ in range(m)]
    for (agent, job), var in variables.items():
        by_job[job].append(var)
        by_agent[agent].append((var, int(instance.resource[agent, job])))
    for job_vars in by_job:
        if not job_vars:
            return None, "INFEASIBLE", None
        model.add_exactly_one(job_vars)
    for agent in range(m):
        pairs = by_agent[agent]
        if pairs:
            model.add(sum(w * v for v, w in pairs) <= int(instance.capacity[agent]))
    model.minimize(sum(int(cost[a, j]) * v for (a, j), v in variables.items()))
    if hint is not None:
        for (agent, job), var in variables.items():
            model.add_hint(var, 1 if hint[job] == agent else 0)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(min(seconds, deadline - time.monotonic()), 0.05)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, name, None
    assign = np.full(n, -1, dtype=np.int64)
    for (agent, job), var in variables.items():
        if solver.boolean_value(var):
            assign[job] = agent
    return assign, name, float(solver.best_objective_bound)


_SMALL_MODEL = 5000
# The Lagrangian phase runs until this share of the time limit; the final search gets
# the rest, starting from its best assignment. On models up to _SMALL_MODEL pairs it
# keeps improving to the end and the tabu search rarely adds to it; on larger ones (those
# within _LARGE_MODEL_CELL_LIMIT: type E and C up to 40 x 400) each price step costs
# more and the neighbourhood search gets the last 40 %. Generated E 40 x 400, 30 s, two
# seeds: 42,281 / 42,250 with 30 % to the Lagrangian phase, 42,209 / 42,237 with 60 %
# (bound 42,155); E 20 x 400 42,325 -> 42,313; Yagiura c20400 / c40400 0.063 / 0.071 %
# from best known with 60 % (0.230 / 0.094 % in the suite run of docs/assignment.md).
_LAGRANGIAN_SHARE_SMALL = 0.85
_LAGRANGIAN_SHARE_LARGE = 0.6
# On larger models the Lagrangian phase runs only up to this many knapsack cells: above
# it a price step takes most of a second and the phase barely lifts the bound (generated
# E 80 x 1600, 22.7 million cells: bound +11 in 12 s) while the neighbourhood search
# loses that time.
_LARGE_MODEL_CELL_LIMIT = 5_000_000
_LP_LIMIT = 20_000
# Above this many pairs the large-neighbourhood search replaces the tabu search and the
# background CP-SAT at the end.
_LNS_PAIRS = _SMALL_MODEL
# Larger models take seconds to build in Python (holding the GIL the tabu search needs)
# and CP-SAT rarely improves on the tabu search there within the limit.
_BACKGROUND_MODEL_LIMIT = 40_000


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


class _BackgroundSat:
    """Full CP-SAT model solved in a thread (CP-SAT releases the GIL) while the tabu
    search runs in the calling thread; on a machine with more cores it adds its own
    portfolio of workers."""

    def __init__(
        self,
        instance: GapInstance,
        cost: IntArray,
        keep: npt.NDArray[np.bool_],
        hint: IntArray | None,
        seconds: float,
        workers: int,
        seed: int,
    ) -> None:
        self.result: tuple[IntArray | None, str, float | None] = (None, "UNKNOWN", None)
        self._thread = threading.Thread(
            target=self._run,
            args=(instance, cost, keep, hint, seconds, workers, seed),
            daemon=True,
        )
        self._thread.start()

    def _run(
        self,
        instance: GapInstance,
        cost: IntArray,
        keep: npt.NDArray[np.bool_],
        hint: IntArray | None,
        seconds: float,
        workers: int,
        seed: int,
    ) -> None:
        self.result = _cp_sat(instance, cost, keep, hint, seconds, workers, seed)

    def join(self) -> tuple[IntArray | None, str, float | None]:
        self._thread.join()
        return self.result


def solve_gap(
    instance: GapInstance,
    *,
    maximize: bool = False,
    time_limit_s: float = 30.0,
    workers: int | None = None,
    seed: int = 0,
) -> GapSolution:
    """Best assignment found within ``time_limit_s`` seconds of wall time."""
    if time_limit_s <= 0:
        raise ValueError("time_limit_s must be positive")
    started = time.monotonic()
    deadline = started + time_limit_s
    cost = -instance.cost if maximize else instance.cost
    sign = -1 if maximize else 1
    n = instance.jobs
    empty = np.full(n, -1, dtype=np.int64)

    def finish(
        assign: IntArray | None, optimal: bool, bound: float | None, status: str
    ) -> GapSolution:
        found = assign is not None and is_feasible(instance, assign)
        chosen = assign if assign is not None and found else empty
        return GapSolution(
            agent_of_job=chosen,
            objective=objective_value(instance, chosen) if found else None,
            feasible=found,
            optimal=found and optimal,
            bound=None if bound is None else sign * bound,
            seconds=time.monotonic() - started,
            status=status,
        )

    if instance.agents * instance.jobs <= _LP_LIMIT:
        relaxation = _solve_relaxation(cost, instance)
    else:
        relaxation = _lagrangian_relaxation(cost, instance, started + 0.1 * time_limit_s)
    if relaxation is None:
        return finish(None, False, None, "INFEASIBLE")
    bound = relaxation.bound

    heuristic_deadline = started + 0.5 * time_limit_s
    # Large models get the neighbourhood search at the end: the swap moves of the first
    # descent, slow there, are left to it.
    large = instance.agents * instance.jobs > _SMALL_MODEL
    start = np.argmax(relaxation.share, axis=0).astype(np.int64)
    incumbent = _local_search(
        cost.astype(np.float64),
        instance.resource.astype(np.float64),
        instance.capacity.astype(np.float64),
        start,
        heuristic_deadline,
        swaps=not large,
    )
    if large and not is_feasible(instance, incumbent):
        # Shift moves alone can stall overloaded (Yagiura c801600): the full descent.
        incumbent = _local_search(
            cost.astype(np.float64),
            instance.resource.astype(np.float64),
            instance.capacity.astype(np.float64),
            start,
            heuristic_deadline,
        )
    keep = instance.resource <= instance.capacity[:, None]
    chosen_workers = workers if workers is not None else default_workers()
    jobs = np.arange(n)
    hint: IntArray | None = incumbent if is_feasible(instance, incumbent) else None
    if hint is not None and float(cost[hint, jobs].sum()) <= math.ceil(bound - 1e-6):
        return finish(hint, True, bound, "OPTIMAL")
    cells = knapsack_cells(instance.resource, instance.capacity)
    with_prices = cells <= (_LARGE_MODEL_CELL_LIMIT if large else KNAPSACK_CELL_LIMIT)
    if hint is None or int(keep.sum()) <= _SMALL_MODEL:
        # Small models are often solved outright; without an incumbent CP-SAT is the
        # way to a first feasible assignment.
        share = 0.5 if hint is None else (0.05 if with_prices else 0.2)
        solved, status, sat_bound = _cp_sat(
            instance, cost, keep, hint, share * (deadline - time.monotonic()), chosen_workers, seed
        )
        if sat_bound is not None:
            bound = max(bound, sat_bound)
        if solved is not None and is_feasible(instance, solved):
            if status == "OPTIMAL":
                return finish(solved, True, bound, status)
            hint = solved
        elif status == "INFEASIBLE":
            return finish(None, False, None, status)
    if with_prices:
        float_resource = instance.resource.astype(np.float64)
        float_capacity = instance.capacity.astype(np.float64)
        float_cost = cost.astype(np.float64)

        priced_share = _LAGRANGIAN_SHARE_LARGE if large else _LAGRANGIAN_SHARE_SMALL
        priced_deadline = started + priced_share * time_limit_s

        def polish(start: IntArray) -> IntArray | None:
            improved = _local_search(
                float_cost, float_resource, float_capacity, start, priced_deadline
            )
            return improved if is_feasible(instance, improved) else None

        priced = lagrangian_search(
            cost,
            instance.resource,
            instance.capacity,
            prices=relaxation.job_price,
            upper=math.inf if hint is None else float(cost[hint, jobs].sum()),
            deadline=priced_deadline,
            polish=polish,
            seed=seed,
        )
        bound = max(bound, priced.bound)
        if priced.assignment is not None:
            hint = priced.assignment
        if hint is not None and float(cost[hint, jobs].sum()) <= math.ceil(bound - 1e-6):
            return finish(hint, True, bound, "OPTIMAL")
    if hint is None:
        return finish(None, False, bound, "UNKNOWN")

    target = math.ceil(bound - 1e-6)
    upper = float(cost[hint, jobs].sum())
    margin = 0.05 * min(time_limit_s, 2.0)
    if instance.agents * instance.jobs > _LNS_PAIRS:
        improved = lns_search(
            cost,
            instance.resource,
            instance.capacity,
            hint,
            guide=relaxation.reduced_cost,
            deadline=deadline - margin,
            target=target,
            seed=seed,
            threads=min(2, chosen_workers),
        ).assignment
        if is_feasible(instance, improved) and int(cost[improved, jobs].sum()) < upper:
            hint = improved
        proven = int(cost[hint, jobs].sum()) <= target
        return finish(hint, proven, bound, "OPTIMAL" if proven else "FEASIBLE")
    # Reduced-cost fixing needs the LP's own bound and reduced costs.
    keep &= relaxation.bound + relaxation.reduced_cost <= upper + 1e-6
    keep[hint, jobs] = True
    sat_seconds = deadline - time.monotonic() - margin
    background = (
        _BackgroundSat(instance, cost, keep, hint, sat_seconds, max(1, chosen_workers - 1), seed)
        if sat_seconds > 0.5 and int(keep.sum()) <= _BACKGROUND_MODEL_LIMIT
        else None
    )
    searched = tabu_search(
        cost.astype(np.float64),
        instance.resource.astype(np.float64),
        instance.capacity.astype(np.float64),
        hint,
        deadline - margin,
        seed,
        target,
    )
    candidates = [hint]
    if searched is not None and is_feasible(instance, searched):
        candidates.append(searched)
    status = "FEASIBLE"
    if background is not None:
        solved, sat_status, sat_bound = background.join()
        if sat_bound is not None:
            bound = max(bound, sat_bound)
        if solved is not None and is_feasible(instance, solved):
            candidates.append(solved)
            status = sat_status
    best = min(candidates, key=lambda assign: int(cost[assign, jobs].sum()))
    proven = status == "OPTIMAL" or int(cost[best, jobs].sum()) <= math.ceil(bound - 1e-6)
    return finish(best, proven, bound, "OPTIMAL" if proven else "FEASIBLE")
