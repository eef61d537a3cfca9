"""How a signed plan ends: completed when everything it asks for is paid (the relief is then
taken off the accounts), or broken by the nightly step ``plan_breach`` when an instalment is
more than 30 days late (the relief lapses, plan interest not yet due is taken off again)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from debtflow import evidence
from debtflow.case import service as case_service
from debtflow.core.case import reasons
from debtflow.core.case.lifecycle import FINAL_STATUSES, CaseStatus
from debtflow.core.errors import DomainError
from debtflow.core.evidence.leaf import LeafKind
from debtflow.core.portal.plan import (
    BREACH_AFTER_DAYS,
    Breach,
    breach,
    instalment_ordinals,
    interest_not_due,
)
from debtflow.models import (
    Case,
    PortalPlan,
)
from debtflow.models.portal import (
    PLAN_BROKEN,
    PLAN_COMPLETED,
    PLAN_SIGNED,
)
from debtflow.portal import repository
from debtflow.portal.plans import dated_instalments

log = logging.getLogger(__name__)


_RELIEF_ORDER = ("penalty_fen", "interest_fen", "fees_fen", "principal_fen")


def complete_plan_if_paid(session: Session, *, case_id: int, at: datetime) -> bool:
    """Once everything a signed plan asks for is paid (all payments since signing, any
    channel), waive the agreed relief from what the accounts still owe (an evidence-
    logged adjustment, fen-exact: never more than the relief, never more than is owed),
    mark the plan completed and settle the case when nothing is left."""
    plan = repository.plan_of_case(session, case_id=case_id, for_update=True)
    if plan is None or plan.status != PLAN_SIGNED or plan.signed_at is None:
        return False
    paid = repository.booked_on_case_since(session, case_id=case_id, since=plan.signed_at)
    if paid < plan.total_fen:
        return False
    case = case_service.get(session, case_id=case_id, for_update=True)
    accounts = repository.accounts_of_cases(session, case_ids=[case_id], for_update=True)
    left = plan.relief_fen
    parts: list[dict[str, int]] = []
    for account in sorted(accounts, key=lambda a: a.id):
        part: dict[str, int] = {}
        for component in _RELIEF_ORDER:
            take = min(left, getattr(account, component))
            if take > 0:
                setattr(account, component, getattr(account, component) - take)
                part[component] = take
                left -= take
        if part:
            parts.append({"account_id": account.id, **part})
    waived = plan.relief_fen - left
    case.outstanding_fen = max(0, case.outstanding_fen - waived)
    plan.status = PLAN_COMPLETED
    session.flush()
    evidence.append(
        session,
        kind=LeafKind.ADJUSTMENT,
        case_id=case_id,
        occurred_at=at,
        payload={
            "agreed_relief_fen": plan.relief_fen,
            "amount_fen": waived,
            "paid_under_plan_fen": paid,
            "parts": parts,
            "plan_id": plan.id,
            "reason": "plan_relief",
        },
    )
    if case.outstanding_fen == 0 and case.status not in FINAL_STATUSES:
        try:
            case_service.apply_transition(
                session,
                case,
                to=CaseStatus.SETTLED,
                reason=reasons.plan_paid(plan.id, waived),
                actor="debtor portal",
            )
        except DomainError as error:  # e.g. on hold: a person settles it
            log.warning("case %s paid its plan but stays %s: %s", case_id, case.status, error)
    return True


def last_broken_plan(session: Session, *, case_id: int) -> PortalPlan | None:
    """The latest plan of the case that was broken, or None."""
    return repository.last_broken_plan(session, case_id=case_id)


@dataclass(frozen=True)
class PlanBroken:
    plan: PortalPlan
    breach: Breach
    case_moved: bool
    interest_reversed_fen: int


def break_plan_if_late(
    session: Session, *, case_id: int, plan_id: int, today: date, at: datetime
) -> PlanBroken | None:
    """End a signed plan whose first unpaid instalment is more than
    :data:`BREACH_AFTER_DAYS` days late on the debtor's local date ``today`` (the
    agreement's term 2), or do nothing and return None.

    What the plan counted as paid is what it shows the debtor: every payment booked on the
    case since signing. Ending it: the plan becomes ``broken`` (when, which instalment);
    the agreed relief lapses — it was never taken off the accounts (that happens only when
    a plan is completed), so the accounts already say what is owed without it; the plan
    interest booked at signing for instalments not yet due is taken off again (an
    ``adjustment`` leaf, ``reason: plan_interest_lapsed``), the interest of months already
    due stays owed; a ``case_status`` leaf records the breach; a ``paying`` case goes back
    to ``active`` through the case state machine (other statuses stay: a promise, legal
    proceedings or a hold is dealt with on its own). Safe to repeat: a broken plan is not
    signed any more."""
    case = case_service.get(session, case_id=case_id, for_update=True)
    plan = repository.plan_by_id(session, plan_id=plan_id, for_update=True)
    if (
        plan is None
        or plan.case_id != case.id
        or plan.status != PLAN_SIGNED
        or plan.signed_at is None
        or case.status in FINAL_STATUSES
    ):
        return None
    schedule = dated_instalments(repository.instalments_of_plan(session, plan_id=plan.id))
    paid = repository.booked_on_case_since(session, case_id=case.id, since=plan.signed_at)
    found = breach(schedule, paid, today)
    if found is None:
        return None
    number = found.instalment.number
    # the reason counts instalments as the debtor does (the first after the grace months
    # is 1); a grace month that carried interest has no such ordinal and keeps its month
    ordinal = instalment_ordinals(schedule).get(number, number)
    plan.status = PLAN_BROKEN
    plan.broken_at = at
    plan.broken_instalment = number
    session.flush()
    reversed_fen = _reverse_interest_not_due(
        session, case=case, plan=plan, interest=interest_not_due(schedule, today), at=at
    )
    reason = reasons.plan_broken(
        plan.id,
        instalment=ordinal,
        due_on=found.instalment.due_on,
        days=BREACH_AFTER_DAYS,
        owed_fen=found.owed_fen,
        on=today,
    )
    evidence.append(
        session,
        kind=LeafKind.CASE_STATUS,
        case_id=case.id,
        occurred_at=at,
        payload={
            "actor": "nightly",
            "breach_after_days": BREACH_AFTER_DAYS,
            "days_late": found.days_late,
            "due_on": found.instalment.due_on,
            "event": "plan_broken",
            "instalment_number": number,
            "instalment_ordinal": ordinal,
            "interest_reversed_fen": reversed_fen,
            "local_date": today,
            "owed_on_instalment_fen": found.owed_fen,
            "paid_under_plan_fen": paid,
            "plan_id": plan.id,
            "plan_status": PLAN_BROKEN,
            "reason": reason,
            "relief_lapsed_fen": plan.relief_fen,
        },
    )
    moved = case.status is CaseStatus.PAYING
    if moved:
        case_service.apply_transition(
            session, case, to=CaseStatus.ACTIVE, reason=reason, actor="nightly"
        )
    return PlanBroken(plan, found, moved, reversed_fen)


#: the order plan interest not yet due is taken off again: the interest first (where it was
#: booked), then — for what payments already paid of it — what they would have paid instead
_REVERSAL_ORDER = ("interest_fen", "penalty_fen", "fees_fen", "principal_fen")


def _reverse_interest_not_due(
    session: Session, *, case: Case, plan: PortalPlan, interest: int, at: datetime
) -> int:
    """Take the plan interest of instalments not yet due off the case's accounts (most
    overdue first, as it was booked; never more than is owed); the fen taken off."""
    if interest <= 0:
        return 0
    accounts = repository.accounts_of_cases(session, case_ids=[case.id], for_update=True)
    ordered = sorted(accounts, key=lambda a: (-a.days_past_due, a.id))
    left = interest
    taken_by: dict[int, dict[str, int]] = {}
    for component in _REVERSAL_ORDER:  # every account's interest before anything else
        for account in ordered:
            take = min(left, getattr(account, component))
            if take > 0:
                setattr(account, component, getattr(account, component) - take)
                taken_by.setdefault(account.id, {})[component] = take
                left -= take
    parts = [{"account_id": a.id, **taken_by[a.id]} for a in ordered if a.id in taken_by]
    taken = interest - left
    if taken == 0:
        return 0
    case.outstanding_fen = max(0, case.outstanding_fen - taken)
    session.flush()
    evidence.append(
        session,
        kind=LeafKind.ADJUSTMENT,
        case_id=case.id,
        occurred_at=at,
        payload={
            "amount_fen": taken,
            "parts": parts,
            "plan_id": plan.id,
            "plan_interest_not_due_fen": interest,
            "reason": "plan_interest_lapsed",
        },
    )
    return taken
