"""Large-neighbourhood search for the GAP: free the jobs of a few related agents, keep
every other job where it is, and re-solve the small problem exactly with CP-SAT.

Each step picks a seed agent (in a shuffled round) and adds agents that the jobs on the
chosen ones would most cheaply move to, judged by a guide matrix (reduced costs from the
relaxation: lower is more attractive), or, now and then, agents at random. The jobs on
the chosen agents (a random part of them when there are more than the sub-problem size)
may then go to any chosen agent within its capacity, but only through the pairs the guide
rates best (about 3, 5 or 8 per job, in turn) or their current one; CP-SAT, hinted with
the current placement, solves that sub-problem within a small deterministic time budget.
A placement at least as good replaces the current one (equal ones too, so the search
drifts across plateaus). The sub-problem size adapts: it grows while CP-SAT proves its
sub-problems optimal and shrinks while it runs out of budget. The pair restriction is a
heuristic: it can miss an improvement that needs a poorly rated pair.

Several threads may search at once on disjoint sets of agents (CP-SAT releases the
interpreter lock while it solves); a sub-problem touches only its own agents' jobs and
loads, so their results never conflict.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Free jobs per sub-problem: start, least and most.
_START_FREE = 60
_MIN_FREE = 16
_MAX_FREE = 400
# CP-SAT budget per sub-problem (deterministic time units, about seconds of one core).
_SUB_DETERMINISTIC = 0.03
# Share of steps whose extra agents are drawn at random rather than by the guide.
_RANDOM_SHARE = 0.2
# Alternatives per job counted when scoring related agents.
_ALTERNATIVES = 2
# Pairs per job (on average) a sub-problem may use, cycled step by step: the pairs the
# guide rates best. Restricting them makes each sub-problem far smaller, so more agents
# fit in one; without it the sub-problems are too small to find much.
_DENSITIES = (3.0, 5.0, 8.0)


@dataclass(frozen=True)
class LnsOutcome:
    """Best assignment (feasible when the start was), its cost and how many steps ran."""

    assignment: IntArray
    cost: int
    steps: int
    improvements: int


def _pick_agents(
    seed_agent: int,
    count: int,
    assign: IntArray,
    guide: FloatArray,
    rng: np.random.Generator,
    at_random: bool,
    busy: npt.NDArray[np.bool_],
) -> list[int]:
    """``seed_agent`` and up to ``count - 1`` more agents, none of them ``busy``."""
    agents = guide.shape[0]
    chosen = [seed_agent]
    inside = np.zeros(agents, dtype=np.bool_)
    inside[seed_agent] = True
    while len(chosen) < count:
        taken = inside | busy
        if taken.all():
            break
        if at_random:
            pick = int(rng.choice(np.nonzero(~taken)[0]))
        else:
            jobs_on = np.nonzero(inside[assign])[0]
            masked = guide[:, jobs_on].copy()
            masked[taken] = np.inf
            take = min(_ALTERNATIVES, int((~taken).sum()))
            best = np.argpartition(masked, take - 1, axis=0)[:take]
            finite = np.isfinite(np.take_along_axis(masked, best, axis=0))
            score = np.bincount(best[finite], minlength=agents).astype(np.float64) + 0.5
            score[taken] = 0.0
            pick = int(rng.choice(agents, p=score / score.sum()))
        chosen.append(pick)
        inside[pick] = True
    return chosen


def _solve_sub(
    cost: IntArray,
    resource: IntArray,
    room: IntArray,
    agents: list[int],
    free: IntArray,
    assign: IntArray,
    allowed: npt.NDArray[np.bool_],
    seconds: float,
    seed: int,
) -> tuple[dict[int, int] | None, bool]:
    """Best placement of ``free`` jobs on ``agents`` within ``room`` (indexed like
    ``agents``); also whether CP-SAT proved it optimal."""
    model = cp_model.CpModel()
    variables: list[cp_model.IntVar] = []
    coefficients: list[int] = []
    pairs: list[tuple[int, int]] = []
    by_agent: list[tuple[list[cp_model.IntVar], list[int]]] = [([], []) for _ in agents]
    current = 0
    for job in free.tolist():
        options: list[cp_model.IntVar] = []
        current += int(cost[assign[job], job])
        for position, agent in enumerate(agents):
            weight = int(resource[agent, job])
            if weight > room[position] or not (allowed[agent, job] or assign[job] == agent):
                continue
            var = model.new_bool_var("")
            options.append(var)
            variables.append(var)
            coefficients.append(int(cost[agent, job]))
            pairs.append((agent, job))
            by_agent[position][0].append(var)
            by_agent[position][1].append(weight)
            model.add_hint(var, bool(assign[job] == agent))
        model.add_exactly_one(options)
    for position, (members, weights) in enumerate(by_agent):
        if members:
            model.add(cp_model.LinearExpr.weighted_sum(members, weights) <= int(room[position]))
    objective = cp_model.LinearExpr.weighted_sum(variables, coefficients)
    model.add(objective <= current)
    model.minimize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.01)
    solver.parameters.max_deterministic_time = _SUB_DETERMINISTIC
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    placed = {
        job: agent
        for (agent, job), var in zip(pairs, variables, strict=True)
        if solver.boolean_value(var)
    }
    return placed, status == cp_model.OPTIMAL


class _State:
    """The assignment being improved, shared by the search threads. Threads work on
    disjoint sets of agents (``busy``), so a sub-problem's jobs and rooms cannot change
    while it is solved; the lock only guards the bookkeeping."""

    def __init__(self, cost: IntArray, resource: IntArray, start: IntArray) -> None:
        agents, jobs = cost.shape
        all_jobs = np.arange(jobs)
        self.assign = start.copy()
        self.load = np.bincount(
            self.assign, weights=resource[self.assign, all_jobs], minlength=agents
        ).astype(np.int64)
        self.total = int(cost[self.assign, all_jobs].sum())
        self.busy = np.zeros(agents, dtype=np.bool_)
        self.lock = threading.Lock()
        self.steps = 0
        self.improvements = 0


def _worker(
    state: _State,
    cost: IntArray,
    resource: IntArray,
    capacity: IntArray,
    guide: FloatArray,
    allowed_by_density: list[npt.NDArray[np.bool_]],
    deadline: float,
    target: float,
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    agents, jobs = cost.shape
    free_target = float(min(_START_FREE, jobs))
    order: list[int] = []
    steps = 0
    while state.total > target and time.monotonic() < deadline - 0.02:
        steps += 1
        with state.lock:
            state.steps += 1
            if not order:
                order = rng.permutation(agents).tolist()
            seed_agent = order.pop()
            if state.busy[seed_agent]:
                continue
            count = int(min(agents, max(2, round(free_target * agents / jobs))))
            chosen = _pick_agents(
                seed_agent,
                count,
                state.assign,
                guide,
                rng,
                bool(rng.random() < _RANDOM_SHARE),
                state.busy,
            )
            state.busy[chosen] = True
            assign = state.assign.copy()
            load = state.load.copy()
        try:
            on_chosen = np.nonzero(np.isin(assign, chosen))[0]
            limit = int(round(free_target))
            if on_chosen.size > limit:
                free = np.sort(rng.choice(on_chosen, size=limit, replace=False))
            else:
                free = on_chosen
            if free.size == 0:
                continue
            room = np.array(
                [
                    capacity[agent]
                    - load[agent]
                    + int(resource[agent, free[assign[free] == agent]].sum())
                    for agent in chosen
                ],
                dtype=np.int64,
            )
            placed, optimal = _solve_sub(
                cost,
                resource,
                room,
                chosen,
                free,
                assign,
                allowed_by_density[steps % len(allowed_by_density)],
                deadline - time.monotonic(),
                int(rng.integers(1 << 30)),
            )
            if placed is not None and len(placed) == free.size:
                _apply(state, cost, resource, free, placed)
            if optimal:
                free_target = min(free_target * 1.05, float(_MAX_FREE), float(jobs))
            else:
                free_target = max(free_target / 1.05, float(_MIN_FREE))
        finally:
            with state.lock:
                state.busy[chosen] = False


def _apply(
    state: _State, cost: IntArray, resource: IntArray, free: IntArray, placed: dict[int, int]
) -> None:
    with state.lock:
        before = int(cost[state.assign[free], free].sum())
        after = sum(int(cost[agent, job]) for job, agent in placed.items())
        if after > before:
            return
        for job, agent in placed.items():
            old = int(state.assign[job])
            if old != agent:
                state.load[old] -= int(resource[old, job])
                state.load[agent] += int(resource[agent, job])
                state.assign[job] = agent
        if after < before:
            state.total -= before - after
            state.improvements += 1


def lns_search(
    cost: IntArray,
    resource: IntArray,
    capacity: IntArray,
    start: IntArray,
    *,
    guide: FloatArray,
    deadline: float,
    target: float,
    seed: int = 0,
    threads: int = 1,
) -> LnsOutcome:
    """Improve the feasible assignment ``start`` (costs minimised) until ``deadline`` or
    its cost reaches ``target`` (a lower bound). ``guide[i, j]``: how attractive job j is
    on agent i (lower is better; ``inf`` where it may not go). With ``threads`` > 1 that
    many searches share the assignment, each on its own agents (CP-SAT releases the
    interpreter lock while it solves); one thread is deterministic for a given seed up to
    the deadline."""
    agents, jobs = cost.shape
    # Pairs a sub-problem may use besides the current ones: the most attractive by the
    # guide, about ``density`` per job, the density cycling through _DENSITIES.
    ordered = np.sort(guide[np.isfinite(guide)])
    allowed_by_density = [
        guide <= ordered[min(ordered.size - 1, int(density * jobs))] for density in _DENSITIES
    ]
    state = _State(cost, resource, start)
    arguments = (state, cost, resource, capacity, guide, allowed_by_density, deadline, target)
    # Two searches on the same agents would clash; each needs at least two of its own.
    count = max(1, min(threads, agents // 4))
    helpers = [
        threading.Thread(target=_worker, args=(*arguments, seed + 1 + index), daemon=True)
        for index in range(count - 1)
    ]
    for helper in helpers:
        helper.start()
    _worker(*arguments, seed)
    for helper in helpers:
        helper.join()
    return LnsOutcome(
        assignment=state.assign,
        cost=state.total,
        steps=state.steps,
        improvements=state.improvements,
    )
