"""Outcomes feed the learner (kept as JSON in the database); candidate values show what
it has learned for one case."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from debtflow.core.dispatch.features import (
    MatchInputError,
)
from debtflow.core.dispatch.learner import DispatchOutcome as LearnerOutcome
from debtflow.core.dispatch.learner import OutcomeLearner, outcome_reward
from debtflow.core.errors import InvalidInput
from debtflow.db import utcnow
from debtflow.dispatch import repository
from debtflow.dispatch.errors import CaseNotFound, CollectorNotFound, NotYetDispatched
from debtflow.dispatch.scoring import (
    MODEL,
    case_entries,
    collector_pool,
    current_learner,
    new_learner,
    score_candidates,
)
from debtflow.models import DispatchOutcome

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
    the learner (its state is saved in the same transaction). The learner's row is locked
    while it is read, updated and saved, so outcomes recorded at once are all kept."""
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
    now = utcnow()
    state = repository.lock_model_state(
        session, model=MODEL, empty_state=new_learner().to_json(), at=now
    )
    learner = OutcomeLearner.from_json(state.state)
    learner.record(
        collector_id=assignment.collector_id,
        context=np.asarray(assignment.context, dtype=np.float64),
        prior_probability=assignment.prior_probability,
        outcome=outcome,
    )
    state.state = learner.to_json()
    state.revision += 1
    state.outcomes += 1
    state.updated_at = now
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
    scored = score_candidates(
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
