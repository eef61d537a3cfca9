"""JSON routes of the debtor portal."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from debtflow.auth.deps import CurrentUser
from debtflow.models import DebtorDispute, LegalAdviceRequest, PaymentIntent
from debtflow.payment.provider import configured_provider
from debtflow.portal import errors, payments, plans, service
from debtflow.portal import requests as debtor_requests
from debtflow.portal.schemas import (
    AccountRead,
    ContactPreferenceRead,
    ContactPreferenceWrite,
    DebtList,
    DebtRead,
    DisputeRead,
    InstalmentRead,
    LegalAdviceCreate,
    LegalAdviceHandled,
    LegalAdviceRead,
    LegalAdviceStaffRead,
    OfferList,
    OfferRead,
    PaymentCreate,
    PaymentIntentRead,
    PlanChoice,
    PlanRead,
    SignatureCreate,
    WebhookResult,
)
from debtflow.web.deps import DbSession
from debtflow.web.routing import RequestRoute

router = APIRouter(prefix="/api/portal", tags=["portal"], route_class=RequestRoute)
webhooks = APIRouter(prefix="/api/payments", tags=["payments"], route_class=RequestRoute)
MAX_WEBHOOK_BYTES = 64 * 1024


@router.get("/debts", response_model=DebtList)
def my_debts(session: DbSession, user: CurrentUser) -> DebtList:
    """The signed-in debtor's own debts (403 for staff)."""
    return DebtList(
        items=[
            DebtRead(
                case_id=debt.case.id,
                creditor_code=debt.creditor.code,
                creditor_name=debt.creditor.name,
                status=debt.case.status.value,
                outstanding_fen=debt.outstanding_fen,
                accounts=[
                    AccountRead(
                        account_number=a.account_number,
                        product_type=a.product_type.value,
                        outstanding_fen=a.outstanding_fen,
                        overdue_fen=a.overdue_fen,
                        days_past_due=a.days_past_due,
                        bucket=a.bucket,
                    )
                    for a in debt.accounts
                ],
                paid_fen=debt.paid_fen,
                pending_promise_due=debt.pending_promise_due,
            )
            for debt in service.debts_of(session, user=user)
        ]
    )


def _offer_read(o: plans.PlanOffer) -> OfferRead:
    figures = o.figures
    return OfferRead(
        kind=o.kind,
        term_months=o.term_months,
        grace_months=figures.grace_months,
        instalment_count=figures.instalments,
        recommended=o.recommended,
        owed_fen=o.offer.debt.total_fen,
        relief_fen=o.offer.relief_fen,
        plan_interest_fen=figures.plan_interest_fen,
        down_payment_fen=o.offer.down_payment_fen,
        total_fen=o.total_fen,
        current_monthly_fen=o.offer.debt.current_monthly_fen,
        largest_instalment_fen=o.offer.schedule.largest_instalment_fen,
        monthly_change_bp=o.change_bp,
        monthly_change_zh=o.change_zh,
        monthly_change_en=o.change_en,
        schedule=[
            InstalmentRead(
                number=r.number,
                due_on=r.due_on,
                principal_fen=r.principal_fen,
                interest_fen=r.interest_fen,
                amount_fen=r.amount_fen,
            )
            for r in o.schedule
        ],
    )


def _plan_read(current: plans.CasePlan) -> PlanRead:
    plan = current.plan
    due = current.next_due() if current.signed else None
    return PlanRead(
        case_id=plan.case_id,
        status=plan.status,
        term_months=plan.term_months,
        start_on=plan.start_on,
        relief_fen=plan.relief_fen,
        down_payment_fen=plan.down_payment_fen,
        total_fen=plan.total_fen,
        agreement_text=plan.agreement_text,
        agreement_sha256=plan.agreement_sha256,
        signer_name=plan.signer_name,
        signed_at=plan.signed_at,
        evidence_index=plan.evidence_index,
        schedule=[
            InstalmentRead(
                number=r.number,
                due_on=r.due_on,
                principal_fen=r.principal_fen,
                interest_fen=r.interest_fen,
                amount_fen=r.amount_fen,
            )
            for r in current.instalments
        ],
        next_due_on=due[0].due_on if due else None,
        next_due_fen=due[1] if due else None,
    )


