"""Tabu search for the GAP over shift and swap moves with strategic oscillation.

Overload is priced by a weight that grows while the current assignment is infeasible and
shrinks while it is feasible, so the search crosses the capacity boundary. Used by
``gap.solve_gap`` on small and medium models.
"""

from __future__ import annotations

import math
import time

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Up to this many jobs the tabu search also evaluates every job exchange each iteration.
_FULL_SWAP_JOBS = 400
_TENURE_DIVISOR = 20
_TENURE_BASE = 3
# Iterations without a new best before the tabu search restarts from a perturbed best.
_STALL_ITERATIONS = 600


def tabu_search(
    cost: FloatArray,
    resource: FloatArray,
    capacity: FloatArray,
    start: IntArray,
    deadline: float,
    seed: int,
    target: float,
) -> IntArray | None:
    """Tabu search over shift moves with strategic oscillation: overload is priced by a
    weight that grows while the current assignment is infeasible and shrinks while it is
    feasible, so the search crosses the capacity boundary (a shift into an overloaded
    agent followed by a shift out of it acts as a swap or an ejection chain). A job may
    not return to the agent it just left for a few iterations unless that gives a new
    best feasible assignment. Returns the best feasible assignment seen, if any."""
    rng = np.random.default_rng(seed)
    m, n = cost.shape
    jobs = np.arange(n)
    assign = start.copy()
    load: FloatArray = np.bincount(assign, weights=resource[assign, jobs], minlength=m).astype(
        np.float64
    )
    forbidden = resource > capacity[:, None]
    tabu_until = np.zeros((m, n), dtype=np.int64)
    weight = float(np.abs(cost).mean()) / max(float(resource.mean()), 1e-9)
    current = float(cost[assign, jobs].sum())
    best: IntArray | None = None
    best_cost = math.inf
    if (load <= capacity + 1e-9).all():
        best, best_cost = assign.copy(), current
    iteration = 0
    tenure_spread = max(2, n // _TENURE_DIVISOR)
    with_swaps = n <= _FULL_SWAP_JOBS
    last_gain = 0
    while best_cost > target and time.monotonic() < deadline:
        iteration += 1
        if best is not None and iteration - last_gain > _STALL_ITERATIONS:
            # Stagnation: restart from the best assignment with a few random shifts.
            assign = best.copy()
            moved = rng.choice(n, size=max(2, n // 10), replace=False)
            assign[moved] = rng.integers(0, m, size=moved.size)
            load = np.bincount(assign, weights=resource[assign, jobs], minlength=m).astype(
                np.float64
            )
            current = float(cost[assign, jobs].sum())
            tabu_until[:] = 0
            last_gain = iteration
        own_res = resource[assign, jobs]
        over_now = np.maximum(load - capacity, 0.0)
        leave = np.maximum(load[assign] - own_res - capacity[assign], 0.0) - over_now[assign]
        arrive = np.maximum(load[:, None] + resource - capacity[:, None], 0.0)
        arrive -= over_now[:, None]
        cost_delta = cost - cost[assign, jobs]
        overload_after = over_now.sum() + arrive + leave
        delta = cost_delta + weight * (arrive + leave)
        delta[assign, jobs] = np.inf
        delta[forbidden] = np.inf
        aspiration = (overload_after <= 1e-9) & (current + cost_delta < best_cost - 1e-9)
        delta[(tabu_until > iteration) & ~aspiration] = np.inf
        flat = int(np.argmin(delta))
        if with_swaps:
            swap = _best_swap_move(
                cost,
                resource,
                capacity,
                assign,
                load,
                weight,
                tabu_until,
                iteration,
                current,
                best_cost,
            )
            if swap is not None and swap[0] < float(delta.flat[flat]):
                _, job, partner, swap_cost = swap
                a, b = int(assign[job]), int(assign[partner])
                load[a] += resource[a, partner] - resource[a, job]
                load[b] += resource[b, job] - resource[b, partner]
                assign[job], assign[partner] = b, a
                current += swap_cost
                tenure = _TENURE_BASE + int(rng.integers(tenure_spread))
                tabu_until[a, job] = iteration + tenure
                tabu_until[b, partner] = iteration + tenure
                if (load <= capacity + 1e-9).all():
                    if current < best_cost - 1e-9:
                        best, best_cost, last_gain = assign.copy(), current, iteration
                    weight /= 1.02
                else:
                    weight *= 1.02
                continue
        if not math.isfinite(float(delta.flat[flat])):
            break
        to_agent, job = divmod(flat, n)
        from_agent = int(assign[job])
        load[from_agent] -= resource[from_agent, job]
        load[to_agent] += resource[to_agent, job]
        assign[job] = to_agent
        current += float(cost_delta[to_agent, job])
        tabu_until[from_agent, job] = iteration + _TENURE_BASE + int(rng.integers(tenure_spread))
        if (load <= capacity + 1e-9).all():
            if current < best_cost - 1e-9:
                best, best_cost, last_gain = assign.copy(), current, iteration
            weight /= 1.02
        else:
            weight *= 1.02
    return best


def _best_swap_move(
    cost: FloatArray,
    resource: FloatArray,
    capacity: FloatArray,
    assign: IntArray,
    load: FloatArray,
    weight: float,
    tabu_until: npt.NDArray[np.int64],
    iteration: int,
    current: float,
    best_cost: float,
) -> tuple[float, int, int, float] | None:
    """Best non-tabu exchange of two jobs between their agents, over all pairs:
    (penalised delta, job, partner, cost delta)."""
    n = assign.size
    jobs = np.arange(n)
    own_cost = cost[assign, jobs]
    own_res = resource[assign, jobs]
    by_own = cost[assign]  # [j, k] = cost of job k on j's agent
    cost_delta = by_own.T + by_own - own_cost[:, None] - own_cost[None, :]
    res_own = resource[assign]  # [j, k] = resource of job k on j's agent
    over_now = np.maximum(load - capacity, 0.0)
    cap_j = capacity[assign]
    base_j = load[assign] - own_res
    new_j = base_j[:, None] + res_own  # j's agent after giving j, taking k
    new_k = base_j[None, :] + res_own.T  # k's agent after giving k, taking j
    change = (
        np.maximum(new_j - cap_j[:, None], 0.0)
        - over_now[assign][:, None]
        + np.maximum(new_k - cap_j[None, :], 0.0)
        - over_now[assign][None, :]
    )
    delta = cost_delta + weight * change
    same = assign[:, None] == assign[None, :]
    tabu = (tabu_until[assign[None, :], jobs[:, None]] > iteration) | (
        tabu_until[assign[:, None], jobs[None, :]] > iteration
    )
    feasible_after = over_now.sum() + change <= 1e-9
    aspiration = feasible_after & (current + cost_delta < best_cost - 1e-9)
    forbidden = (resource[assign[None, :], jobs[:, None]] > cap_j[None, :]) | (
        resource[assign[:, None], jobs[None, :]] > cap_j[:, None]
    )
    delta[same | forbidden | (tabu & ~aspiration)] = np.inf
    flat = int(np.argmin(delta))
    if not math.isfinite(float(delta.flat[flat])):
        return None
    job, partner = divmod(flat, n)
    return float(delta.flat[flat]), job, partner, float(cost_delta.flat[flat])
