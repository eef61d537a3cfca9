"""Real-time single-case assignment between nightly runs.

The state is incremental: the hours booked per collector, each assigned case's
collector and effort, and the nightly plan's price per collector hour. Placing a new or
returned case looks only at its own k candidates (O(k)), so latency does not grow with
the number of cases already assigned. The choice maximises the same objective as the
nightly plan: value, plus the continuity bonus for the case's previous collector, less
the priced hours and any fairness penalty, among collectors with the hours free; like the
nightly plan it leaves a case whose best such score is zero or below unassigned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from debtflow.core.dispatch.assignment import NO_COLLECTOR, AssignmentPolicy

FloatArray = npt.NDArray[np.float64]


class RealtimeAssignmentError(ValueError):
    """Bad input for a real-time placement (unknown collector, bad effort, duplicate case)."""


@dataclass(frozen=True)
class RealtimeChoice:
    """``collector`` is NO_COLLECTOR when no candidate had hours free or none had a
    positive score (the case waits for the nightly run, which would not place it either);
    ``runner_up`` the next best candidate with hours free."""

    case_id: int
    collector: int
    runner_up: int
    score: float


class RealtimeDispatcher:
    """Loads, prices and assignments kept in memory and updated per event."""

    def __init__(
        self,
        capacity_hours: FloatArray,
        *,
        price_per_hour: FloatArray | None = None,
        policy: AssignmentPolicy | None = None,
    ) -> None:
        capacity = np.asarray(capacity_hours, dtype=np.float64)
        if capacity.ndim != 1 or (capacity < 0).any() or not np.isfinite(capacity).all():
            raise RealtimeAssignmentError(
                "capacities must be non-negative hours, one per collector"
            )
        self.policy = policy or AssignmentPolicy()
        self.policy.validate()
        self.capacity_hours = capacity.copy()
        self.load_hours = np.zeros_like(capacity)
        if price_per_hour is None:
            self.price_per_hour = np.zeros_like(capacity)
        else:
            prices = np.asarray(price_per_hour, dtype=np.float64)
            if prices.shape != capacity.shape:
                raise RealtimeAssignmentError("one price per collector is needed")
            self.price_per_hour = prices.copy()
        self._assigned: dict[int, tuple[int, float]] = {}
        self._previous: dict[int, int] = {}

    @property
    def assigned_cases(self) -> int:
        return len(self._assigned)

    def collector_of(self, case_id: int) -> int:
        entry = self._assigned.get(case_id)
        return entry[0] if entry is not None else NO_COLLECTOR

    def load_plan(
        self,
        case_ids: npt.NDArray[np.int64],
        collector_of_case: npt.NDArray[np.int32],
        effort_hours: FloatArray,
    ) -> None:
        """Take over the nightly plan (replaces the current state)."""
        if not case_ids.shape == collector_of_case.shape == effort_hours.shape:
            raise RealtimeAssignmentError("case ids, collectors and efforts must align")
        placed = collector_of_case != NO_COLLECTOR
        if (collector_of_case[placed] >= self.capacity_hours.size).any():
            raise RealtimeAssignmentError("the plan names a collector that does not exist")
        self.load_hours = np.bincount(
            collector_of_case[placed],
            weights=effort_hours[placed],
            minlength=self.capacity_hours.size,
        ).astype(np.float64)
        self._assigned = {
            int(case): (int(collector), float(effort))
            for case, collector, effort in zip(
                case_ids[placed].tolist(),
                collector_of_case[placed].tolist(),
                effort_hours[placed].tolist(),
                strict=True,
            )
        }

    def assign(
        self,
        case_id: int,
        candidates: npt.NDArray[np.int32],
        values_fen: npt.NDArray[np.int64],
        effort_hours: float,
        *,
        previous_collector: int = NO_COLLECTOR,
    ) -> RealtimeChoice:
        """Place one case now. A returned case names its previous collector, which gets
        the continuity bonus."""
        if case_id in self._assigned:
            raise RealtimeAssignmentError(f"case {case_id} is already assigned")
        if not effort_hours > 0:
            raise RealtimeAssignmentError("effort must be a positive number of hours")
        collectors = np.asarray(candidates, dtype=np.int64)
        values = np.asarray(values_fen, dtype=np.float64)
        if collectors.shape != values.shape or collectors.ndim != 1:
            raise RealtimeAssignmentError("one value per candidate collector is needed")
        if collectors.size and (
            (collectors < 0).any() or (collectors >= self.capacity_hours.size).any()
        ):
            raise RealtimeAssignmentError("a candidate collector does not exist")
        if previous_collector == NO_COLLECTOR:
            previous_collector = self._previous.get(case_id, NO_COLLECTOR)
        score = values - self.price_per_hour[collectors] * effort_hours
        if previous_collector != NO_COLLECTOR:
            score = score + (collectors == previous_collector) * float(
                self.policy.continuity_threshold_fen
            )
        load_after = self.load_hours[collectors] + effort_hours
        capacity = self.capacity_hours[collectors]
        policy = self.policy
        if policy.fairness_penalty_fen_per_hour > 0 and policy.fair_share < 1.0:
            fair = policy.fair_share * capacity
            over = np.maximum(load_after - fair, 0.0) - np.maximum(
                load_after - effort_hours - fair, 0.0
            )
            score = score - policy.fairness_penalty_fen_per_hour * over
        score = np.where(load_after <= capacity + 1e-9, score, -np.inf)
        if score.size == 0 or not np.isfinite(score).any():
            return RealtimeChoice(case_id, NO_COLLECTOR, NO_COLLECTOR, float("-inf"))
        order = np.argsort(-score)
        best = int(order[0])
        if not score[best] > 0:
            # the nightly plan leaves such a case in the queue rather than work it at a loss
            return RealtimeChoice(case_id, NO_COLLECTOR, NO_COLLECTOR, float(score[best]))
        runner = NO_COLLECTOR
        if order.size > 1 and np.isfinite(score[order[1]]):
            runner = int(collectors[order[1]])
        chosen = int(collectors[best])
        self.load_hours[chosen] += effort_hours
        self._assigned[case_id] = (chosen, float(effort_hours))
        return RealtimeChoice(case_id, chosen, runner, float(score[best]))

    def release(self, case_id: int) -> None:
        """The case left its collector (closed, recalled or returned): free the hours and
        remember the collector for continuity if the case comes back."""
        entry = self._assigned.pop(case_id, None)
        if entry is None:
            raise RealtimeAssignmentError(f"case {case_id} is not assigned")
        collector, effort = entry
        self.load_hours[collector] = max(0.0, self.load_hours[collector] - effort)
        self._previous[case_id] = collector
