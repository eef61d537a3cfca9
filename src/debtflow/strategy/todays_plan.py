"""The plan a case would be given now: what the nightly strategy step would store on it if it
ran this minute — worked out from what the case's accounts owe now and its creditor's current
mandate, with the treatment rules of the case's experiment variant.

The night's stored plan (``case.treatment``) can be older than that: a creditor that lowered
its maximum relief or term, or raised its minimum first payment, during the day; a payment
that changed what is owed. Whatever is shown to an agent or quoted to a debtor is this plan,
never the stored one (``stored_plan_differs`` says when the two are not the same).

Computed from rows the caller has already read (no session): the case page reads its case,
creditor and accounts once and builds everything from them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from debtflow.core.strategy.segmentation import Segment
from debtflow.core.strategy.treatment import (
    Debt,
    Mandate,
    MandateBreach,
    Offer,
    PlanRefused,
    TreatmentKind,
    TreatmentPlan,
    propose_plan,
)
from debtflow.models import Account, Case, Creditor
from debtflow.strategy.rules import treatment_rules_for

#: a mandate breach (``check_mandate``'s code) as the nightly step stores it in
#: ``case.treatment["refused"]`` and the pages name it (``mandate.<code>``)
STORED_BREACH_CODES = {
    "RELIEF_ABOVE_MANDATE": "relief",
    "TERM_ABOVE_MANDATE": "term",
    "FIRST_PAYMENT_BELOW_MANDATE": "first_payment",
}

#: the headline of a stored treatment, in the order of the nightly step's plan columns
#: (``strategy.service.PlanColumns``)
PLAN_FIELDS = (
    "term_months",
    "repayment_months",
    "relief_fen",
    "down_payment_fen",
    "first_payment_fen",
    "largest_instalment_fen",
    "burden_change_bp",
)
#: those that say what is offered (``burden_change_bp`` follows from them and the debtor's
#: current monthly payment)
_OFFER_FIELDS = PLAN_FIELDS[:-1]


def debt_now(accounts: Sequence[Account]) -> Debt:
    """What the case owes now, as the nightly treatment step reads it (fees count as
    penalty; the current monthly payment is the sum of the accounts' instalments)."""
    return Debt(
        principal_fen=sum(a.principal_fen for a in accounts),
        interest_fen=sum(a.interest_fen for a in accounts),
        penalty_fen=sum(a.penalty_fen + a.fees_fen for a in accounts),
        current_monthly_fen=sum(a.instalment_fen for a in accounts),
    )


def mandate_now(creditor: Creditor, debt: Debt) -> Mandate:
    """The creditor's limits as they are now, for ``debt`` (the minimum first payment is a
    share of what is owed, rounded up to the fen)."""
    return Mandate(
        creditor.max_relief_bp,
        creditor.max_term_months,
        -(-debt.total_fen * creditor.min_first_payment_bp // 10_000),
    )


@dataclass(frozen=True)
class TodaysPlan:
    """The plan of a case worked out now (see the module's docstring)."""

    debt: Debt
    mandate: Mandate
    #: the plan within the mandate; None when the mandate refuses it
    plan: TreatmentPlan | None
    #: how the offer breaks the mandate (empty when it keeps to it)
    refusal: tuple[MandateBreach, ...]
    #: the offer the mandate refused (None when nothing was refused)
    refused_offer: Offer | None
    kind: TreatmentKind

    @property
    def offer(self) -> Offer | None:
        """The repayment offer, within the mandate or refused by it; None for a legal
        treatment."""
        if self.plan is not None:
            return self.plan.offer
        return self.refused_offer

    @property
    def refused(self) -> tuple[str, ...]:
        """The breaches as the nightly step stores them (``relief``, ``term``,
        ``first_payment``)."""
        return tuple(STORED_BREACH_CODES[b.code] for b in self.refusal)

    def headline(self) -> dict[str, Any]:
        """The plan in the shape of the stored treatment (``case.treatment``): what the nightly
        step would store now."""
        if self.kind is TreatmentKind.LEGAL:
            actions = self.plan.actions if self.plan is not None else ()
            return {"kind": self.kind.value, "actions": [a.value for a in actions]}
        offer = self.offer
        if offer is None:  # not reached: every other kind makes or is refused an offer
            return {"kind": self.kind.value}
        return {
            "kind": self.kind.value,
            "term_months": offer.term_months,
            "repayment_months": offer.term_months - offer.schedule.terms.grace_months,
            "relief_fen": offer.relief_fen,
            "down_payment_fen": offer.down_payment_fen,
            "first_payment_fen": offer.first_payment_fen,
            "largest_instalment_fen": offer.schedule.largest_instalment_fen,
            "burden_change_bp": (
                offer.burden().change_bp if self.debt.current_monthly_fen > 0 else 0
            ),
            "refused": list(self.refused),
        }


def todays_plan(
    *, case: Case, creditor: Creditor, accounts: Sequence[Account]
) -> TodaysPlan | None:
    """The plan of ``case`` now (``creditor``: its creditor row, ``accounts``: all of its
    accounts, both as already read); None when the case has no segment yet (the nightly
    strategy step has not planned it)."""
    if case.segment is None:
        return None
    segment = Segment(case.segment)
    rules = treatment_rules_for(case.experiment_key, case.experiment_variant)
    debt = debt_now(accounts)
    mandate = mandate_now(creditor, debt)
    kind = rules.by_segment[segment].kind
    try:
        plan = propose_plan(segment, debt, mandate, rules)
    except PlanRefused as refused:
        return TodaysPlan(debt, mandate, None, refused.breaches, refused.offer, kind)
    return TodaysPlan(debt, mandate, plan, (), None, kind)


def stored_plan_differs(stored: Mapping[str, Any] | None, today: TodaysPlan | None) -> bool:
    """Whether the plan the night stored on the case is not the one it would be given now
    (another term, relief, down payment, first or heaviest payment, or a refusal that came
    or went). A legal treatment and an unplanned case offer nothing: never."""
    if not stored or stored.get("kind") in (None, TreatmentKind.LEGAL.value) or today is None:
        return False
    now = today.headline()
    if stored.get("kind") != now["kind"]:
        return True
    if any(stored.get(field) != now.get(field) for field in _OFFER_FIELDS):
        return True
    return sorted(stored.get("refused") or ()) != sorted(now["refused"])
