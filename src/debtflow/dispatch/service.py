"""Dispatch: the right case to the right collector, explained, and learning from outcomes.

* nightly step ``dispatch`` (order 60): sparse top-k candidates per open case (region and
  licence eligibility, `profiles.py`), match values from the documented priors plus the
  learner, one global capacity-constrained plan (`core.dispatch.assignment`) with
  continuity and fairness; writes an assignment (with reasons and runner-up) only where
  a case changes collector, so a second run for one date changes nothing;
* `assign_now` places one new or returned case in real time over the current loads;
* `override` records a manager's move with who and why; `explain` reads it all back;
* `record_outcome` feeds the learner, whose state is kept as JSON in the database.

Everything here only loads, calls the pure core and writes; nothing commits.
"""

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
    NO_COLLECTOR,
    AssignmentPolicy,
    CandidateTable,
    solve_assignment,
)
from debtflow.core.dispatch.features import (
    CaseTable,
    CollectorTable,
    MatchInputError,
    case_context,
    tabulate,
)
from debtflow.core.dispatch.learner import DispatchOutcome as LearnerOutcome
from debtflow.core.dispatch.learner import OutcomeLearner, outcome_reward
from debtflow.core.dispatch.match import (
    REASON_CODES,
    REASONS_KEPT,
    MatchReason,
    PairScores,
    make_reason,
    pair_contributions,
    score_pairs,
)
from debtflow.core.dispatch.metrics import fits_case_needs
from debtflow.core.dispatch.realtime import RealtimeDispatcher
from debtflow.core.errors import Conflict, InvalidInput, NotFound
from debtflow.db import utcnow
from debtflow.dispatch import repository
from debtflow.dispatch.profiles import (
    CaseEntry,
    CollectorPool,
    capacity_cases,
    case_entry,
    collector_entry,
)
from debtflow.models import (
    DispatchAssignment,
    DispatchModelState,
    DispatchOutcome,
    DispatchOverride,
)
from debtflow.nightly.service import StepCounts, register_step

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


class CaseNotFound(NotFound):
    code = "case_not_found"


class CollectorNotFound(NotFound):
    code = "collector_not_found"


class CaseNotOpen(Conflict):
    code = "case_not_open"


class AlreadyAssigned(Conflict):
    code = "already_assigned"


class NoCollectorFree(Conflict):
    code = "no_collector_free"


