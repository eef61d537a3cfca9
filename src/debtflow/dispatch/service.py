"""Dispatch: the right case to the right collector, explained, and learning from outcomes.

The nightly step ``dispatch`` (order 60) lives here: sparse top-k candidates per open case
(region and licence eligibility, `profiles.py`), match values from the documented priors
plus the learner, one global capacity-constrained plan (`core.dispatch.assignment`) with
continuity and fairness; it writes an assignment (with reasons and runner-up) only where a
case changes collector, so a second run for one date changes nothing. Beside it:

* `scoring.py` — loading profiles (with conversation history), the learner, scoring pairs,
  writing one assignment, shared by everything below;
* `realtime.py` — `assign_now` places one new or returned case over the current loads;
* `overrides.py` — a manager's move, with who and why;
* `explanations.py` — `explain` reads reasons, runner-up, margin and history back;
* `learning.py` — `record_outcome` feeds the learner (kept as JSON in the database),
  `candidate_values` shows what it has learned for a case;
* `errors.py` — what dispatch refuses.

Everything here only loads, calls the pure core and writes; nothing commits.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from debtflow.core.dispatch.assignment import (
    NO_COLLECTOR,
    CandidateTable,
    solve_assignment,
)
from debtflow.core.dispatch.learner import OutcomeLearner
from debtflow.db import utcnow
from debtflow.dispatch import repository
from debtflow.dispatch.profiles import (
    capacity_cases,
)
from debtflow.dispatch.scoring import (
    CHUNK_CASES,
    OVERRIDE_PIN_DAYS,
    PAIRS_PER_CHUNK,
    POLICY,
    TOP_K,
    ScoredCandidates,
    assignment_values,
    case_entries,
    collector_pool,
    current_learner,
    deciding_reasons,
    nightly_scene_time,
    prior_probability,
    reason_list,
    score_candidates,
)
from debtflow.nightly.service import StepCounts, register_step

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
        "dispatch_changed_meanwhile": 0,
    }
    if not pool.collectors:
        return counts
    stored = current_learner(session)
    learner = OutcomeLearner.from_json(stored.to_json())  # rounds set per chunk, not saved
    scene = nightly_scene_time(as_of)
    now = utcnow()
    overrides = repository.recent_overrides(session, since=now - timedelta(days=OVERRIDE_PIN_DAYS))
    chunks: list[ScoredCandidates] = []
    rows_of_plan: list[tuple[int, int]] = []  # (chunk, local case) per plan row
    pending_at_read: set[int] = set()
    pinned = np.zeros(len(pool.collectors), dtype=np.int64)
    # about PAIRS_PER_CHUNK candidate pairs in memory at a time
    size = max(100, min(CHUNK_CASES, PAIRS_PER_CHUNK // max(1, len(pool.online))))
    for number, rows in enumerate(repository.open_case_chunks(session, size=size)):
        entries = case_entries(session, rows, now=scene)
        pending = repository.pending_promise_cases(session, [r.id for r in rows])
        pending_at_read |= pending
        learner.round = as_of.toordinal() * 1000 + number
        scored = score_candidates(
            entries,
            pool,
            [pool.candidates(e) for e in entries],
            scene_time=scene,
            learner=learner,
            explore=True,
            top_k=TOP_K,
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
    plan_slots = np.full((n, TOP_K), -1, dtype=np.int64)
    for j, (c, local) in enumerate(rows_of_plan):
        scored = chunks[c]
        slots = scored.slots[local]
        entry = scored.entries[local]
        position = pool.position.get(entry.current_collector_id or -1)
        if position is not None:
            current[j] = position
            slots = _with_holder(scored, local, slots, position)
        plan_slots[j] = slots
        filled = slots >= 0
        collector[j, filled] = scored.pair_member[slots[filled]]
        value[j, filled] = scored.scores.value_fen[slots[filled]]
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
            # the plan has no place for it: back to the queue, even from a collector who
            # is still active (they left, may no longer work it, have no room for it, or
            # it is worth nothing anywhere): leaving it there would break capacities the
            # plan counted as free
            counts["dispatch_queued"] += 1
            if entry.current_collector_id is not None:
                case_updates.append(
                    {
                        "id": entry.profile.case_id,
                        "assigned_collector_id": None,
                        "assigned_at": None,
                    }
                )
                counts["dispatch_released"] += 1
            continue
        if new == int(current[j]):
            continue
        slots = plan_slots[j]
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
        priors = prior_probability(scored, pairs, scene_time=scene)
        with_runner = [(i, p, r) for i, (_, _, p, r) in enumerate(changed) if r >= 0]
        deciding_rows = deciding_reasons(
            scored,
            np.array([p for _, p, _ in with_runner], dtype=np.int64),
            np.array([r for _, _, r in with_runner], dtype=np.int64),
            scene_time=scene,
            learner=stored,
        )
        deciding = {i: d for (i, _, _), d in zip(with_runner, deciding_rows, strict=True)}
        for i, (_, local, pair, runner_pair) in enumerate(changed):
            values = assignment_values(
                scored,
                pool,
                local=local,
                pair=pair,
                runner_pair=runner_pair,
                deciding=deciding.get(i, reason_list(scored.scores.reasons(pair))),
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
    # the day goes on while the plan is made: a case placed, overridden, promised or closed
    # since it was read is left as the day made it (the plan's move would undo that)
    read_holder = {
        chunks[c].entries[local].profile.case_id: chunks[c].entries[local].current_collector_id
        for c, local in rows_of_plan
    }
    moving = [u["id"] for u in case_updates]
    held_now = repository.lock_open_holders(session, moving)
    promised_now = _pending_promises(session, [i for i in moving if read_holder[i] is not None])
    changed = {
        i
        for i in moving
        if i not in held_now
        or held_now[i] != read_holder[i]
        or (i in promised_now and i not in pending_at_read)
    }
    if changed:
        kept_in_place = sum(
            1 for u in case_updates if u["id"] in changed and u["assigned_collector_id"] is None
        )  # releases the plan meant: neither queued nor released now
        counts["dispatch_queued"] -= kept_in_place
        counts["dispatch_released"] -= kept_in_place
        history = [h for h in history if h["case_id"] not in changed]
        case_updates = [u for u in case_updates if u["id"] not in changed]
    counts["dispatch_changed_meanwhile"] = len(changed)
    repository.add_assignments(session, history)
    repository.set_case_collectors(session, case_updates)
    counts["dispatch_assigned"] = len(history)
    counts["dispatch_gap_bp"] = int(round(plan.gap_to_bound * 10_000))
    return counts


def _pending_promises(session: Session, case_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(case_ids), CHUNK_CASES):
        found |= repository.pending_promise_cases(session, case_ids[start : start + CHUNK_CASES])
    return found


def _with_holder(
    scored: ScoredCandidates, local: int, slots: np.ndarray, holder: int
) -> np.ndarray:
    """The case's top-k pairs, with the pair of its current collector in the last slot
    when that collector may still work it but is not among the k most valuable: the plan
    then weighs keeping the case (with the continuity bonus) against every move."""
    if (scored.pair_member[slots[slots >= 0]] == holder).any():
        return slots
    first, last = np.searchsorted(scored.scores.case_index, [local, local + 1])
    found = np.flatnonzero(scored.pair_member[first:last] == holder)
    if found.size == 0:  # no longer eligible
        return slots
    with_holder = slots.copy()
    with_holder[-1] = first + int(found[0])
    return with_holder


register_step("dispatch", 60, dispatch_cases)
