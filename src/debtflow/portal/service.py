"""What a debtor sees of their own debts, and the full history of one case for whoever
may reach it (scoping by ``case.service.get_for_user``).

The debtor's debts and the page of one of their cases live here. Beside them, and
re-exported here so that other domains and the tests call one service: ``plans.py`` (the
plans on offer, the debtor's choice, the signed agreement, the plan's interest and its
completion), ``access.py`` (whose case a debtor acts on) and ``errors.py`` (what the portal
refuses). Payments through the provider are ``payments.py``; disputes, legal advice and
contact preferences ``requests.py``; what of all that staff see on a case (the signed plan,
disputes in force, open legal-advice requests) ``arrangements.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, require
from debtflow.case import service as case_service
from debtflow.core.compliance.contact import Channel
from debtflow.core.errors import DomainError
from debtflow.core.portal.plan import instalment_ordinals
from debtflow.db import utcnow
from debtflow.models import (
    Account,
    Case,
    CaseStatusChange,
    ContactAttempt,
    Creditor,
    DebtorDispute,
    LegalAdviceRequest,
    Payment,
    PaymentIntent,
    PortalPlan,
    PromiseToPay,
    User,
)
from debtflow.models.enums import PromiseStatus
from debtflow.portal import repository
from debtflow.portal.access import own_case
from debtflow.portal.arrangements import (
    Arrangements,
    DisputeHold,
    LegalRequest,
    SignedPlan,
    arrangements_of_case,
    signed_plan_of,
    signed_plan_of_case,
)
from debtflow.portal.errors import (
    AgreementAlreadySigned,
    CaseDisputed,
    CaseFinal,
    CaseInLegal,
    DisputeAlreadyOpen,
    IdempotencyConflict,
    InvalidHandlingNote,
    InvalidPlanChoice,
    InvalidPortalPayment,
    InvalidRequest,
    InvalidSignature,
    InvalidUpload,
    InvalidWebhook,
    LegalRequestAlreadyHandled,
    LegalRequestNotFound,
    NoPlanChosen,
    NoPlanOffered,
    PaymentInProgress,
    PlanChoiceExpired,
    UploadTooLarge,
)
from debtflow.portal.plan_ending import complete_plan_if_paid, last_broken_plan
from debtflow.portal.plans import (
    CHOICE_VALID_DAYS,
    PLAN_KINDS,
    CasePlan,
    PlanOffer,
    choose_plan,
    dated_instalments,
    load_case_plan,
    offers_of_case,
    payment_refusal,
    plan_of,
    plan_offers,
    plan_refusal,
    sign_agreement,
)

__all__ = [
    "CHOICE_VALID_DAYS",
    "PLAN_KINDS",
    "AgreementAlreadySigned",
    "Arrangements",
    "CaseDisputed",
    "CaseFinal",
    "CaseInLegal",
    "CasePlan",
    "DisputeAlreadyOpen",
    "DisputeHold",
    "IdempotencyConflict",
    "InvalidHandlingNote",
    "InvalidPlanChoice",
    "InvalidPortalPayment",
    "InvalidRequest",
    "InvalidSignature",
    "InvalidUpload",
    "InvalidWebhook",
    "LegalRequest",
    "LegalRequestAlreadyHandled",
    "LegalRequestNotFound",
    "NoPlanChosen",
    "NoPlanOffered",
    "PaymentInProgress",
    "PlanChoiceExpired",
    "PlanOffer",
    "SignedPlan",
    "UploadTooLarge",
    "arrangements_of_case",
    "choose_plan",
    "complete_plan_if_paid",
    "last_broken_plan",
    "load_case_plan",
    "own_case",
    "payment_refusal",
    "plan_of",
    "plan_offers",
    "plan_refusal",
    "sign_agreement",
    "signed_plan_of",
    "signed_plan_of_case",
]


@dataclass(frozen=True)
class CaseHistory:
    case: Case
    accounts: Sequence[Account]
    payments: Sequence[Payment]
    promises: Sequence[PromiseToPay]
    contacts: Sequence[ContactAttempt]
    status_changes: Sequence[CaseStatusChange]


def case_history(session: Session, *, case_id: int, user: User) -> CaseHistory:
    case = case_service.get_for_user(session, case_id=case_id, user=user)
    return CaseHistory(
        case=case,
        accounts=repository.accounts_of_cases(session, case_ids=[case.id]),
        payments=repository.payments_of_case(session, case_id=case.id),
        promises=repository.promises_of_case(session, case_id=case.id),
        contacts=repository.contacts_of_case(session, case_id=case.id),
        status_changes=case_service.status_history(session, case_id=case.id),
    )


@dataclass(frozen=True)
class DebtorDebt:
    """One creditor's case of the debtor: accounts and what happened on it."""

    case: Case
    creditor: Creditor
    accounts: Sequence[Account]
    payments: Sequence[Payment]
    promises: Sequence[PromiseToPay]

    @property
    def outstanding_fen(self) -> int:
        return sum(a.outstanding_fen for a in self.accounts)

    @property
    def paid_fen(self) -> int:
        """What the listed payments (the latest 50) add up to."""
        return sum(p.amount_fen for p in self.payments)

    @property
    def pending_promise_due(self) -> date | None:
        """The earliest due date of a promise still pending, if any."""
        pending = [p.due for p in self.promises if p.status == PromiseStatus.PENDING]
        return min(pending) if pending else None


