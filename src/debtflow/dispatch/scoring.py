"""Shared by nightly, real-time and manual dispatch: load case and collector profiles
(with the debtor's conversation history), the learner as stored, score sparse top-k
candidate pairs, and write one assignment row."""

from __future__ import annotations

import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.core.case.lifecycle import OPEN_STATUSES, CaseStatus
from debtflow.core.dispatch.assignment import (
    AssignmentPolicy,
)
from debtflow.core.dispatch.explain import deciding_between
from debtflow.core.dispatch.features import (
    CaseTable,
    CollectorTable,
    case_context,
    tabulate,
)
from debtflow.core.dispatch.learner import OutcomeLearner
from debtflow.core.dispatch.match import (
    MatchReason,
    PairScores,
    pair_contributions,
    score_pairs,
)
from debtflow.core.dispatch.metrics import fits_case_needs
from debtflow.db import utcnow
from debtflow.dispatch import repository
from debtflow.dispatch.errors import CaseNotFound, CaseNotOpen
from debtflow.dispatch.profiles import (
    CaseEntry,
    CollectorPool,
    case_entry,
    collector_entry,
)
from debtflow.models import (
    DispatchAssignment,
)

MODEL = "dispatch-linear-thompson"
EXPLORATION_SHARE = 0.1
TOP_K = 30
CHUNK_CASES = 5_000
PAIRS_PER_CHUNK = 2_000_000
OVERRIDE_PIN_DAYS = 30
SCENE_HOUR = 10  # the nightly plan values contact hours as of 10:00 on the dispatch day
CONVERSATION_HISTORY_DAYS = 90  # how far back debtor emotions and intents feed matching
POLICY = AssignmentPolicy(
    continuity_threshold_fen=5_000,  # a case moves only when the gain beats ¥50
    fair_share=0.9,
    fairness_penalty_fen_per_hour=500,
)


# ------------------------------------------------------------------ shared loading


def local_zone() -> ZoneInfo:
    return ZoneInfo(get_settings().default_timezone)


def nightly_scene_time(as_of: date) -> datetime:
    return datetime.combine(as_of, time(SCENE_HOUR), local_zone())


def collector_pool(session: Session) -> CollectorPool:
    return CollectorPool([collector_entry(row) for row in repository.active_collectors(session)])


def conversation_since(now: datetime) -> datetime:
    """Start of the window of conversation history that dispatch reads."""
    return now - timedelta(days=CONVERSATION_HISTORY_DAYS)


def case_entries(
    session: Session, rows: Sequence[Any], *, now: datetime | None = None
) -> list[CaseEntry]:
    debtor_ids = [r.debtor_id for r in rows]
    case_ids = [r.id for r in rows]
    addresses = repository.addresses_of(session, debtor_ids)
    phones = repository.reachable_phones(session, debtor_ids)
    products = repository.main_products(session, case_ids)
    until = now or utcnow()
    histories = repository.conversation_histories(
        session, case_ids, since=conversation_since(until), until=until
    )
    entries = []
    for r in rows:
        history = histories.get(r.id)
        entries.append(
            case_entry(
                r,
                address=addresses.get(r.debtor_id),
                has_phone=r.debtor_id in phones,
                product=products.get(r.id),
                emotions=history.emotions if history else None,
                intents=history.intents if history else None,
            )
        )
    return entries


_LEARNER_CACHE: dict[tuple[str, int, datetime], OutcomeLearner] = {}


def new_learner() -> OutcomeLearner:
    return OutcomeLearner(exploration_share=EXPLORATION_SHARE)


def current_learner(session: Session) -> OutcomeLearner:
    """The learner as stored (cached per stored revision), or a fresh one on the priors."""
    state = repository.model_state(session, model=MODEL)
    if state is None:
        return new_learner()
    key = (str(session.get_bind().engine.url), state.revision, state.updated_at)
    cached = _LEARNER_CACHE.get(key)
    if cached is None:
        cached = OutcomeLearner.from_json(state.state)
        _LEARNER_CACHE.clear()
        _LEARNER_CACHE[key] = cached
    return cached


@dataclass(frozen=True)
class AddressRow:
    kind: str
    province: str
    city: str
    latitude: float | None
    longitude: float | None


POOL_TTL_S = 300.0
_REALTIME_CACHE: dict[str, tuple[tuple[Any, ...], float, CollectorPool, OutcomeLearner]] = {}


def realtime_state(session: Session) -> tuple[CollectorPool, OutcomeLearner]:
    """Collector pool and learner for real-time placement, cached until the active
    collectors (count, ids, capacities) or the learner's revision change, and for at most
    POOL_TTL_S seconds."""
    key = str(session.get_bind().engine.url)
    fingerprint = repository.realtime_fingerprint(session, model=MODEL)
    held = _REALTIME_CACHE.get(key)
    if held is not None and held[0] == fingerprint and clock.monotonic() - held[1] < POOL_TTL_S:
        return held[2], held[3]
    pool = collector_pool(session)
    learner = current_learner(session)
    _REALTIME_CACHE[key] = (fingerprint, clock.monotonic(), pool, learner)
    return pool, learner


