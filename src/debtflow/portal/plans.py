"""The debtor's repayment plan: the plans on offer for a case, the debtor's choice of one,
the signed agreement, the plan's interest booked at signing, and the plan completed (the
agreed relief waived, the case settled) once everything it asks for is paid.

Offers are recomputed from what is owed now with the treatment rule of the case's segment and
kept within the creditor's mandate; the schedule is always re-derived on the server. Nothing
here commits. Re-exported by ``service.py``.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from debtflow import evidence
from debtflow.compliance import service as compliance_service
from debtflow.config import get_settings
from debtflow.core.case.lifecycle import FINAL_STATUSES, CaseStatus
from debtflow.core.errors import DomainError
from debtflow.core.evidence.leaf import LeafKind
from debtflow.core.portal.plan import (
    AgreementParties,
    DatedInstalment,
    PlanFigures,
    agreement_text,
    dated_schedule,
    next_due,
    plan_figures,
)
from debtflow.core.strategy.schedules import BurdenChange
from debtflow.core.strategy.segmentation import Segment
from debtflow.core.strategy.treatment import Debt, Mandate, Offer, check_mandate, make_offer
from debtflow.db import utcnow
from debtflow.evidence import AttachedFile
from debtflow.models import (
    Account,
    Case,
    Debtor,
    PlanInstalment,
    PortalPlan,
    User,
)
from debtflow.models.enums import DebtorType
from debtflow.models.portal import (
    PLAN_CHOSEN,
    PLAN_COMPLETED,
    PLAN_SIGNED,
)
from debtflow.portal import repository
from debtflow.portal.access import own_case
from debtflow.portal.errors import (
    AgreementAlreadySigned,
    CaseDisputed,
    CaseFinal,
    CaseInLegal,
    InvalidPlanChoice,
    InvalidSignature,
    NoPlanChosen,
    NoPlanOffered,
    PaymentInProgress,
    PlanChoiceExpired,
)
from debtflow.strategy.rules import treatment_rules_for

PLAN_KINDS = ("instalments", "restructuring")
#: a chosen plan's dates start on the day it was chosen; sign within this many days
CHOICE_VALID_DAYS = 3
#: a payment started and not finished counts against what is owed this long (a provider's
#: checkout session lasts about as long), and no plan is signed on the case meanwhile;
#: after it the debtor may start another, or sign
OPEN_PAYMENT_HOLD = timedelta(minutes=30)


@dataclass(frozen=True)
class PlanOffer:
    """One plan the debtor may choose, with every payment dated, in fen."""

    kind: str
    recommended: bool
    offer: Offer
    schedule: tuple[DatedInstalment, ...]
    burden: BurdenChange | None

    @property
    def term_months(self) -> int:
        """The plan's term: months from the day chosen to the last instalment, grace
        included — what the card shows, the choice posts and the agreement states."""
        return self.offer.term_months

    @property
    def figures(self) -> PlanFigures:
        """The plan as the card and the agreement state it (owed − relief + interest =
        total, term, grace, instalments, down payment)."""
        return plan_figures(self.offer)

    @property
    def total_fen(self) -> int:
        return sum(row.amount_fen for row in self.schedule)

    @property
    def monthly_change_zh(self) -> str:
        """The change of the monthly payment alone ("月供减少20%"), "" without one to compare."""
        return self.burden.change_zh() if self.burden else ""

    @property
    def monthly_change_en(self) -> str:
        return self.burden.change_en() if self.burden else ""

    @property
    def change_zh(self) -> str:
        return self.burden.describe_zh() if self.burden else f"分{self.term_months}期"

    @property
    def change_en(self) -> str:
        return self.burden.describe_en() if self.burden else f"{self.term_months} instalments"

    @property
    def change_bp(self) -> int | None:
        return self.burden.change_bp if self.burden else None


def _debtor_today(debtor: Debtor, now: datetime) -> date:
    try:
        zone = ZoneInfo(debtor.timezone or get_settings().default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(get_settings().default_timezone)
    return now.astimezone(zone).date()


def _debt_now(accounts: Sequence[Account]) -> Debt:
    """What is owed now, as the nightly treatment step reads it (fees count as penalty)."""
    return Debt(
        principal_fen=sum(a.principal_fen for a in accounts),
        interest_fen=sum(a.interest_fen for a in accounts),
        penalty_fen=sum(a.penalty_fen + a.fees_fen for a in accounts),
        current_monthly_fen=sum(a.instalment_fen for a in accounts),
    )


def _offers(session: Session, case: Case, start: date) -> tuple[list[PlanOffer], str]:
    treatment = case.treatment or {}
    kind = treatment.get("kind")
    if kind not in PLAN_KINDS or treatment.get("refused") or case.segment is None:
        raise NoPlanOffered(
            f"case {case.id} has no repayment plan on offer (not planned yet, a legal "
            "treatment, or an offer outside the creditor's mandate); ask for legal advice or "
            "contact your collector"
        )
    rules = treatment_rules_for(case.experiment_key, case.experiment_variant)
    rule = rules.by_segment[Segment(case.segment)]
    if rule.kind.value != kind:
        raise NoPlanOffered(f"the treatment rules changed since case {case.id} was planned")
    creditor, _ = repository.case_parties(session, case_id=case.id)
    debt = _debt_now(repository.accounts_of_cases(session, case_ids=[case.id]))
    if debt.total_fen <= 0:
        raise NoPlanOffered(f"nothing is owed on case {case.id}")
    mandate = Mandate(
        creditor.max_relief_bp,
        creditor.max_term_months,
        -(-debt.total_fen * creditor.min_first_payment_bp // 10_000),
    )
    offers = []
    for months in rule.terms:
        offer = make_offer(
            debt,
            months=months,
            interest_relief_bp=rule.interest_relief_bp,
            penalty_relief_bp=rule.penalty_relief_bp,
            down_payment_bp=rule.down_payment_bp,
            monthly_rate=rule.monthly_rate,
            method=rule.method,
            grace_months=rule.grace_months,
            grace_interest=rule.grace_interest,
            min_first_payment_fen=mandate.min_first_payment_fen,
        )
        if check_mandate(offer, mandate):
            continue
        offers.append(
            PlanOffer(
                kind=kind,
                recommended=offer.term_months == treatment.get("term_months"),
                offer=offer,
                schedule=dated_schedule(offer, start),
                burden=offer.burden() if debt.current_monthly_fen > 0 else None,
            )
        )
    if not offers:
        raise NoPlanOffered(f"no plan for case {case.id} keeps within the creditor's mandate")
    return offers, rules.version


def plan_refusal(session: Session, *, case: Case, now: datetime) -> DomainError | None:
    """Why no plan may be chosen or signed on the case now, or None: the case is settled,
    closed or written off; it is in legal proceedings; or a dispute holds it (a debtor's
    portal dispute, or a ``dispute`` restriction an agent or officer recorded, until lifted).
    A plan signed before stays signed and may be paid (see :func:`payment_refusal`)."""
    if case.status in FINAL_STATUSES:
        return CaseFinal(
            f"case {case.id} is {case.status.value}: no plan can be chosen or signed and no "
            "payment made on it here"
        )
    if case.status is CaseStatus.LEGAL:
        return CaseInLegal(
            f"case {case.id} is in legal proceedings: no plan can be chosen or signed here; "
            "what is owed may still be paid"
        )
    held = compliance_service.disputes_in_force(session, case=case, at=now)
    if held:
        return CaseDisputed(
            f"case {case.id} is disputed (since {held[0].starts_at:%Y-%m-%d}): no plan can be "
            "chosen or signed until the dispute is dealt with; what is owed may still be paid"
        )
    return None


def payment_refusal(case: Case) -> DomainError | None:
    """Why no payment may be started on the case, or None: only a case settled, closed or
    written off refuses one (a case in legal proceedings or disputed may be paid)."""
    if case.status in FINAL_STATUSES:
        return CaseFinal(
            f"case {case.id} is {case.status.value}: no payment can be made on it here"
        )
    return None


def offers_of_case(
    session: Session, *, case: Case, debtor: Debtor, now: datetime
) -> list[PlanOffer]:
    """The plans on offer for ``case``, dated from the debtor's own today at ``now``
    (:class:`NoPlanOffered` when there is none)."""
    return _offers(session, case, _debtor_today(debtor, now))[0]


def plan_offers(
    session: Session, *, case_id: int, user: User, now: datetime | None = None
) -> list[PlanOffer]:
    """The plans the debtor may choose for their case, recomputed from what is owed now
    with the treatment rule of the case's segment (the nightly offer is marked
    ``recommended``); terms that break the creditor's mandate are left out."""
    now = now or utcnow()
    case = own_case(session, case_id=case_id, user=user)
    refused = plan_refusal(session, case=case, now=now)
    if refused is not None:
        raise refused
    _, debtor = repository.case_parties(session, case_id=case.id)
    return offers_of_case(session, case=case, debtor=debtor, now=now)


