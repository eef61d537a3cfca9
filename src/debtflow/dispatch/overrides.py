"""A manager moves a case to another collector, with who and why; the move is kept by
the nightly plan for a while and is part of the assignment history. A case with a pending
promise to pay stays with its (active) collector, and a collector without a free place
gets a case only when the manager says so explicitly."""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session

from debtflow.core.errors import InvalidInput
from debtflow.db import utcnow
from debtflow.dispatch import repository
from debtflow.dispatch.errors import (
    AlreadyAssigned,
    CollectorFull,
    CollectorNotFound,
    PromisePending,
)
from debtflow.dispatch.profiles import capacity_cases
from debtflow.dispatch.scoring import (
    assignment_values,
    case_entries,
    collector_pool,
    current_learner,
    deciding_reasons,
    open_case_row,
    prior_probability,
    reason_list,
    score_candidates,
    write_assignment,
)
from debtflow.models import (
    DispatchAssignment,
    DispatchOverride,
)

# ------------------------------------------------------------------ overrides


def override(
    session: Session,
    *,
    case_id: int,
    collector_id: int,
    reason: str,
    by: str,
    over_capacity: bool = False,
) -> DispatchAssignment:
    """A manager gives the case to ``collector_id``; who and why are recorded, and the
    nightly plan leaves the case there for OVERRIDE_PIN_DAYS days.

    Refused while the case has a pending promise to pay and its collector is active (the
    promise blocks reassignment), and when the collector has no free place unless
    ``over_capacity`` says the manager means it. The case row is locked before it is read
    and the collector's row before its load is counted, as in real-time placement, so an
    override and a placement of the same case (or of a collector's last free place) take
    turns."""
    if not reason or not reason.strip():
        raise InvalidInput("an override needs a reason")
    if not by or not by.strip():
        raise InvalidInput("an override needs the name of who makes it")
    repository.lock_case(session, case_id=case_id)
    row = open_case_row(session, case_id)
    pool = collector_pool(session)
    target = pool.position.get(collector_id)
    if target is None:
        raise CollectorNotFound(f"collector {collector_id} does not exist or is not active")
    if row.assigned_collector_id == collector_id:
        code = pool.collectors[target].code
        raise AlreadyAssigned(f"case {case_id} is already with collector {code}")
    if row.assigned_collector_id in pool.position and repository.pending_promise_cases(
        session, [case_id]
    ):
        raise PromisePending(
            f"case {case_id} has a pending promise to pay: it stays with its collector until "
            "the promise is kept or broken"
        )
    chosen_collector = pool.collectors[target]
    repository.lock_collectors(session, [collector_id])
    held = repository.open_case_counts(session, [collector_id]).get(collector_id, 0)
    capacity = capacity_cases(chosen_collector.capacity_hours, chosen_collector.profile.kind)
    if held >= capacity and not over_capacity:
        raise CollectorFull(
            f"{chosen_collector.code} holds {held} open cases, capacity {capacity}: free a "
            "place first, choose another collector, or override beyond capacity explicitly"
        )
    entry = case_entries(session, [row])[0]
    learner = current_learner(session)
    now = utcnow()
    candidates = sorted(set(pool.candidates(entry)) | {target})
    scored = score_candidates(
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
        deciding_reasons(
            scored, np.array([chosen]), np.array([runner_pair]), scene_time=now, learner=learner
        )[0]
        if runner_pair >= 0
        else reason_list(scored.scores.reasons(chosen))
    )
    values = assignment_values(
        scored,
        pool,
        local=0,
        pair=chosen,
        runner_pair=runner_pair,
        deciding=deciding,
        prior=float(prior_probability(scored, np.array([chosen]), scene_time=now)[0]),
    )
    assignment = write_assignment(session, values, now=now, how="override", actor=by.strip())
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