class NotYetDispatched(Conflict):
    code = "not_yet_dispatched"


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
    histories = repository.conversation_histories(
        session, case_ids, since=conversation_since(now or utcnow())
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


def _new_learner() -> OutcomeLearner:
    return OutcomeLearner(exploration_share=EXPLORATION_SHARE)


def current_learner(session: Session) -> OutcomeLearner:
    """The learner as stored (cached per stored revision), or a fresh one on the priors."""
    state = repository.model_state(session, model=MODEL)
    if state is None:
        return _new_learner()
    key = (str(session.get_bind().engine.url), state.revision, state.updated_at)
    cached = _LEARNER_CACHE.get(key)
    if cached is None:
        cached = OutcomeLearner.from_json(state.state)
        _LEARNER_CACHE.clear()
        _LEARNER_CACHE[key] = cached
    return cached


@dataclass(frozen=True)
class _Address:
    kind: str
    province: str
    city: str
    latitude: float | None
    longitude: float | None


POOL_TTL_S = 300.0
_REALTIME_CACHE: dict[str, tuple[tuple[Any, ...], float, CollectorPool, OutcomeLearner]] = {}


def _realtime_state(session: Session) -> tuple[CollectorPool, OutcomeLearner]:
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
class _Scored:
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


def _score(
    entries: list[CaseEntry],
    pool: CollectorPool,
    candidates: list[list[int]],
    *,
    scene_time: datetime,
    learner: OutcomeLearner | None,
    explore: bool,
    top_k: int = TOP_K,
) -> _Scored:
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
    collector_slots = np.where(slots >= 0, pool_candidates[np.maximum(slots, 0)], -1)
    return _Scored(entries, cases, collectors, scores, slots, collector_slots, pool_candidates)


def _reason_list(reasons: Sequence[MatchReason]) -> list[dict[str, Any]]:
    return [{"code": r.code, "logit": round(r.logit, 4)} for r in reasons]


def _deciding(
    scored: _Scored,
    chosen_pairs: np.ndarray,
    runner_pairs: np.ndarray,
    *,
    scene_time: datetime,
    learner: OutcomeLearner | None,
) -> list[list[dict[str, Any]]]:
    """Per (chosen, runner-up) pair: the reasons that favour the chosen collector most."""
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
    difference = parts.contributions[:n] - parts.contributions[n:]
    out: list[list[dict[str, Any]]] = []
    for row in difference:
        order = np.argsort(-row, kind="stable")[:REASONS_KEPT]
        out.append(
            [
                {"code": REASON_CODES[int(i)], "logit": round(float(row[i]), 4)}
                for i in order
                if row[i] > 1e-9
            ]
        )
    return out


def _prior_probability(scored: _Scored, pairs: np.ndarray, *, scene_time: datetime) -> np.ndarray:
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


def _assignment_values(
    scored: _Scored,
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
        "reasons": _reason_list(s.reasons(pair)),
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


# ------------------------------------------------------------------ nightly dispatch


def dispatch_cases(session: Session, as_of: date) -> StepCounts:
    """Nightly step: one global plan over every open case not pinned to its collector."""
    pool = collector_pool(session)
    counts = {
        "dispatch_cases": 0,
        "dispatch_pinned": 0,
        "dispatch_assigned": 0,
        "dispatch_released": 0,
        "dispatch_queued": 0,
    }
    if not pool.collectors:
        return counts
    stored = current_learner(session)
    learner = OutcomeLearner.from_json(stored.to_json())  # rounds set per chunk, not saved
    scene = nightly_scene_time(as_of)
    now = utcnow()
    overrides = repository.recent_overrides(session, since=now - timedelta(days=OVERRIDE_PIN_DAYS))
    chunks: list[_Scored] = []
    rows_of_plan: list[tuple[int, int]] = []  # (chunk, local case) per plan row
    pinned = np.zeros(len(pool.collectors), dtype=np.int64)
    # about PAIRS_PER_CHUNK candidate pairs in memory at a time
    size = max(100, min(CHUNK_CASES, PAIRS_PER_CHUNK // max(1, len(pool.online))))
    for number, rows in enumerate(repository.open_case_chunks(session, size=size)):
        entries = case_entries(session, rows, now=scene)
        pending = repository.pending_promise_cases(session, [r.id for r in rows])
        learner.round = as_of.toordinal() * 1000 + number
        scored = _score(
            entries,
            pool,
            [pool.candidates(e) for e in entries],
            scene_time=scene,
            learner=learner,
            explore=True,
        )
        chunks.append(scored)
        for local, (row, entry) in enumerate(zip(rows, entries, strict=True)):
            counts["dispatch_cases"] += 1
            holder = pool.position.get(entry.current_collector_id or -1)
            pinned_override = (
                row.assigned_at is not None and overrides.get(row.id) == row.assigned_at
            )
            if holder is not None and (row.id in pending or pinned_override):
                pinned[holder] += 1
                counts["dispatch_pinned"] += 1
                continue
            rows_of_plan.append((len(chunks) - 1, local))
    if not rows_of_plan:
        return counts

    n = len(rows_of_plan)
    collector = np.full((n, TOP_K), NO_COLLECTOR, dtype=np.int32)
    value = np.zeros((n, TOP_K), dtype=np.int64)
    current = np.full(n, NO_COLLECTOR, dtype=np.int32)
    for j, (c, local) in enumerate(rows_of_plan):
        scored = chunks[c]
        slots = scored.slots[local]
        filled = slots >= 0
        collector[j, filled] = scored.collector_slots[local, filled]
        value[j, filled] = scored.scores.value_fen[slots[filled]]
        entry = scored.entries[local]
        position = pool.position.get(entry.current_collector_id or -1)
        if position is not None:
            current[j] = position
    # efforts depend only on the collector's kind, so capacities count cases and every
    # case takes one: the plan is an exact min-cost flow
    capacity = np.array(
        [capacity_cases(k.capacity_hours, k.profile.kind) for k in pool.collectors],
        dtype=np.float64,
    )
    table = CandidateTable(
        collector=collector,
        value_fen=value,
        effort_hours=np.ones(n, dtype=np.float64),
        capacity_hours=np.maximum(capacity - pinned, 0.0),
        current_collector=current,
    )
    plan = solve_assignment(table, POLICY)

    history: list[dict[str, Any]] = []
    case_updates: list[dict[str, Any]] = []
    changed_by_chunk: dict[int, list[tuple[int, int, int, int]]] = {}
    for j, (c, local) in enumerate(rows_of_plan):
        new = int(plan.collector_of_case[j])
        entry = chunks[c].entries[local]
        if new == NO_COLLECTOR:
            if entry.current_collector_id is not None and current[j] == NO_COLLECTOR:
                # its collector left: back to the queue
                case_updates.append(
                    {
                        "id": entry.profile.case_id,
                        "assigned_collector_id": None,
                        "assigned_at": None,
                    }
                )
                counts["dispatch_released"] += 1
            elif entry.current_collector_id is None:
                counts["dispatch_queued"] += 1
            continue
        if new == int(current[j]):
            continue
        slots = chunks[c].slots[local]
        pair = int(slots[int(np.flatnonzero(collector[j] == new)[0])])
        runner = int(plan.runner_up_of_case[j])
        runner_pair = (
            int(slots[int(np.flatnonzero(collector[j] == runner)[0])])
            if runner != NO_COLLECTOR
            else -1
        )
        changed_by_chunk.setdefault(c, []).append((j, local, pair, runner_pair))

    for c, changed in changed_by_chunk.items():
        scored = chunks[c]
        pairs = np.array([p for _, _, p, _ in changed], dtype=np.int64)
        priors = _prior_probability(scored, pairs, scene_time=scene)
        with_runner = [(i, p, r) for i, (_, _, p, r) in enumerate(changed) if r >= 0]
        deciding_rows = _deciding(
            scored,
            np.array([p for _, p, _ in with_runner], dtype=np.int64),
            np.array([r for _, _, r in with_runner], dtype=np.int64),
            scene_time=scene,
            learner=stored,
        )
        deciding = {i: d for (i, _, _), d in zip(with_runner, deciding_rows, strict=True)}
        for i, (_, local, pair, runner_pair) in enumerate(changed):
            values = _assignment_values(
                scored,
                pool,
                local=local,
                pair=pair,
                runner_pair=runner_pair,
                deciding=deciding.get(i, _reason_list(scored.scores.reasons(pair))),
                prior=float(priors[i]),
            )
            history.append(
                {
                    **values,
                    "assigned_at": now,
                    "dispatch_day": as_of,
                    "how": "nightly",
                    "actor": "nightly",
                }
            )
            case_updates.append(
                {
                    "id": values["case_id"],
                    "assigned_collector_id": values["collector_id"],
                    "assigned_at": now,
                }
            )
    repository.add_assignments(session, history)
    repository.set_case_collectors(session, case_updates)
    counts["dispatch_assigned"] = len(history)
    counts["dispatch_gap_bp"] = int(round(plan.gap_to_bound * 10_000))
    return counts


# ------------------------------------------------------------------ real time


@dataclass(frozen=True)
class RealtimeAssignment:
    case_id: int
    collector_id: int
    collector_code: str
    value_fen: int
    runner_up_collector_id: int | None
    seconds: float  # wall time of the whole call, database included


def _open_case(session: Session, case_id: int) -> Any:
    row = repository.case_row(session, case_id=case_id)
    if row is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    if CaseStatus(str(row.status)) not in OPEN_STATUSES:
        raise CaseNotOpen(f"case {case_id} is {row.status}: only open cases are dispatched")
    return row


def assign_now(session: Session, *, case_id: int) -> RealtimeAssignment:
    """Place a new or returned case now: its own top-k candidates over the current loads
    of those collectors (no global re-solve); the nightly cycle re-optimises later."""
    started = clock.perf_counter()
    rows = repository.realtime_case(session, case_id=case_id)
    if not rows:
        raise CaseNotFound(f"case {case_id} does not exist")
    row = rows[0]
    if CaseStatus(str(row.status)) not in OPEN_STATUSES:
        raise CaseNotOpen(f"case {case_id} is {row.status}: only open cases are dispatched")
    if row.assigned_collector_id is not None:
        raise AlreadyAssigned(
            f"case {case_id} is already with collector {row.assigned_collector_id}; "
            "use an override to move it"
        )
    addresses = [
        _Address(
            r.address_kind,
            r.address_province,
            r.address_city,
            r.address_latitude,
            r.address_longitude,
        )
        for r in rows
        if r.address_kind is not None
    ]
    rank = {"home": 0, "work": 1}
    address = min(addresses, key=lambda a: rank.get(a.kind, 2)) if addresses else None
    history = repository.conversation_histories(
        session, [case_id], since=conversation_since(utcnow())
    ).get(case_id)
    entry = case_entry(
        row,
        address=address,
        has_phone=bool(row.phones),
        product=row.product and str(row.product),
        emotions=history.emotions if history else None,
        intents=history.intents if history else None,
    )
    pool, learner = _realtime_state(session)
    if not pool.collectors:
        raise NoCollectorFree("there is no active collector")
    now = utcnow()
    scored = _score(
        [entry], pool, [pool.candidates(entry)], scene_time=now, learner=learner, explore=True
    )
    slots = scored.slots[0][scored.slots[0] >= 0]
    local_collectors = [scored.collector_of(int(p)) for p in slots]
    ids = [pool.collectors[int(k)].profile.collector_id for k in local_collectors]
    loads = repository.open_case_counts_fast(session, ids)
    dispatcher = RealtimeDispatcher(
        np.array(
            [
                capacity_cases(
                    pool.collectors[int(k)].capacity_hours, pool.collectors[int(k)].profile.kind
                )
                for k in local_collectors
            ],
            dtype=np.float64,
        ),
        policy=POLICY,
    )
    dispatcher.load_hours[:] = [loads.get(i, 0) for i in ids]
    previous = row.previous_collector_id
    previous_slot = ids.index(previous) if previous in ids else NO_COLLECTOR
    choice = dispatcher.assign(
        case_id,
        np.arange(len(ids), dtype=np.int32),
        scored.scores.value_fen[slots],
        1.0,
        previous_collector=previous_slot,
    )
    if choice.collector == NO_COLLECTOR:
        raise NoCollectorFree(
            f"no eligible collector has room for case {case_id}; it waits for the nightly dispatch"
        )
    pair = int(slots[choice.collector])
    runner_pair = int(slots[choice.runner_up]) if choice.runner_up != NO_COLLECTOR else -1
    deciding = (
        _deciding(
            scored,
            np.array([pair]),
            np.array([runner_pair]),
            scene_time=now,
            learner=learner,
        )[0]
        if runner_pair >= 0
        else _reason_list(scored.scores.reasons(pair))
    )
    values = _assignment_values(
        scored,
        pool,
        local=0,
        pair=pair,
        runner_pair=runner_pair,
        deciding=deciding,
        prior=float(_prior_probability(scored, np.array([pair]), scene_time=now)[0]),
    )
    values["previous_collector_id"] = previous
    repository.insert_assignment(
        session,
        {
            **values,
            "assigned_at": now,
            "dispatch_day": now.astimezone(local_zone()).date(),
            "how": "realtime",
            "actor": "realtime",
        },
    )
    repository.set_case_collector(
        session, case_id=case_id, collector_id=values["collector_id"], at=now
    )
    return RealtimeAssignment(
        case_id=case_id,
        collector_id=values["collector_id"],
        collector_code=pool.collectors[scored.collector_of(pair)].code,
        value_fen=values["value_fen"],
        runner_up_collector_id=values["runner_up_collector_id"],
        seconds=clock.perf_counter() - started,
    )


def _write(
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


# ------------------------------------------------------------------ overrides


def override(
    session: Session, *, case_id: int, collector_id: int, reason: str, by: str
) -> DispatchAssignment:
    """A manager gives the case to ``collector_id``; who and why are recorded, and the
    nightly plan leaves the case there for OVERRIDE_PIN_DAYS days."""
    if not reason or not reason.strip():
        raise InvalidInput("an override needs a reason")
    if not by or not by.strip():
        raise InvalidInput("an override needs the name of who makes it")
    row = _open_case(session, case_id)
    pool = collector_pool(session)
    target = pool.position.get(collector_id)
    if target is None:
        raise CollectorNotFound(f"collector {collector_id} does not exist or is not active")
    if row.assigned_collector_id == collector_id:
        raise AlreadyAssigned(f"case {case_id} is already with collector {collector_id}")
    entry = case_entries(session, [row])[0]
    learner = current_learner(session)
    now = utcnow()
    candidates = sorted(set(pool.candidates(entry)) | {target})
    scored = _score(
        [entry],
        pool,
        [candidates],
        scene_time=now,
        learner=learner,
        explore=False,
        top_k=len(candidates),
    )
    slots = scored.slots[0][scored.slots[0] >= 0]
    chosen = [int(p) for p in slots if scored.collector_of(int(p)) == target][0]
    others = [int(p) for p in slots if int(p) != chosen]
    runner_pair = others[0] if others else -1
    deciding = (
        _deciding(
            scored, np.array([chosen]), np.array([runner_pair]), scene_time=now, learner=learner
        )[0]
        if runner_pair >= 0
        else _reason_list(scored.scores.reasons(chosen))
    )
    values = _assignment_values(
        scored,
        pool,
        local=0,
        pair=chosen,
        runner_pair=runner_pair,
        deciding=deciding,
        prior=float(_prior_probability(scored, np.array([chosen]), scene_time=now)[0]),
    )
    assignment = _write(session, values, now=now, how="override", actor=by.strip())
    repository.add_override(
        session,
        DispatchOverride(
            assignment_id=assignment.id,
            case_id=case_id,
            from_collector_id=row.assigned_collector_id,
            to_collector_id=collector_id,
            by=by.strip(),
            reason=reason.strip(),
            created_at=now,
        ),
    )
    session.flush()
    return assignment


def collector_id_for(session: Session, *, code_or_id: str) -> int:
    """A collector named by code (``ON0001``) or by numeric id."""
    found = repository.collector_by_code(session, code_or_id)
    if found is not None:
        return found.id
    if code_or_id.isdigit():
        return int(code_or_id)
    raise CollectorNotFound(f"no collector with code {code_or_id!r}")


# ------------------------------------------------------------------ explanations


@dataclass(frozen=True)
class CollectorName:
    collector_id: int
    code: str
    name: str


@dataclass(frozen=True)
class DispatchExplanation:
    case_id: int
    how: str
    assigned_at: datetime
    collector: CollectorName
    value_fen: int
    probability: float
    reasons: tuple[MatchReason, ...]
    runner_up: CollectorName | None
    runner_up_value_fen: int | None
    margin_fen: int | None
    deciding: tuple[MatchReason, ...]
    fits: bool
    unmet: tuple[str, ...]
    override_by: str | None
    override_reason: str | None
    assignments_in_history: int
    en: str
    zh: str


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def _reasons(stored: Sequence[dict[str, Any]]) -> tuple[MatchReason, ...]:
    return tuple(
        make_reason(str(r["code"]), float(r["logit"]))
        for r in stored
        if r.get("code") in REASON_CODES
    )


HOW_TEXT = {
    "nightly": ("nightly plan", "夜间统一分案"),
    "realtime": ("real-time assignment", "实时分案"),
    "override": ("manager override", "主管手工调整"),
}


def explain(session: Session, *, case_id: int) -> DispatchExplanation:
    """Why the case is with its collector: reasons, runner-up and margin, as stored."""
    if repository.case_row(session, case_id=case_id) is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    history = repository.assignment_history(session, case_id=case_id)
    if not history:
        raise NotYetDispatched(
            f"case {case_id} has not been dispatched yet; run `debtflow nightly` or "
            "`debtflow dispatch assign CASE`"
        )
    latest = history[-1]
    names = repository.collectors_by_id(
        session, [latest.collector_id, latest.runner_up_collector_id or latest.collector_id]
    )

    def name(collector_id: int | None) -> CollectorName | None:
        if collector_id is None:
            return None
        row = names.get(collector_id)
        return CollectorName(collector_id, row.code if row else "?", row.name if row else "?")

    chosen = name(latest.collector_id)
    assert chosen is not None
    runner = name(latest.runner_up_collector_id)
    record = (
        repository.override_of(session, assignment_id=latest.id)
        if latest.how == "override"
        else None
    )
    reasons = _reasons(latest.reasons)
    deciding = _reasons(latest.deciding)
    how_en, how_zh = HOW_TEXT.get(latest.how, (latest.how, latest.how))
    local = latest.assigned_at.astimezone(local_zone())
    en = [
        f"case {case_id} → {chosen.code} {chosen.name} ({how_en}, {local:%Y-%m-%d %H:%M}): "
        f"expected value {_yuan(latest.value_fen)}, recovery probability "
        f"{latest.probability:.0%}",
        *(f"  {'+' if r.logit > 0 else '-'} {r.en}" for r in reasons),
    ]
    zh = [
        f"案件 {case_id} → {chosen.code} {chosen.name}（{how_zh}，{local:%Y-%m-%d %H:%M}）："
        f"预期价值 {_yuan(latest.value_fen)}，回款概率 {latest.probability:.0%}",
        *(f"  {'+' if r.logit > 0 else '-'} {r.zh}" for r in reasons),
    ]
    if runner is not None and latest.runner_up_value_fen is not None:
        margin = latest.margin_fen or 0
        en.append(
            f"runner-up: {runner.code} {runner.name}, expected value "
            f"{_yuan(latest.runner_up_value_fen)}; margin {_yuan(margin)}"
        )
        zh.append(
            f"次选：{runner.code} {runner.name}，预期价值 {_yuan(latest.runner_up_value_fen)}；"
            f"差额 {_yuan(margin)}"
        )
        if margin == 0:
            en.append("  (equally valued: the plan chose between them by the collectors' loads)")
            zh.append("  （两者预期价值相同：按催收员工作量均衡分配）")
        if deciding:
            en.append("deciding:")
            en += [f"  * {r.en}" for r in deciding]
            zh.append("决定因素：")
            zh += [f"  * {r.zh}" for r in deciding]
    else:
        en.append("no other eligible collector")
        zh.append("没有其他符合条件的催收员")
    if record is not None:
        en.append(f"override by {record.by}: {record.reason}")
        zh.append(f"{record.by} 手工调整，原因：{record.reason}")
    if not latest.fits:
        en.append("does not fit the case's needs: " + ", ".join(latest.unmet))
        zh.append("不满足案件需要：" + "、".join(latest.unmet))
    en.append(f"assignments kept in history: {len(history)}")
    zh.append(f"历史分案记录：{len(history)} 条")
    return DispatchExplanation(
        case_id=case_id,
        how=latest.how,
        assigned_at=latest.assigned_at,
        collector=chosen,
        value_fen=latest.value_fen,
        probability=latest.probability,
        reasons=reasons,
        runner_up=runner,
        runner_up_value_fen=latest.runner_up_value_fen,
        margin_fen=latest.margin_fen,
        deciding=deciding,
        fits=latest.fits,
        unmet=tuple(latest.unmet),
        override_by=record.by if record else None,
        override_reason=record.reason if record else None,
        assignments_in_history=len(history),
        en="\n".join(en),
        zh="\n".join(zh),
    )


# ------------------------------------------------------------------ learning


@dataclass(frozen=True)
class OutcomeRecorded:
    case_id: int
    collector_id: int
    reward: float
    outcomes_of_collector: int


def record_outcome(
    session: Session,
    *,
    case_id: int,
    recovered_fen: int = 0,
    promised: bool = False,
    contacted: bool = False,
) -> OutcomeRecorded:
    """Credit what happened on a case to the assignment current at the time and update
    the learner (its state is saved in the same transaction)."""
    assignment = repository.latest_assignment(session, case_id=case_id)
    if assignment is None:
        if repository.case_row(session, case_id=case_id) is None:
            raise CaseNotFound(f"case {case_id} does not exist")
        raise NotYetDispatched(f"case {case_id} has no assignment to credit an outcome to")
    try:
        outcome = LearnerOutcome(
            balance_fen=max(1, assignment.balance_fen),
            recovered_fen=recovered_fen,
            promised=promised,
            contacted=contacted,
        )
    except MatchInputError as exc:
        raise InvalidInput(str(exc)) from None
    state = repository.model_state(session, model=MODEL)
    learner = OutcomeLearner.from_json(state.state) if state is not None else _new_learner()
    learner.record(
        collector_id=assignment.collector_id,
        context=np.asarray(assignment.context, dtype=np.float64),
        prior_probability=assignment.prior_probability,
        outcome=outcome,
    )
    if state is None:
        state = DispatchModelState(model=MODEL, state=learner.to_json(), revision=1, outcomes=1)
        repository.add_model_state(session, state)
    else:
        state.state = learner.to_json()
        state.revision += 1
        state.outcomes += 1
        state.updated_at = utcnow()
    repository.add_outcome(
        session,
        DispatchOutcome(
            assignment_id=assignment.id,
            case_id=case_id,
            collector_id=assignment.collector_id,
            recovered_fen=recovered_fen,
            promised=promised,
            contacted=contacted,
            reward=outcome_reward(outcome),
        ),
    )
    session.flush()
    return OutcomeRecorded(
        case_id=case_id,
        collector_id=assignment.collector_id,
        reward=outcome_reward(outcome),
        outcomes_of_collector=learner.outcomes_seen(assignment.collector_id),
    )


@dataclass(frozen=True)
class CandidateValue:
    collector_id: int
    code: str
    value_fen: int
    probability: float


def candidate_values(
    session: Session, *, case_id: int, collector_ids: Sequence[int] | None = None
) -> list[CandidateValue]:
    """Match values of a case against its eligible collectors (or the ones named) with
    the learner as stored (posterior mean, no exploration), best first."""
    row = repository.case_row(session, case_id=case_id)
    if row is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    entry = case_entries(session, [row])[0]
    pool = collector_pool(session)
    if collector_ids is None:
        candidates = pool.candidates(entry)
    else:
        missing = [c for c in collector_ids if c not in pool.position]
        if missing:
            raise CollectorNotFound(f"collector {missing[0]} does not exist or is not active")
        candidates = sorted(pool.position[c] for c in collector_ids)
    scored = _score(
        [entry],
        pool,
        [candidates],
        scene_time=utcnow(),
        learner=current_learner(session),
        explore=False,
        top_k=max(1, len(candidates)),
    )
    out = []
    for pair in scored.slots[0][scored.slots[0] >= 0]:
        k = pool.collectors[scored.collector_of(int(pair))]
        out.append(
            CandidateValue(
                collector_id=k.profile.collector_id,
                code=k.code,
                value_fen=int(scored.scores.value_fen[pair]),
                probability=float(scored.scores.probability[pair]),
            )
        )
    return out


register_step("dispatch", 60, dispatch_cases)