def choose_plan(
    session: Session, *, case_id: int, user: User, term_months: int, now: datetime | None = None
) -> PortalPlan:
    """Choose one offer by its term. The schedule is re-derived on the server; nothing the
    browser sends besides the term is used. Choosing again replaces an unsigned choice; a
    broken plan is kept as it was and a new one is chosen beside it (one live plan per
    case: the case row is locked here, and a partial unique index backs it)."""
    now = now or utcnow()
    case = own_case(session, case_id=case_id, user=user, for_update=True)
    refused = plan_refusal(session, case=case, now=now)
    if refused is not None:
        raise refused
    plan = repository.plan_of_case(session, case_id=case.id, for_update=True)
    if plan is not None and plan.status in (PLAN_SIGNED, PLAN_COMPLETED):
        raise AgreementAlreadySigned(f"the plan of case {case.id} is already signed")
    creditor, debtor = repository.case_parties(session, case_id=case.id)
    today = _debtor_today(debtor, now)
    offers, version = _offers(session, case, today)
    chosen = next((o for o in offers if o.term_months == term_months), None)
    if chosen is None:
        terms = [o.term_months for o in offers]
        raise InvalidPlanChoice(
            f"no plan with a term of {term_months} months is on offer; the plans on offer run "
            f"{', '.join(map(str, terms))} months (grace months included)",
            params={"term": term_months, "terms": terms},
        )
    text = agreement_text(
        AgreementParties(
            agreement_number=f"DF-{case.id}-{today:%Y%m%d}-{chosen.term_months}",
            creditor_name=creditor.name,
            creditor_code=creditor.code,
            debtor_name=debtor.name,
            case_id=case.id,
        ),
        chosen.offer,
        chosen.schedule,
        chosen.monthly_change_zh,
        chosen.monthly_change_en,
    )
    debt = chosen.offer.debt
    values = {
        "debtor_id": debtor.id,
        "status": PLAN_CHOSEN,
        "term_months": chosen.term_months,
        "rules_version": version,
        "start_on": today,
        "principal_fen": debt.principal_fen,
        "interest_fen": debt.interest_fen,
        "penalty_fen": debt.penalty_fen,
        "current_monthly_fen": debt.current_monthly_fen,
        "relief_fen": chosen.offer.relief_fen,
        "down_payment_fen": chosen.offer.down_payment_fen,
        "total_fen": chosen.total_fen,
        "chosen_at": now,
        "chosen_by": user.id,
        "agreement_text": text,
    }
    if plan is None:
        plan = PortalPlan(case_id=case.id, **values)
        session.add(plan)
    else:
        for key, value in values.items():
            setattr(plan, key, value)
    session.flush()
    repository.replace_instalments(
        session,
        plan_id=plan.id,
        rows=[
            PlanInstalment(
                plan_id=plan.id,
                number=row.number,
                due_on=row.due_on,
                principal_fen=row.principal_fen,
                interest_fen=row.interest_fen,
                amount_fen=row.amount_fen,
            )
            for row in chosen.schedule
        ],
    )
    session.flush()
    return plan


