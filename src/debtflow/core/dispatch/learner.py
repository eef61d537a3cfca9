"""Learning match values from outcomes: linear Thompson sampling per collector.

The documented priors (`match.py`) give every pair a prior probability of recovery p₀.
After each outcome the learner fits, per collector, a Bayesian ridge regression of the
*surprise* (reward − p₀) on the case context z (emotion, deliberate default, hardship,
small business, rural, lateness, propensity; `features.CONTEXT_FEATURES`):

    A_k = λ I + Σ z zᵀ,   b_k = Σ (reward − p₀) z,   θ_k = A_k⁻¹ b_k

so a collector who recovers more than the priors expect from, say, angry debtors gains
probability (and so value) exactly for such debtors, and a collector with no history
keeps the priors. Exploration: for a configurable share of cases (chosen by a seeded
hash of the case id and the scoring round) the scorer uses a posterior sample
θ̃_k ~ N(θ_k, σ² A_k⁻¹) instead of the mean. All randomness comes from the seed and a
round counter stored in the state, so a replay gives the same answer.

State serialises to JSON (text or UTF-8 bytes) for a database column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from debtflow.core.dispatch.features import CONTEXT_COUNT, FloatArray, IntArray, MatchInputError

STATE_VERSION = 1
PROMISE_CREDIT = 0.3  # reward for a promise to pay when nothing was recovered yet
CONTACT_CREDIT = 0.1  # reward for a right-party contact without promise or payment


@dataclass(frozen=True)
class DispatchOutcome:
    """What happened on a case while a collector held it."""

    balance_fen: int
    recovered_fen: int = 0
    promised: bool = False
    contacted: bool = False

    def __post_init__(self) -> None:
        if self.balance_fen <= 0:
            raise MatchInputError("outcome balance must be positive")
        if self.recovered_fen < 0:
            raise MatchInputError("recovered amount must not be negative")


def outcome_reward(outcome: DispatchOutcome) -> float:
    """0..1: share recovered, else partial credit for a promise or a contact."""
    share = min(1.0, outcome.recovered_fen / outcome.balance_fen)
    return max(
        share,
        PROMISE_CREDIT if outcome.promised else 0.0,
        CONTACT_CREDIT if outcome.contacted else 0.0,
    )


def _mix64(values: np.ndarray[Any, np.dtype[np.uint64]]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """splitmix64 finaliser: a fixed, platform-independent hash of 64-bit integers."""
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        result: np.ndarray[Any, np.dtype[np.uint64]] = z ^ (z >> np.uint64(31))
    return result


class OutcomeLearner:
    """Per-collector linear Thompson sampling over the case context (see module doc)."""

    def __init__(
        self,
        *,
        exploration_share: float = 0.1,
        prior_strength: float = 5.0,
        noise: float = 0.25,
        seed: int = 0,
        dimension: int = CONTEXT_COUNT,
    ) -> None:
        if not 0.0 <= exploration_share <= 1.0:
            raise MatchInputError("exploration share must be within 0..1")
        if prior_strength <= 0 or noise < 0:
            raise MatchInputError("prior strength must be positive and noise not negative")
        if dimension < 1:
            raise MatchInputError("dimension must be positive")
        self.exploration_share = exploration_share
        self.prior_strength = prior_strength
        self.noise = noise
        self.seed = seed
        self.dimension = dimension
        self.round = 0
        self._precision: dict[int, FloatArray] = {}
        self._target: dict[int, FloatArray] = {}
        self._count: dict[int, int] = {}

    # ------------------------------------------------------------------ updates

    def record(
        self,
        *,
        collector_id: int,
        context: FloatArray,
        prior_probability: float,
        outcome: DispatchOutcome,
    ) -> None:
        """Fold one outcome in: `prior_probability` is p₀ the priors gave this pair."""
        z = np.asarray(context, dtype=np.float64)
        if z.shape != (self.dimension,):
            raise MatchInputError(f"context must have {self.dimension} entries")
        if not np.all(np.isfinite(z)):
            raise MatchInputError("context must be finite")
        if not 0.0 <= prior_probability <= 1.0:
            raise MatchInputError("prior probability must be within 0..1")
        if collector_id not in self._precision:
            self._precision[collector_id] = self.prior_strength * np.eye(self.dimension)
            self._target[collector_id] = np.zeros(self.dimension)
            self._count[collector_id] = 0
        surprise = outcome_reward(outcome) - prior_probability
        self._precision[collector_id] += np.outer(z, z)
        self._target[collector_id] += surprise * z
        self._count[collector_id] += 1

    def outcomes_seen(self, collector_id: int) -> int:
        return self._count.get(collector_id, 0)

    def mean(self, collector_id: int) -> FloatArray:
        """θ_k (zeros for a collector without outcomes)."""
        if collector_id not in self._precision:
            return np.zeros(self.dimension)
        solved = np.linalg.solve(self._precision[collector_id], self._target[collector_id])
        return np.asarray(solved, dtype=np.float64)

    # ------------------------------------------------------------------ scoring

    def exploring(self, case_ids: IntArray, round_number: int) -> np.ndarray[Any, Any]:
        """Which cases explore in a round: a seeded hash below the exploration share."""
        salt = _mix64(np.array([self.seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
        with np.errstate(over="ignore"):
            keys = np.asarray(case_ids).astype(np.uint64) * np.uint64(0x100000001B3)
            keys = keys ^ salt ^ np.uint64(round_number)
        uniform = (_mix64(keys) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
        return uniform < self.exploration_share

    def adjustment(
        self,
        context: FloatArray,
        collector_ids: IntArray,
        case_ids: IntArray,
        *,
        explore: bool,
    ) -> FloatArray:
        """Probability shift per pair; with `explore`, sampled for the exploring share."""
        z = np.asarray(context, dtype=np.float64)
        ids = np.asarray(collector_ids, dtype=np.int64)
        if z.ndim != 2 or z.shape[1] != self.dimension or len(z) != len(ids):
            raise MatchInputError("context rows and collector ids must align")
        shift = np.zeros(len(ids), dtype=np.float64)
        known = sorted(self._precision)
        if not known or not len(ids):
            return shift
        known_ids = np.array(known, dtype=np.int64)
        theta = np.stack([self.mean(k) for k in known])
        pos = np.clip(np.searchsorted(known_ids, ids), 0, len(known_ids) - 1)
        has_model = known_ids[pos] == ids
        if explore and self.exploration_share > 0.0:
            round_number = self.round
            self.round += 1
            rng = np.random.default_rng([self.seed & 0xFFFFFFFF, round_number])
            sampled = np.empty_like(theta)
            for row, k in enumerate(known):
                covariance_root = np.linalg.cholesky(np.linalg.inv(self._precision[k]))
                sampled[row] = theta[row] + self.noise * covariance_root @ rng.standard_normal(
                    self.dimension
                )
            explore_rows = self.exploring(np.asarray(case_ids), round_number) & has_model
            chosen = np.where(explore_rows[:, None], sampled[pos], theta[pos])
        else:
            chosen = theta[pos]
        shift[has_model] = np.einsum("ij,ij->i", z[has_model], chosen[has_model])
        return shift

    # ------------------------------------------------------------------ state

    def to_json(self) -> str:
        collectors = {
            str(k): {
                "precision": self._precision[k].tolist(),
                "target": self._target[k].tolist(),
                "count": self._count[k],
            }
            for k in sorted(self._precision)
        }
        return json.dumps(
            {
                "version": STATE_VERSION,
                "exploration_share": self.exploration_share,
                "prior_strength": self.prior_strength,
                "noise": self.noise,
                "seed": self.seed,
                "dimension": self.dimension,
                "round": self.round,
                "collectors": collectors,
            },
            sort_keys=True,
        )

    def to_bytes(self) -> bytes:
        return self.to_json().encode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> OutcomeLearner:
        try:
            state = json.loads(text)
            if not isinstance(state, dict):
                raise MatchInputError("learner state must be a JSON object")
            if state.get("version") != STATE_VERSION:
                raise MatchInputError(f"unsupported learner state version {state.get('version')}")
            learner = cls(
                exploration_share=float(state["exploration_share"]),
                prior_strength=float(state["prior_strength"]),
                noise=float(state["noise"]),
                seed=int(state["seed"]),
                dimension=int(state["dimension"]),
            )
            learner.round = int(state["round"])
            d = learner.dimension
            for key, entry in state["collectors"].items():
                precision = np.array(entry["precision"], dtype=np.float64)
                target = np.array(entry["target"], dtype=np.float64)
                if precision.shape != (d, d) or target.shape != (d,):
                    raise MatchInputError(f"collector {key}: state has the wrong shape")
                learner._precision[int(key)] = precision
                learner._target[int(key)] = target
                learner._count[int(key)] = int(entry["count"])
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, MatchInputError):
                raise
            raise MatchInputError(f"not a learner state: {exc}") from exc
        return learner

    from_bytes = from_json
