"""QA sampling of connected calls: a stable random share plus a risk-weighted extra.
Safe to run twice: a call already sampled is never sampled again, and the same salt gives
the same choice."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from debtflow.compliance import repository
from debtflow.core.compliance.qa_sampling import QaPolicy, qa_select
from debtflow.core.errors import InvalidInput
from debtflow.db import utcnow
from debtflow.models import QaSample

CALL_CHANNELS = ("call", "ai_voice")


def sample_calls(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    salt: bytes,
    policy: QaPolicy | None = None,
    risk_by_contact: Mapping[int, float] | None = None,
    forced: Collection[int] = (),
    now: datetime | None = None,
) -> Sequence[QaSample]:
    """Pick connected calls made in [since, until) for review; return the new samples."""
    if not salt:
        raise InvalidInput("QA sampling needs a secret salt")
    if until <= since:
        raise InvalidInput("the sampling window must end after it starts")
    policy = policy or QaPolicy()
    risks = risk_by_contact or {}
    for contact_id, risk in risks.items():
        if not 0.0 <= risk <= 1.0:
            raise InvalidInput(f"contact {contact_id}: risk must be between 0 and 1, got {risk}")
    picked: list[QaSample] = []
    for attempt in repository.unsampled_calls(
        session, since=since, until=until, channels=CALL_CHANNELS
    ):
        risk = risks.get(attempt.id, 0.0)
        selection = qa_select(
            str(attempt.id), risk=risk, policy=policy, salt=salt, forced=attempt.id in forced
        )
        if selection.selected and selection.reason is not None:
            sample = QaSample(
                contact_attempt_id=attempt.id,
                reason=selection.reason.value,
                risk=risk,
                selected_at=now or utcnow(),
            )
            repository.add(session, sample)
            picked.append(sample)
    session.flush()
    return picked