@dataclass(frozen=True)
class CasePlan:
    plan: PortalPlan
    instalments: Sequence[PlanInstalment]
    paid_since_signing_fen: int

    @property
    def signed(self) -> bool:
        """Signed (and possibly paid in full: then ``completed``)."""
        return self.plan.status in (PLAN_SIGNED, PLAN_COMPLETED)

    def next_due(self) -> tuple[DatedInstalment, int] | None:
        """The next payment of a signed plan and what is still owed on it."""
        return next_due(dated_instalments(self.instalments), self.paid_since_signing_fen)


def dated_instalments(rows: Sequence[PlanInstalment]) -> list[DatedInstalment]:
    """A plan's stored instalments as the core schedule reads them."""
    return [DatedInstalment(r.number, r.due_on, r.principal_fen, r.interest_fen) for r in rows]


def plan_of(session: Session, *, case_id: int, user: User) -> CasePlan | None:
    """The live plan (chosen, signed or completed) of the debtor's case, or None; a broken
    plan is not the case's plan any more (:func:`last_broken_plan`)."""
    case = own_case(session, case_id=case_id, user=user)
    return load_case_plan(session, case.id)


def load_case_plan(session: Session, case_id: int) -> CasePlan | None:
    """The case's live plan with what was booked on the case since it was signed: only
    payments booked after this plan's own signature count towards it (those made under a
    broken plan before do not)."""
    plan = repository.plan_of_case(session, case_id=case_id)
    if plan is None:
        return None
    paid = 0
    if plan.signed_at is not None:
        paid = repository.booked_on_case_since(session, case_id=case_id, since=plan.signed_at)
    return CasePlan(plan, repository.instalments_of_plan(session, plan_id=plan.id), paid)