@dataclass
class ScoredCandidates:
    """Scored candidate pairs of some cases, kept top-k per case. Pair p is (case
    ``scores.case_index[p]``, pool collector ``pair_member[p]``); collectors with the same
    profile share one scoring (``scores.collector_index`` names the representative)."""

    entries: list[CaseEntry]
    cases: CaseTable
    collectors: CollectorTable
    scores: PairScores
    slots: np.ndarray  # (cases, k) pair index, -1 empty, best first
    collector_slots: np.ndarray  # (cases, k) collector index into the pool, -1 empty
    pair_member: np.ndarray  # pair -> pool index of its collector

    def collector_of(self, pair: int) -> int:
        """Pool index of the collector of a scored pair."""
        return int(self.pair_member[pair])


_REPRESENTATIVES: dict[tuple[int, int, int], np.ndarray] = {}


def _representatives(pool: CollectorPool, learner: OutcomeLearner | None) -> np.ndarray:
    """Pool index -> the collector scored in its place: itself, unless another online
    agent or law firm has the same profile and neither has learned outcomes."""
    key = (id(pool), id(learner), learner.round if learner is not None else 0)
    held = _REPRESENTATIVES.get(key)
    if held is not None:
        return held
    reps = pool.representative.copy()
    if learner is not None:
        learned = [
            i
            for i, k in enumerate(pool.collectors)
            if learner.outcomes_seen(k.profile.collector_id) > 0
        ]
        reps[learned] = learned
        # a representative that learned cannot stand in for the others any more
        stale = np.isin(reps, learned) & ~np.isin(np.arange(len(reps)), learned)
        for i in np.flatnonzero(stale):
            group = np.flatnonzero((pool.representative == pool.representative[i]) & stale)
            reps[group] = group[0]
    _REPRESENTATIVES.clear()
    _REPRESENTATIVES[key] = reps
    return reps


