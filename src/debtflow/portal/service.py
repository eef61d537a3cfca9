"""What a debtor sees of their own debts, and the full history of one case for whoever
may reach it (scoping by ``case.service.get_for_user``)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from debtflow import evidence
from debtflow.auth.scoping import Permission, require
from debtflow.case import service as case_service
from debtflow.compliance import service as compliance_service
from debtflow.config import get_settings
from debtflow.core.case.lifecycle import FINAL_STATUSES, CaseStatus
from debtflow.core.compliance.contact import Channel, ContactFlag
from debtflow.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
)
from debtflow.core.evidence.leaf import LeafKind
from debtflow.core.payment_provider.signing import (
    EVENT_PAYMENT_SUCCEEDED,
    WebhookEvent,
    WebhookRejected,
)
from debtflow.core.portal.plan import (
    AccountDue,
    AgreementParties,
    DatedInstalment,
    agreement_text,
    dated_schedule,
    next_due,
    split_payment,
)
from debtflow.core.strategy.schedules import BurdenChange
from debtflow.core.strategy.segmentation import Segment
from debtflow.core.strategy.treatment import Debt, Mandate, Offer, check_mandate, make_offer
from debtflow.db import utcnow
from debtflow.evidence import AttachedFile
from debtflow.models import (
    Account,
    Case,
    CaseStatusChange,
    ContactAttempt,
    ContactPreference,
    Creditor,
    Debtor,
    DebtorDispute,
    LegalAdviceRequest,
    Payment,
    PaymentIntent,
    PlanInstalment,
    PortalPlan,
    PromiseToPay,
    User,
)
from debtflow.models.enums import PromiseStatus
from debtflow.models.portal import (
    INTENT_MISMATCHED,
    INTENT_PENDING,
    INTENT_SUCCEEDED,
    PLAN_CHOSEN,
    PLAN_COMPLETED,
    PLAN_SIGNED,
)
from debtflow.payment import service as payment_service
from debtflow.payment.provider import PaymentProvider, SimulatedProvider, require_provider
from debtflow.portal import repository
from debtflow.strategy import service as strategy_service

log = logging.getLogger(__name__)


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


# --- plan offers, choice and signed agreement ------------------------------------------

PLAN_KINDS = ("instalments", "restructuring")
#: a chosen plan's dates start on the day it was chosen; sign within this many days
CHOICE_VALID_DAYS = 3
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: media types a dispute may attach, with the leading bytes each must start with
UPLOAD_TYPES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
ADVICE_CHANNELS = ("call", "sms", "email", "video")
PREFERENCE_CHANNELS = tuple(c.value for c in Channel)


class NoPlanOffered(Conflict):
    code = "no_plan_offered"


class InvalidPlanChoice(InvalidInput):
    code = "invalid_plan_choice"


class AgreementAlreadySigned(Conflict):
    code = "agreement_already_signed"


class NoPlanChosen(Conflict):
    code = "no_plan_chosen"


class PlanChoiceExpired(Conflict):
    code = "plan_choice_expired"


class InvalidSignature(InvalidInput):
    code = "invalid_signature"


class InvalidPortalPayment(InvalidInput):
    code = "invalid_portal_payment"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class InvalidWebhook(DomainError):
    status_code = 400
    code = "invalid_webhook"


class InvalidUpload(InvalidInput):
    code = "invalid_upload"


class UploadTooLarge(DomainError):
    status_code = 413
    code = "upload_too_large"


class InvalidRequest(InvalidInput):
    code = "invalid_request"


class DisputeAlreadyOpen(Conflict):
    code = "dispute_already_open"


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
        return self.offer.term_months

    @property
    def total_fen(self) -> int:
        return sum(row.amount_fen for row in self.schedule)

    @property
    def change_zh(self) -> str:
        return self.burden.describe_zh() if self.burden else f"分{self.term_months}期"

    @property
    def change_en(self) -> str:
        return self.burden.describe_en() if self.burden else f"{self.term_months} instalments"

    @property
    def change_bp(self) -> int | None:
        return self.burden.change_bp if self.burden else None


def _own_case(session: Session, *, case_id: int, user: User, for_update: bool = False) -> Case:
    """A case of the signed-in debtor (403 for staff, 404 for anybody else's case)."""
    require(user, Permission.VIEW_OWN_DEBTS)
    return case_service.get_for_user(session, case_id=case_id, user=user, for_update=for_update)


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
    _, rules = strategy_service.strategy_rules()
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


def plan_offers(
    session: Session, *, case_id: int, user: User, now: datetime | None = None
) -> list[PlanOffer]:
    """The plans the debtor may choose for their case, recomputed from what is owed now
    with the treatment rule of the case's segment (the nightly offer is marked
    ``recommended``); terms that break the creditor's mandate are left out."""
    case = _own_case(session, case_id=case_id, user=user)
    _, debtor = repository.case_parties(session, case_id=case.id)
    return _offers(session, case, _debtor_today(debtor, now or utcnow()))[0]


def choose_plan(
    session: Session, *, case_id: int, user: User, term_months: int, now: datetime | None = None
) -> PortalPlan:
    """Choose one offer by its term. The schedule is re-derived on the server; nothing the
    browser sends besides the term is used. Choosing again replaces an unsigned choice."""
    now = now or utcnow()
    case = _own_case(session, case_id=case_id, user=user, for_update=True)
    plan = repository.plan_of_case(session, case_id=case.id, for_update=True)
    if plan is not None and plan.status in (PLAN_SIGNED, PLAN_COMPLETED):
        raise AgreementAlreadySigned(f"the plan of case {case.id} is already signed")
    creditor, debtor = repository.case_parties(session, case_id=case.id)
    today = _debtor_today(debtor, now)
    offers, version = _offers(session, case, today)
    chosen = next((o for o in offers if o.term_months == term_months), None)
    if chosen is None:
        terms = ", ".join(str(o.term_months) for o in offers)
        raise InvalidPlanChoice(f"no offer of {term_months} months; offered terms: {terms}")
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
        chosen.change_zh,
        chosen.change_en,
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
        rows = [
            DatedInstalment(r.number, r.due_on, r.principal_fen, r.interest_fen)
            for r in self.instalments
        ]
        return next_due(rows, self.paid_since_signing_fen)


def plan_of(session: Session, *, case_id: int, user: User) -> CasePlan | None:
    """The chosen or signed plan of the debtor's case, or None."""
    case = _own_case(session, case_id=case_id, user=user)
    return _case_plan(session, case.id)


def _case_plan(session: Session, case_id: int) -> CasePlan | None:
    plan = repository.plan_of_case(session, case_id=case_id)
    if plan is None:
        return None
    paid = 0
    if plan.signed_at is not None:
        paid = repository.paid_on_case_since(session, case_id=case_id, since=plan.signed_at)
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
    case = _own_case(session, case_id=case_id, user=user, for_update=True)
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
    if (_debtor_today(debtor, now) - plan.start_on).days > CHOICE_VALID_DAYS:
        raise PlanChoiceExpired(
            f"the plan was chosen on {plan.start_on}; its dates have passed, choose it again"
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


def _book_plan_interest(session: Session, *, case: Case, plan: PortalPlan, now: datetime) -> None:
    """The rule that keeps a plan and the accounts consistent: the interest a plan charges
    (restructuring with a monthly rate) is owed once the agreement is signed, so it is
    booked onto the case's most overdue account at signing (an evidence-logged
    adjustment). What the accounts then owe is the plan's total plus the agreed relief,
    so no instalment is refused or booked as overpaid; the relief is waived when the
    last instalment is paid (:func:`complete_plan_if_paid`)."""
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
_RELIEF_ORDER = ("penalty_fen", "interest_fen", "fees_fen", "principal_fen")


def complete_plan_if_paid(session: Session, *, case_id: int, at: datetime) -> bool:
    """Once everything a signed plan asks for is paid (all payments since signing, any
    channel), waive the agreed relief from what the accounts still owe (an evidence-
    logged adjustment, fen-exact: never more than the relief, never more than is owed),
    mark the plan completed and settle the case when nothing is left."""
    plan = repository.plan_of_case(session, case_id=case_id, for_update=True)
    if plan is None or plan.status != PLAN_SIGNED or plan.signed_at is None:
        return False
    paid = repository.paid_on_case_since(session, case_id=case_id, since=plan.signed_at)
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
                reason=f"plan {plan.id} paid in full, relief of {waived} fen waived",
                actor="debtor portal",
            )
        except DomainError as error:  # e.g. on hold: a person settles it
            log.warning("case %s paid its plan but stays %s: %s", case_id, case.status, error)
    return True


# --- payments through the provider -------------------------------------------------------

_KEY_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_:.")


def start_payment(
    session: Session,
    *,
    case_id: int,
    user: User,
    idempotency_key: str,
    provider: PaymentProvider | None,
    amount_fen: int | None = None,
) -> PaymentIntent:
    """Start a payment on the debtor's case: the next amount due on the signed plan, or
    ``amount_fen`` (at most what is owed). The same idempotency key returns the same
    intent; the same key for another case or amount is refused. Without a configured
    provider (None) paying is unavailable (503)."""
    case = _own_case(session, case_id=case_id, user=user)
    provider = require_provider(provider)
    if not 8 <= len(idempotency_key) <= 100 or not set(idempotency_key) <= _KEY_ALPHABET:
        raise InvalidPortalPayment(
            "the idempotency key must be 8 to 100 letters, digits or - _ : ."
        )
    existing = repository.intent_by_key(session, user_id=user.id, idempotency_key=idempotency_key)
    if existing is not None:
        return _same_intent(existing, case.id, amount_fen)
    if amount_fen is None:
        current = _case_plan(session, case.id)
        due = current.next_due() if current is not None and current.signed else None
        if due is None:
            raise InvalidPortalPayment("no signed plan with an amount due: give amount_fen")
        amount_fen = due[1]
    if amount_fen <= 0:
        raise InvalidPortalPayment("a payment must be a positive amount of fen")
    if amount_fen > case.outstanding_fen:
        raise InvalidPortalPayment(
            f"{amount_fen} fen is more than the {case.outstanding_fen} fen owed on the case"
        )
    redirect = provider.create_payment(
        amount_fen=amount_fen,
        idempotency_key=f"{user.id}:{idempotency_key}",
        description=f"debtflow case {case.id}",
        return_url=f"/portal/cases/{case.id}?paid=1",
    )
    intent = PaymentIntent(
        case_id=case.id,
        user_id=user.id,
        idempotency_key=idempotency_key,
        provider=redirect.provider,
        provider_payment_id=redirect.provider_payment_id,
        redirect_url=redirect.redirect_url,
        amount_fen=amount_fen,
        status=INTENT_PENDING,
    )
    try:
        with session.begin_nested():
            session.add(intent)
    except IntegrityError:  # the same key started at the same moment elsewhere
        existing = repository.intent_by_key(
            session, user_id=user.id, idempotency_key=idempotency_key
        )
        if existing is None:
            raise
        return _same_intent(existing, case.id, amount_fen)
    return intent


def _same_intent(existing: PaymentIntent, case_id: int, amount_fen: int | None) -> PaymentIntent:
    if existing.case_id != case_id or (
        amount_fen is not None and amount_fen != existing.amount_fen
    ):
        raise IdempotencyConflict(
            "this idempotency key was used for another payment; use a new key"
        )
    return existing


def own_intent(session: Session, *, provider_payment_id: str, user: User) -> PaymentIntent:
    """A payment the signed-in debtor started (404 for anybody else's)."""
    require(user, Permission.VIEW_OWN_DEBTS)
    intent = repository.intent_by_provider_id(
        session, provider_payment_id=provider_payment_id, for_update=True
    )
    if intent is None or intent.user_id != user.id:
        raise NotFound(f"payment {provider_payment_id} does not exist")
    return intent


@dataclass(frozen=True)
class WebhookOutcome:
    outcome: str
    """booked, duplicate, ignored_type, unknown_payment, amount_mismatch, already_paid"""
    payment_ids: tuple[int, ...] = ()


def receive_webhook(
    session: Session,
    *,
    provider: PaymentProvider | None,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
) -> WebhookOutcome:
    """Act on a provider webhook once per provider event id: book the payment (split over
    the case's accounts, each part through ``payment.service.book``, which appends a
    PAYMENT evidence leaf). A replayed or concurrent duplicate books nothing."""
    now = now or utcnow()
    provider = require_provider(provider)
    try:
        event = provider.verify_webhook(headers, body, now=now)
    except WebhookRejected as error:
        raise InvalidWebhook(str(error)) from None
    row_id = repository.record_event_once(
        session,
        values={
            "provider": provider.name,
            "event_id": event.event_id,
            "event_type": event.event_type,
            "provider_payment_id": event.provider_payment_id,
            "amount_fen": event.amount_fen,
            "outcome": "received",
            "received_at": now,
        },
    )
    if row_id is None:
        return WebhookOutcome("duplicate")
    outcome = _book_event(session, event)
    repository.set_event_outcome(session, event_row_id=row_id, outcome=outcome.outcome)
    return outcome


def _book_event(session: Session, event: WebhookEvent) -> WebhookOutcome:
    if event.event_type != EVENT_PAYMENT_SUCCEEDED:
        return WebhookOutcome("ignored_type")
    intent = repository.intent_by_provider_id(
        session, provider_payment_id=event.provider_payment_id, for_update=True
    )
    if intent is None:
        return WebhookOutcome("unknown_payment")
    if intent.status in (INTENT_SUCCEEDED, INTENT_MISMATCHED):
        return WebhookOutcome("already_paid")
    accounts = repository.accounts_of_cases(session, case_ids=[intent.case_id])
    parts = split_payment(
        event.amount_fen,
        [AccountDue(a.id, a.outstanding_fen, a.days_past_due) for a in accounts],
    )
    booked = []
    for number, (account_id, amount) in enumerate(parts, start=1):
        payment = payment_service.book(
            session,
            account_id=account_id,
            amount_fen=amount,
            paid_at=event.paid_at,
            reference=f"pi{intent.id}-{number}",
            channel=f"portal_{intent.provider}"[:30],
            actor="debtor portal",
        )
        booked.append(payment.id)
    intent.paid_at = event.paid_at
    if event.amount_fen == intent.amount_fen:
        intent.status = INTENT_SUCCEEDED
        outcome = "booked"
    else:
        # the money arrived: book what was received, and leave the difference to a person
        intent.status = INTENT_MISMATCHED
        outcome = "amount_mismatch"
        log.warning(
            "payment %s (intent %s, case %s): %s fen received for %s fen started; booked "
            "what was received, to be reconciled",
            intent.provider_payment_id,
            intent.id,
            intent.case_id,
            event.amount_fen,
            intent.amount_fen,
        )
    session.flush()
    complete_plan_if_paid(session, case_id=intent.case_id, at=event.paid_at)
    return WebhookOutcome(outcome, tuple(booked))


def confirm_simulated_payment(
    session: Session,
    *,
    provider_payment_id: str,
    user: User,
    provider: SimulatedProvider,
    now: datetime | None = None,
) -> PaymentIntent:
    """The signed-in debtor confirmed their own payment on the simulated provider's pay
    page (development only): its signed event is booked in-process through the same
    verification as a delivered webhook, once per payment."""
    now = now or utcnow()
    intent = own_intent(session, provider_payment_id=provider_payment_id, user=user)
    headers, body = provider.confirmation(
        provider_payment_id=intent.provider_payment_id,
        amount_fen=intent.amount_fen,
        paid_at=now,
    )
    receive_webhook(session, provider=provider, headers=headers, body=body, now=now)
    return intent


def mismatched_payments(session: Session, *, user: User) -> Sequence[PaymentIntent]:
    """Payments whose provider amount differed from the one started (booked as
    received), newest first, for a manager to reconcile."""
    require(user, Permission.RECONCILE_PAYMENTS)
    return repository.intents_with_status(session, status=INTENT_MISMATCHED)


# --- disputes, legal advice, contact preferences -------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    file_name: str
    media_type: str
    content: bytes


def check_upload(upload: UploadedFile) -> None:
    """At most 10 MB, a PDF, JPEG or PNG whose bytes are what its type says."""
    if len(upload.content) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if not upload.content:
        raise InvalidUpload("the file is empty")
    media = upload.media_type.split(";")[0].strip().lower()
    magic = UPLOAD_TYPES.get(media)
    if magic is None:
        raise InvalidUpload(f"{media or 'this file type'} is not accepted: send a PDF, JPEG or PNG")
    if not any(upload.content.startswith(m) for m in magic):
        raise InvalidUpload(f"the file's contents are not a {media} file")


def file_dispute(
    session: Session,
    *,
    case_id: int,
    user: User,
    reason: str,
    upload: UploadedFile | None = None,
    now: datetime | None = None,
) -> DebtorDispute:
    """Dispute a case: store it, hash the file into the evidence log, and put a dispute
    restriction on the case so the compliance gate denies collection contacts until a
    compliance officer lifts it."""
    now = now or utcnow()
    case = _own_case(session, case_id=case_id, user=user, for_update=True)
    if repository.open_dispute_of_case(session, case_id=case.id) is not None:
        raise DisputeAlreadyOpen(
            f"a dispute of case {case.id} is already open; it is being looked into"
        )
    text = reason.strip()
    if not 2 <= len(text) <= 2000:
        raise InvalidRequest("describe the dispute in 2 to 2000 characters")
    media = None
    if upload is not None:
        check_upload(upload)
        media = upload.media_type.split(";")[0].strip().lower()
    restriction = compliance_service.set_restriction(
        session,
        debtor_id=case.debtor_id,
        flag=ContactFlag.DISPUTE.value,
        reason=f"debtor dispute (portal): {text[:200]}",
        set_by="debtor portal",
        case_id=case.id,
        now=now,
    )
    dispute = DebtorDispute(
        case_id=case.id,
        debtor_id=case.debtor_id,
        reason=text,
        file_sha256=hashlib.sha256(upload.content).hexdigest() if upload else None,
        file_name=upload.file_name[:200] if upload else None,
        media_type=media,
        file_size=len(upload.content) if upload else None,
        restriction_id=restriction.id,
        status="open",
        created_at=now,
    )
    session.add(dispute)
    session.flush()
    evidence.append(
        session,
        kind=LeafKind.DISPUTE,
        case_id=case.id,
        occurred_at=now,
        payload={
            "dispute_id": dispute.id,
            "file_name": dispute.file_name,
            "media_type": media,
            "reason": text,
            "restriction_id": restriction.id,
        },
        files=[AttachedFile(upload.content, media or "")] if upload else [],
    )
    return dispute


def request_legal_advice(
    session: Session,
    *,
    case_id: int,
    user: User,
    question: str,
    contact_channel: str,
    contact_time: str,
    now: datetime | None = None,
) -> LegalAdviceRequest:
    """Ask for free legal advice on a case; stored, evidence-logged, listed for managers."""
    now = now or utcnow()
    case = _own_case(session, case_id=case_id, user=user)
    text = question.strip()
    if not 2 <= len(text) <= 2000:
        raise InvalidRequest("ask your question in 2 to 2000 characters")
    if contact_channel not in ADVICE_CHANNELS:
        raise InvalidRequest(f"contact channel must be one of: {', '.join(ADVICE_CHANNELS)}")
    when = contact_time.strip()
    if len(when) > 100:
        raise InvalidRequest("the preferred contact time is at most 100 characters")
    row = LegalAdviceRequest(
        case_id=case.id,
        debtor_id=case.debtor_id,
        question=text,
        contact_channel=contact_channel,
        contact_time=when,
        status="open",
        created_at=now,
    )
    session.add(row)
    session.flush()
    evidence.append(
        session,
        kind=LeafKind.LEGAL_ADVICE,
        case_id=case.id,
        occurred_at=now,
        payload={
            "contact_channel": contact_channel,
            "contact_time": when,
            "question": text,
            "request_id": row.id,
        },
    )
    return row


def legal_advice_requests(
    session: Session, *, user: User
) -> Sequence[tuple[LegalAdviceRequest, Debtor, Creditor]]:
    """Every legal-advice request, newest first (operations managers and admins)."""
    require(user, Permission.VIEW_LEGAL_REQUESTS)
    return repository.legal_requests(session)


@dataclass(frozen=True)
class CaseRequests:
    disputes: Sequence[DebtorDispute]
    legal_requests: Sequence[LegalAdviceRequest]


def requests_of_case(session: Session, *, case_id: int, user: User) -> CaseRequests:
    case = _own_case(session, case_id=case_id, user=user)
    return CaseRequests(
        repository.disputes_of_case(session, case_id=case.id),
        repository.legal_requests_of_case(session, case_id=case.id),
    )


def contact_preferences(session: Session, *, user: User) -> ContactPreference | None:
    require(user, Permission.VIEW_OWN_DEBTS)
    if user.debtor_id is None:
        return None
    return repository.contact_preference(session, debtor_id=user.debtor_id)


def set_contact_preferences(
    session: Session, *, user: User, earliest_local: time, latest_local: time, channels: list[str]
) -> ContactPreference:
    """The hours (the debtor's local time) and channels the debtor prefers. A preference,
    not a permission: the compliance gate's quiet hours still apply."""
    require(user, Permission.VIEW_OWN_DEBTS)
    if user.debtor_id is None:
        raise InvalidRequest("this sign-in is not linked to a debtor")
    if earliest_local >= latest_local:
        raise InvalidRequest("the earliest time must be before the latest time")
    chosen = sorted(set(channels))
    if not chosen or not set(chosen) <= set(PREFERENCE_CHANNELS):
        raise InvalidRequest(f"choose at least one channel of: {', '.join(PREFERENCE_CHANNELS)}")
    row = repository.contact_preference(session, debtor_id=user.debtor_id)
    if row is None:
        row = ContactPreference(debtor_id=user.debtor_id)
        session.add(row)
    row.earliest_local = earliest_local.replace(second=0, microsecond=0, tzinfo=None)
    row.latest_local = latest_local.replace(second=0, microsecond=0, tzinfo=None)
    row.channels = chosen
    row.updated_at = utcnow()
    session.flush()
    return row


@dataclass(frozen=True)
class PortalCase:
    """Everything the debtor's page of one case shows."""

    debt: DebtorDebt
    plan: CasePlan | None
    offers: Sequence[PlanOffer]
    no_offer_reason: str | None
    intents: Sequence[PaymentIntent]
    requests: CaseRequests


def portal_case(
    session: Session, *, case_id: int, user: User, now: datetime | None = None
) -> PortalCase:
    case = _own_case(session, case_id=case_id, user=user)
    creditor, debtor = repository.case_parties(session, case_id=case.id)
    debt = DebtorDebt(
        case=case,
        creditor=creditor,
        accounts=repository.accounts_of_cases(session, case_ids=[case.id]),
        payments=repository.payments_of_case(session, case_id=case.id),
        promises=repository.promises_of_case(session, case_id=case.id),
    )
    current = _case_plan(session, case.id)
    offers: Sequence[PlanOffer] = []
    reason = None
    if current is None or not current.signed:
        try:
            offers = _offers(session, case, _debtor_today(debtor, now or utcnow()))[0]
        except NoPlanOffered as error:
            reason = error.message
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
    )