def _intent_read(intent: PaymentIntent) -> PaymentIntentRead:
    return PaymentIntentRead(
        id=intent.id,
        case_id=intent.case_id,
        provider=intent.provider,
        provider_payment_id=intent.provider_payment_id,
        amount_fen=intent.amount_fen,
        status=intent.status,
        redirect_url=intent.redirect_url,
    )


def _dispute_read(d: DebtorDispute) -> DisputeRead:
    return DisputeRead.model_validate(d, from_attributes=True)


def _advice_read(r: LegalAdviceRequest) -> LegalAdviceRead:
    return LegalAdviceRead.model_validate(r, from_attributes=True)


def _advice_staff_read(r: LegalAdviceRequest) -> LegalAdviceStaffRead:
    return LegalAdviceStaffRead.model_validate(r, from_attributes=True)


@router.get("/cases/{case_id}/offers", response_model=OfferList)
def offers(case_id: int, session: DbSession, user: CurrentUser) -> OfferList:
    """The plans on offer for the debtor's case, each payment dated, in fen."""
    found = plans.plan_offers(session, case_id=case_id, user=user)
    return OfferList(items=[_offer_read(o) for o in found])


@router.post("/cases/{case_id}/plan", response_model=PlanRead, status_code=201)
def choose(case_id: int, body: PlanChoice, session: DbSession, user: CurrentUser) -> PlanRead:
    """Choose an offer by its term; the schedule is re-derived on the server."""
    plans.choose_plan(session, case_id=case_id, user=user, term_months=body.term_months)
    current = plans.plan_of(session, case_id=case_id, user=user)
    assert current is not None
    return _plan_read(current)


@router.get("/cases/{case_id}/plan", response_model=PlanRead)
def plan(case_id: int, session: DbSession, user: CurrentUser) -> PlanRead:
    current = plans.plan_of(session, case_id=case_id, user=user)
    if current is None:
        raise errors.NoPlanChosen(f"no plan chosen for case {case_id}")
    return _plan_read(current)


@router.post("/cases/{case_id}/agreement/signature", response_model=PlanRead, status_code=201)
def sign(
    case_id: int, body: SignatureCreate, request: Request, session: DbSession, user: CurrentUser
) -> PlanRead:
    """Sign the chosen plan's agreement (once)."""
    plans.sign_agreement(
        session,
        case_id=case_id,
        user=user,
        signer_name=body.signer_name,
        read_confirmed=body.read_confirmed,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )
    current = plans.plan_of(session, case_id=case_id, user=user)
    assert current is not None
    return _plan_read(current)


@router.post("/cases/{case_id}/payments", response_model=PaymentIntentRead, status_code=201)
def pay(
    case_id: int, body: PaymentCreate, session: DbSession, user: CurrentUser
) -> PaymentIntentRead:
    """Start a payment with the provider; follow ``redirect_url`` to pay."""
    intent = payments.start_payment(
        session,
        case_id=case_id,
        user=user,
        idempotency_key=body.idempotency_key,
        amount_fen=body.amount_fen,
        provider=configured_provider(),
    )
    return _intent_read(intent)


@router.post("/cases/{case_id}/disputes", response_model=DisputeRead, status_code=201)
def dispute(
    case_id: int,
    session: DbSession,
    user: CurrentUser,
    reason: Annotated[str, Form(max_length=2000)],
    file: Annotated[UploadFile | None, File()] = None,
) -> DisputeRead:
    """Dispute the case, optionally with a PDF, JPEG or PNG of at most 10 MB."""
    row = debtor_requests.file_dispute(
        session, case_id=case_id, user=user, reason=reason, upload=read_upload(file)
    )
    return _dispute_read(row)