def total_outstanding_fen(debts: Sequence[DebtorDebt]) -> int:
    return sum(d.outstanding_fen for d in debts)


def debts_of(session: Session, *, user: User) -> list[DebtorDebt]:
    """The signed-in debtor's own debts, and nobody else's."""
    require(user, Permission.VIEW_OWN_DEBTS)
    if user.debtor_id is None:
        return []
    cases = repository.cases_of_debtor(session, debtor_id=user.debtor_id)
    accounts = repository.accounts_of_cases(session, case_ids=[c.id for c, _ in cases])
    return [
        DebtorDebt(
            case=case,
            creditor=creditor,
            accounts=[a for a in accounts if a.case_id == case.id],
            payments=repository.payments_of_case(session, case_id=case.id),
            promises=repository.promises_of_case(session, case_id=case.id),
        )
        for case, creditor in cases
    ]


# --- what a debtor may send with a request (``requests.py``) -------------------------------

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: media types a dispute may attach, with the leading bytes each must start with
UPLOAD_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
ADVICE_CHANNELS = ("call", "sms", "email", "video")
PREFERENCE_CHANNELS = tuple(c.value for c in Channel)


@dataclass(frozen=True)
class CaseRequests:
    disputes: Sequence[DebtorDispute]
    legal_requests: Sequence[LegalAdviceRequest]


@dataclass(frozen=True)
class PortalCase:
    """Everything the debtor's page of one case shows."""

    debt: DebtorDebt
    plan: CasePlan | None
    offers: Sequence[PlanOffer]
    no_offer_reason: str | None
    intents: Sequence[PaymentIntent]
    requests: CaseRequests
    #: why no plan may be chosen or signed now (a final status, legal, a dispute), or None
    plan_refusal: DomainError | None = None
    #: why no payment may be started (a final status), or None
    payment_refusal: DomainError | None = None
    #: the plan ended because an instalment was too late, shown while no new plan is signed
    broken_plan: PortalPlan | None = None
    #: the late instalment of ``broken_plan`` as the debtor counts it (grace months not
    #: counted), or None for the down payment
    broken_ordinal: int | None = None


def portal_case(
    session: Session, *, case_id: int, user: User, now: datetime | None = None
) -> PortalCase:
    case = own_case(session, case_id=case_id, user=user)
    creditor, debtor = repository.case_parties(session, case_id=case.id)
    debt = DebtorDebt(
        case=case,
        creditor=creditor,
        accounts=repository.accounts_of_cases(session, case_ids=[case.id]),
        payments=repository.payments_of_case(session, case_id=case.id),
        promises=repository.promises_of_case(session, case_id=case.id),
    )
    now = now or utcnow()
    current = load_case_plan(session, case.id)
    offers: Sequence[PlanOffer] = []
    reason = None
    refused = plan_refusal(session, case=case, now=now)
    if refused is None and (current is None or not current.signed):
        try:
            offers = offers_of_case(session, case=case, debtor=debtor, now=now)
        except NoPlanOffered as error:
            reason = error.message
    broken = (
        last_broken_plan(session, case_id=case.id)
        if current is None or not current.signed
        else None
    )
    broken_ordinal = None
    if broken is not None and broken.broken_instalment:
        rows = dated_instalments(repository.instalments_of_plan(session, plan_id=broken.id))
        broken_ordinal = instalment_ordinals(rows).get(broken.broken_instalment)
    return PortalCase(
        debt=debt,
        plan=current,
        offers=offers,
        no_offer_reason=reason,
        intents=repository.intents_of_case(session, case_id=case.id),
        requests=CaseRequests(
            repository.disputes_of_case(session, case_id=case.id),
            repository.legal_requests_of_case(session, case_id=case.id),
        ),
        plan_refusal=refused,
        payment_refusal=payment_refusal(case),
        broken_plan=broken,
        broken_ordinal=broken_ordinal,
    )