def sign_agreement(
    session: Session,
    *,
    case_id: int,
    user: User,
    signer_name: str,
    read_confirmed: bool,
    ip: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> PortalPlan:
    """Sign the chosen plan's agreement once: the SHA-256 of its exact text, the typed
    name, time, IP and user agent are stored and the text goes into the evidence log."""
    now = now or utcnow()
    case = own_case(session, case_id=case_id, user=user, for_update=True)
    refused = plan_refusal(session, case=case, now=now)
    if refused is not None:
        raise refused
    plan = repository.plan_of_case(session, case_id=case.id, for_update=True)
    if plan is None:
        raise NoPlanChosen(f"choose a plan for case {case.id} before signing")
    if plan.status in (PLAN_SIGNED, PLAN_COMPLETED):
        raise AgreementAlreadySigned(f"the agreement of case {case.id} is already signed")
    name = " ".join(signer_name.split())
    if not read_confirmed:
        raise InvalidSignature("tick 'I have read the agreement' to sign")
    if not 2 <= len(name) <= 100:
        raise InvalidSignature("type your full name (2 to 100 characters) to sign")
    _, debtor = repository.case_parties(session, case_id=case.id)
    if debtor.debtor_type is DebtorType.PERSON and _as_typed(name) != _as_typed(debtor.name):
        # a business signs through a representative, whose name is not on file
        raise InvalidSignature("type your own full name, as the creditor has it on file, to sign")
    if (_debtor_today(debtor, now) - plan.start_on).days > CHOICE_VALID_DAYS:
        raise PlanChoiceExpired(
            f"the plan was chosen on {plan.start_on}; its dates have passed, choose it again"
        )
    started = repository.open_intents_fen(
        session, case_id=case.id, since=utcnow() - OPEN_PAYMENT_HOLD
    )
    if started > 0:
        # booked after signing it would count towards the plan, which was worked out on the
        # debt before it: let it be booked first, then choose the plan again on what is left
        raise PaymentInProgress(
            f"a payment of {started} fen started on case {case.id} in the last "
            f"{OPEN_PAYMENT_HOLD.seconds // 60} minutes is not booked yet; sign once it is "
            "(then choose the plan again on what is left to pay)"
        )
    owed = _debt_now(repository.accounts_of_cases(session, case_ids=[case.id]))
    if (owed.principal_fen, owed.interest_fen, owed.penalty_fen) != (
        plan.principal_fen,
        plan.interest_fen,
        plan.penalty_fen,
    ):
        raise PlanChoiceExpired(
            "what the case owes has changed since the plan was chosen (a payment or an update "
            "from the creditor); choose the plan again"
        )
    if not _still_offered(session, case, plan):
        raise PlanChoiceExpired(
            "the creditor's limits have changed since the plan was chosen and no longer allow "
            "it; choose the plan again"
        )
    text = plan.agreement_text.encode("utf-8")
    digest = hashlib.sha256(text).hexdigest()
    appended = evidence.append(
        session,
        kind=LeafKind.AGREEMENT_SIGNATURE,
        case_id=case.id,
        occurred_at=now,
        payload={
            "agreement_sha256": digest,
            "down_payment_fen": plan.down_payment_fen,
            "plan_id": plan.id,
            "relief_fen": plan.relief_fen,
            "signer_ip": ip or "",
            "signer_name": name,
            "signer_user_agent": (user_agent or "")[:300],
            "signer_user_id": user.id,
            "term_months": plan.term_months,
            "total_fen": plan.total_fen,
        },
        files=[AttachedFile(text, "text/plain; charset=utf-8")],
    )
    plan.status = PLAN_SIGNED
    plan.agreement_sha256 = digest
    plan.signer_name = name
    plan.signed_at = now
    plan.signer_ip = (ip or "")[:64] or None
    plan.signer_user_agent = (user_agent or "")[:300] or None
    plan.evidence_index = appended.index
    session.flush()
    _book_plan_interest(session, case=case, plan=plan, now=now)
    return plan


def _still_offered(session: Session, case: Case, plan: PortalPlan) -> bool:
    """Whether the chosen plan is still on offer as it was chosen — its term with the same
    relief, down payment and total, from the same start day — under the creditor's mandate
    as it is now (a creditor may lower its relief or term limit after the choice)."""
    try:
        offers, _ = _offers(session, case, plan.start_on)
    except NoPlanOffered:
        return False
    return any(
        (o.term_months, o.offer.relief_fen, o.offer.down_payment_fen, o.total_fen)
        == (plan.term_months, plan.relief_fen, plan.down_payment_fen, plan.total_fen)
        for o in offers
    )


def _as_typed(name: str) -> str:
    """A name as compared for a signature: width, case and spaces do not count."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def _book_plan_interest(session: Session, *, case: Case, plan: PortalPlan, now: datetime) -> None:
    """The rule that keeps a plan and the accounts consistent: the interest a plan charges
    (restructuring with a monthly rate) is owed once the agreement is signed, so it is
    booked onto the case's most overdue account at signing (an evidence-logged
    adjustment). What the accounts then owe is the plan's total plus the agreed relief,
    so no instalment is refused or booked as overpaid; the relief is waived when the
    last instalment is paid (:func:`debtflow.portal.plan_ending.complete_plan_if_paid`)."""
    interest = sum(r.interest_fen for r in repository.instalments_of_plan(session, plan_id=plan.id))
    if interest <= 0:
        return
    accounts = repository.accounts_of_cases(session, case_ids=[case.id], for_update=True)
    target = sorted(accounts, key=lambda a: (-a.days_past_due, a.id))[0]
    target.interest_fen += interest
    case.outstanding_fen += interest
    session.flush()
    evidence.append(
        session,
        kind=LeafKind.ADJUSTMENT,
        case_id=case.id,
        occurred_at=now,
        payload={
            "account_id": target.id,
            "amount_fen": interest,
            "parts": [{"account_id": target.id, "interest_fen": interest}],
            "plan_id": plan.id,
            "reason": "plan_interest",
        },
    )


#: the order relief is taken from what an account still owes at the end of a plan