def read_upload(file: UploadFile | None) -> debtor_requests.UploadedFile | None:
    """The uploaded file, read to at most one byte over the limit (so a larger one is
    refused without reading it all)."""
    if file is None or not file.filename:
        return None
    content = file.file.read(service.MAX_UPLOAD_BYTES + 1)
    return debtor_requests.UploadedFile(
        file_name=file.filename,
        media_type=file.content_type or "application/octet-stream",
        content=content,
    )


@router.post("/cases/{case_id}/legal-advice", response_model=LegalAdviceRead, status_code=201)
def legal_advice(
    case_id: int, body: LegalAdviceCreate, session: DbSession, user: CurrentUser
) -> LegalAdviceRead:
    row = debtor_requests.request_legal_advice(
        session,
        case_id=case_id,
        user=user,
        question=body.question,
        contact_channel=body.contact_channel,
        contact_time=body.contact_time,
    )
    return _advice_read(row)


@router.get("/legal-advice", response_model=list[LegalAdviceStaffRead])
def legal_advice_list(
    session: DbSession,
    user: CurrentUser,
    status: Literal["open", "handled", "all"] = "all",
) -> list[LegalAdviceStaffRead]:
    """Legal-advice requests, newest first (operations managers and admins): every one, or
    only the ``open`` or ``handled`` ones."""
    return [
        _advice_staff_read(r)
        for r, _, _ in debtor_requests.legal_advice_requests(session, user=user, status=status)
    ]


@router.post("/legal-advice/{request_id}/handled", response_model=LegalAdviceStaffRead)
def legal_advice_handled(
    request_id: int, body: LegalAdviceHandled, session: DbSession, user: CurrentUser
) -> LegalAdviceStaffRead:
    """Record that the request was dealt with, with a note of what was done (operations
    managers and admins). The first record stands: the same note again returns it, another
    note is refused (409 ``legal_request_already_handled``)."""
    row = debtor_requests.handle_legal_request(
        session, request_id=request_id, user=user, note=body.note
    )
    return _advice_staff_read(row)


@router.get("/payments/mismatched", response_model=list[PaymentIntentRead])
def mismatched_payments(session: DbSession, user: CurrentUser) -> list[PaymentIntentRead]:
    """Payments the provider reported with another amount than was started (booked as
    received), for operations managers and admins to reconcile."""
    return [_intent_read(i) for i in payments.mismatched_payments(session, user=user)]


@router.get("/contact-preferences", response_model=ContactPreferenceRead | None)
def get_preferences(session: DbSession, user: CurrentUser) -> ContactPreferenceRead | None:
    row = debtor_requests.contact_preferences(session, user=user)
    return ContactPreferenceRead.model_validate(row, from_attributes=True) if row else None


@router.put("/contact-preferences", response_model=ContactPreferenceRead)
def put_preferences(
    body: ContactPreferenceWrite, session: DbSession, user: CurrentUser
) -> ContactPreferenceRead:
    row = debtor_requests.set_contact_preferences(
        session,
        user=user,
        earliest_local=body.earliest_local,
        latest_local=body.latest_local,
        channels=body.channels,
    )
    return ContactPreferenceRead.model_validate(row, from_attributes=True)


async def raw_body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            raise errors.InvalidWebhook("the webhook body is too large")
    return body


@webhooks.post("/webhook", response_model=WebhookResult)
def webhook(
    request: Request, session: DbSession, body: Annotated[bytes, Depends(raw_body)]
) -> WebhookResult:
    """The payment provider's signed webhook (``Debtflow-Signature``; see
    docs/debtor-portal.md). 400 for a bad or stale signature; 200 for a duplicate."""
    outcome = payments.receive_webhook(
        session, provider=configured_provider(), headers=dict(request.headers), body=body
    )
    return WebhookResult(outcome=outcome.outcome, payment_ids=list(outcome.payment_ids))
