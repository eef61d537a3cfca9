"""Recording promises to pay and deciding, each night, which were kept or broken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from debtflow import evidence
from debtflow.case import service as case_service
from debtflow.compliance import service as compliance_service
from debtflow.config import get_settings
from debtflow.core.case import reasons
from debtflow.core.case.lifecycle import FINAL_STATUSES, CaseStatus
from debtflow.core.errors import Conflict, InvalidInput
from debtflow.core.evidence.leaf import LeafKind
from debtflow.core.money import fen_to_yuan
from debtflow.core.strategy.promise import PromiseOutcome, PromiseTerms, promise_outcome
from debtflow.db import utcnow
from debtflow.models import PromiseToPay
from debtflow.models.enums import PromiseStatus
from debtflow.payment import repository as payment_repository
from debtflow.promise import repository

#: a promise to pay is a short commitment; a longer one is an instalment plan
MAX_PROMISE_AHEAD = timedelta(days=90)


class InvalidPromise(InvalidInput):
    code = "invalid_promise"


def record(
    session: Session,
    *,
    case_id: int,
    amount_fen: int,
    due: date,
    made_on: date,
    collector_id: int | None = None,
    grace_days: int | None = None,
    tolerance_fen: int | None = None,
    actor: str = "system",
    now: datetime | None = None,
) -> PromiseToPay:
    """Record a promise to pay on the case (it moves to *promised*). Refused on a final case
    and while a dispute holds the case (``compliance_service.refuse_while_disputed``: a
    disputed debt is verified, not collected)."""
    settings = get_settings()
    case = case_service.get(session, case_id=case_id, for_update=True)
    if case.status in FINAL_STATUSES:
        raise Conflict(f"case {case_id} is {case.status.value}; no promise can be recorded")
    compliance_service.refuse_while_disputed(
        session, case=case, at=now or utcnow(), act="no promise to pay can be recorded"
    )
    if amount_fen <= 0:
        raise InvalidPromise("a promise must be for a positive amount")
    if amount_fen > case.outstanding_fen:
        raise InvalidPromise(
            f"a promise cannot be for more than the case owes ({fen_to_yuan(case.outstanding_fen)}"
            " yuan)"
        )
    if due < made_on:
        raise InvalidPromise("a promise cannot fall due before it was made")
    if due > made_on + MAX_PROMISE_AHEAD:
        raise InvalidPromise(
            f"a promise falls due within {MAX_PROMISE_AHEAD.days} days; for longer, offer an"
            " instalment plan"
        )
    promise = PromiseToPay(
        case_id=case.id,
        collector_id=collector_id,
        amount_fen=amount_fen,
        made_on=made_on,
        due=due,
        grace_days=settings.promise_grace_days if grace_days is None else grace_days,
        tolerance_fen=settings.promise_tolerance_fen if tolerance_fen is None else tolerance_fen,
    )
    repository.add(session, promise)
    session.flush()
    evidence.append(
        session,
        kind=LeafKind.PROMISE,
        case_id=case.id,
        occurred_at=promise.created_at,
        payload={
            "actor": actor,
            "amount_fen": amount_fen,
            "collector_id": collector_id,
            "due": due,
            "grace_days": promise.grace_days,
            "made_on": made_on,
            "promise_id": promise.id,
            "tolerance_fen": promise.tolerance_fen,
        },
    )
    if case.status in (CaseStatus.NEW, CaseStatus.ACTIVE, CaseStatus.PAYING):
        case_service.apply_transition(
            session,
            case,
            to=CaseStatus.PROMISED,
            reason=reasons.promise_made(promise.id),
            actor=actor,
        )
    return promise


@dataclass(frozen=True)
class PromiseResolution:
    kept: int
    broken: int
    pending: int


def end_of_day(day: date, zone: str) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))


def resolve_due(session: Session, *, as_of: date) -> PromiseResolution:
    """Mark pending promises kept or broken as of ``as_of``; move their cases on.

    Payment dates are read in the platform's business time zone. Safe to run twice."""
    zone = get_settings().default_timezone
    promises = repository.pending(session)
    payments = payment_repository.payments_of_cases(
        session,
        case_ids=sorted({p.case_id for p in promises}),
        before=end_of_day(as_of, zone),
    )
    kept = broken = 0
    for promise in promises:
        paid = [
            (when.astimezone(ZoneInfo(zone)).date(), fen)
            for when, fen in payments.get(promise.case_id, [])
        ]
        outcome = promise_outcome(
            PromiseTerms(
                amount_fen=promise.amount_fen,
                due=promise.due,
                grace_days=promise.grace_days,
                tolerance_fen=promise.tolerance_fen,
            ),
            paid,
            made_on=promise.made_on,
            today=as_of,
        )
        if outcome == PromiseOutcome.PENDING:
            continue
        promise.status = PromiseStatus(outcome.value)
        promise.resolved_on = as_of
        session.flush()
        case = case_service.get(session, case_id=promise.case_id, for_update=True)
        others = repository.pending_for_case(session, case_id=case.id)
        if outcome == PromiseOutcome.KEPT:
            kept += 1
            if case.status == CaseStatus.PROMISED and not others:
                case_service.apply_transition(
                    session,
                    case,
                    to=CaseStatus.PAYING,
                    reason=reasons.promise_kept(promise.id),
                    actor="nightly",
                )
        else:
            broken += 1
            if case.status == CaseStatus.PROMISED and not others:
                case_service.apply_transition(
                    session,
                    case,
                    to=CaseStatus.ACTIVE,
                    reason=reasons.promise_broken(promise.id),
                    actor="nightly",
                )
    return PromiseResolution(kept=kept, broken=broken, pending=len(promises) - kept - broken)