def _spread(case_ids: np.ndarray, collector_ids: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random order per (case, collector): equal values rank differently
    for different cases, so a top-k does not give every case the same few collectors."""
    with np.errstate(over="ignore"):
        z = case_ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + collector_ids.astype(
            np.uint64
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z


def score_candidates(
    entries: list[CaseEntry],
    pool: CollectorPool,
    candidates: list[list[int]],
    *,
    scene_time: datetime,
    learner: OutcomeLearner | None,
    explore: bool,
    top_k: int = TOP_K,
) -> ScoredCandidates:
    counts = np.array([len(c) for c in candidates], dtype=np.int64)
    case_index = np.repeat(np.arange(len(entries), dtype=np.int64), counts)
    pool_candidates = (
        np.concatenate([np.asarray(c, dtype=np.int64) for c in candidates])
        if len(candidates) and counts.sum()
        else np.zeros(0, dtype=np.int64)
    )
    # score each case once per distinct collector profile
    size = max(1, len(pool.collectors))
    reps = _representatives(pool, learner)[pool_candidates]
    unique_keys, inverse = np.unique(case_index * size + reps, return_inverse=True)
    inverse = inverse.reshape(-1)
    pool_index, local = np.unique(unique_keys % size, return_inverse=True)
    cases, collectors = tabulate(
        [e.profile for e in entries],
        [pool.collectors[int(k)].profile for k in pool_index],
        scene_time=scene_time,
    )
    unique_scores = score_pairs(
        cases,
        collectors,
        unique_keys // size,
        local.reshape(-1).astype(np.int64),
        scene_time=scene_time,
        learner=learner,
        explore=explore,
    )
    scores = PairScores(
        case_index=unique_scores.case_index[inverse],
        collector_index=unique_scores.collector_index[inverse],
        probability=unique_scores.probability[inverse],
        expected_recovery_fen=unique_scores.expected_recovery_fen[inverse],
        cost_fen=unique_scores.cost_fen[inverse],
        value_fen=unique_scores.value_fen[inverse],
        reason_codes=unique_scores.reason_codes[inverse],
        reason_logits=unique_scores.reason_logits[inverse],
        distance_km=unique_scores.distance_km[inverse],
    )
    # best top_k pairs per case, best first; equal values in a per-case pseudo-random order
    ids = np.array([k.profile.collector_id for k in pool.collectors], dtype=np.int64)
    spread = _spread(cases.case_ids[case_index], ids[pool_candidates] if len(ids) else ids)
    order = np.lexsort((spread, -scores.value_fen, case_index))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
    rank = np.arange(len(order)) - np.repeat(starts, counts)
    keep = rank < top_k
    slots = np.full((len(entries), top_k), -1, dtype=np.int64)
    slots[case_index[order][keep], rank[keep]] = order[keep]
    collector_slots = np.full_like(slots, -1)
    filled = slots >= 0  # none when no case has a candidate (no online agent active)
    collector_slots[filled] = pool_candidates[slots[filled]]
    return ScoredCandidates(
        entries, cases, collectors, scores, slots, collector_slots, pool_candidates
    )


def reason_list(reasons: Sequence[MatchReason]) -> list[dict[str, Any]]:
    return [{"code": r.code, "logit": round(r.logit, 4)} for r in reasons]


def deciding_reasons(
    scored: ScoredCandidates,
    chosen_pairs: np.ndarray,
    runner_pairs: np.ndarray,
    *,
    scene_time: datetime,
    learner: OutcomeLearner | None,
) -> list[list[dict[str, Any]]]:
    """Per (chosen, runner-up) pair: the reasons that favour the chosen collector most,
    each with whom its words are about (`core.dispatch.explain.deciding_between`)."""
    if len(chosen_pairs) == 0:
        return []
    s = scored.scores
    both_cases = np.concatenate([s.case_index[chosen_pairs], s.case_index[runner_pairs]])
    both_collectors = np.concatenate(
        [s.collector_index[chosen_pairs], s.collector_index[runner_pairs]]
    )
    parts = pair_contributions(
        scored.cases,
        scored.collectors,
        both_cases,
        both_collectors,
        scene_time=scene_time,
        learner=learner,
    )
    n = len(chosen_pairs)
    return [
        [
            {"code": r.code, "logit": round(r.logit, 4), "about": r.about}
            for r in deciding_between(chosen, runner)
        ]
        for chosen, runner in zip(parts.contributions[:n], parts.contributions[n:], strict=True)
    ]


def prior_probability(
    scored: ScoredCandidates, pairs: np.ndarray, *, scene_time: datetime
) -> np.ndarray:
    if len(pairs) == 0:
        return np.zeros(0)
    s = scored.scores
    parts = pair_contributions(
        scored.cases,
        scored.collectors,
        s.case_index[pairs],
        s.collector_index[pairs],
        scene_time=scene_time,
        learner=None,
    )
    return parts.probability


def assignment_values(
    scored: ScoredCandidates,
    pool: CollectorPool,
    *,
    local: int,
    pair: int,
    runner_pair: int,
    deciding: list[dict[str, Any]],
    prior: float,
) -> dict[str, Any]:
    """The columns of one assignment row that come from scoring."""
    s = scored.scores
    entry = scored.entries[local]
    collector = pool.collectors[scored.collector_of(pair)]
    verdict = fits_case_needs(entry.profile, collector.profile)
    values: dict[str, Any] = {
        "case_id": entry.profile.case_id,
        "collector_id": collector.profile.collector_id,
        "previous_collector_id": entry.current_collector_id,
        "balance_fen": entry.profile.balance_fen,
        "value_fen": int(s.value_fen[pair]),
        "probability": round(float(s.probability[pair]), 6),
        "prior_probability": round(float(prior), 6),
        "effort_hours": collector.effort_hours,
        "reasons": reason_list(s.reasons(pair)),
        "deciding": deciding,
        "runner_up_collector_id": None,
        "runner_up_value_fen": None,
        "margin_fen": None,
        "fits": verdict.fits,
        "unmet": list(verdict.unmet),
        "context": [round(float(v), 6) for v in case_context(scored.cases, np.array([local]))[0]],
    }
    if runner_pair >= 0:
        runner = pool.collectors[scored.collector_of(runner_pair)]
        values["runner_up_collector_id"] = runner.profile.collector_id
        values["runner_up_value_fen"] = int(s.value_fen[runner_pair])
        values["margin_fen"] = int(s.value_fen[pair]) - int(s.value_fen[runner_pair])
    return values


def open_case_row(session: Session, case_id: int) -> Any:
    row = repository.case_row(session, case_id=case_id)
    if row is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    if CaseStatus(str(row.status)) not in OPEN_STATUSES:
        raise CaseNotOpen(f"case {case_id} is {row.status}: only open cases are dispatched")
    return row


def write_assignment(
    session: Session, values: dict[str, Any], *, now: datetime, how: str, actor: str
) -> DispatchAssignment:
    assignment = DispatchAssignment(
        **values,
        assigned_at=now,
        dispatch_day=now.astimezone(local_zone()).date(),
        how=how,
        actor=actor,
    )
    repository.add_assignment(session, assignment)
    repository.set_case_collectors(
        session,
        [
            {
                "id": values["case_id"],
                "assigned_collector_id": values["collector_id"],
                "assigned_at": now,
            }
        ],
    )
    session.flush()
    return assignment
