"""Real-time placement: a new or returned case gets a collector within milliseconds,
over the current loads of its own candidates; the nightly cycle re-optimises later."""

from __future__ import annotations

import time as clock
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from debtflow.core.case.lifecycle import OPEN_STATUSES, CaseStatus
from debtflow.core.dispatch.assignment import (
    NO_COLLECTOR,
)
from debtflow.core.dispatch.realtime import RealtimeDispatcher
from debtflow.db import utcnow
from debtflow.dispatch import repository
from debtflow.dispatch.errors import AlreadyAssigned, CaseNotFound, CaseNotOpen, NoCollectorFree
from debtflow.dispatch.profiles import (
    capacity_cases,
    case_entry,
)
from debtflow.dispatch.scoring import (
    POLICY,
    AddressRow,
    assignment_values,
    conversation_since,
    deciding_reasons,
    local_zone,
    prior_probability,
    realtime_state,
    reason_list,
    score_candidates,
)

# ------------------------------------------------------------------ real time


@dataclass(frozen=True)
class RealtimeAssignment:
    case_id: int
    collector_id: int
    collector_code: str
    value_fen: int
    runner_up_collector_id: int | None
    seconds: float  # wall time of the whole call, database included


def assign_now(session: Session, *, case_id: int) -> RealtimeAssignment:
    """Place a new or returned case now: its own top-k candidates over the current loads
    of those collectors (no global re-solve); the nightly cycle re-optimises later.

    The case row is locked before it is read and the candidates' rows before their loads
    are counted, so two placements at once never both take the case (the second gets
    ``AlreadyAssigned``) nor both fill a collector's last free place."""
    started = clock.perf_counter()
    repository.lock_case(session, case_id=case_id)
    rows = repository.realtime_case(session, case_id=case_id)
    if not rows:
        raise CaseNotFound(f"case {case_id} does not exist")
    row = rows[0]
    if CaseStatus(str(row.status)) not in OPEN_STATUSES:
        raise CaseNotOpen(f"case {case_id} is {row.status}: only open cases are dispatched")
    if row.assigned_collector_id is not None:
        holder = repository.collectors_by_id(session, [row.assigned_collector_id])
        code = holder[row.assigned_collector_id].code  # the case's foreign key: it exists
        raise AlreadyAssigned(
            f"case {case_id} is already with collector {code}; use an override to move it"
        )
    addresses = [
        AddressRow(
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
    now = utcnow()
    history = repository.conversation_histories(
        session, [case_id], since=conversation_since(now), until=now
    ).get(case_id)
    entry = case_entry(
        row,
        address=address,
        has_phone=bool(row.phones),
        product=row.product and str(row.product),
        emotions=history.emotions if history else None,
        intents=history.intents if history else None,
    )
    pool, learner = realtime_state(session)
    if not pool.collectors:
        raise NoCollectorFree("there is no active collector")
    scored = score_candidates(
        [entry], pool, [pool.candidates(entry)], scene_time=now, learner=learner, explore=True
    )
    slots = scored.slots[0][scored.slots[0] >= 0]
    local_collectors = [scored.collector_of(int(p)) for p in slots]
    ids = [pool.collectors[int(k)].profile.collector_id for k in local_collectors]
    repository.lock_collectors(session, ids)
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
            f"no eligible collector has room for case {case_id} at a positive value; "
            "it waits for the nightly dispatch"
        )
    pair = int(slots[choice.collector])
    runner_pair = int(slots[choice.runner_up]) if choice.runner_up != NO_COLLECTOR else -1
    deciding = (
        deciding_reasons(
            scored,
            np.array([pair]),
            np.array([runner_pair]),
            scene_time=now,
            learner=learner,
        )[0]
        if runner_pair >= 0
        else reason_list(scored.scores.reasons(pair))
    )
    values = assignment_values(
        scored,
        pool,
        local=0,
        pair=pair,
        runner_pair=runner_pair,
        deciding=deciding,
        prior=float(prior_probability(scored, np.array([pair]), scene_time=now)[0]),
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
