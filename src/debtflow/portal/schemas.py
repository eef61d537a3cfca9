"""Portal shapes of the JSON API."""

from __future__ import annotations

from datetime import date, datetime, time

from pydantic import BaseModel, Field


class AccountRead(BaseModel):
    account_number: str
    product_type: str
    outstanding_fen: int
    overdue_fen: int
    days_past_due: int
    bucket: str


class DebtRead(BaseModel):
    case_id: int
    creditor_code: str
    creditor_name: str
    status: str
    outstanding_fen: int
    accounts: list[AccountRead]
    paid_fen: int
    pending_promise_due: date | None


class DebtList(BaseModel):
    items: list[DebtRead]


class InstalmentRead(BaseModel):
    number: int
    due_on: date
    principal_fen: int
    interest_fen: int
    amount_fen: int


class OfferRead(BaseModel):
    kind: str
    term_months: int
    """Months from the day chosen to the last instalment, grace months included: the
    number a choice posts."""
    grace_months: int
    instalment_count: int
    """Instalments after the grace months (the down payment is not one of them)."""
    recommended: bool
    owed_fen: int
    relief_fen: int
    plan_interest_fen: int
    down_payment_fen: int
    total_fen: int
    """owed − relief + plan interest."""
    current_monthly_fen: int
    largest_instalment_fen: int
    monthly_change_bp: int | None
    monthly_change_zh: str
    monthly_change_en: str
    schedule: list[InstalmentRead]


class OfferList(BaseModel):
    items: list[OfferRead]


class PlanChoice(BaseModel):
    """Only the term is taken from the debtor; every amount is derived on the server."""

    term_months: int = Field(ge=1, le=360)


class PlanRead(BaseModel):
    case_id: int
    status: str
    term_months: int
    start_on: date
    relief_fen: int
    down_payment_fen: int
    total_fen: int
    agreement_text: str
    agreement_sha256: str | None
    signer_name: str | None
    signed_at: datetime | None
    evidence_index: int | None
    schedule: list[InstalmentRead]
    next_due_on: date | None = None
    next_due_fen: int | None = None


class SignatureCreate(BaseModel):
    signer_name: str = Field(min_length=1, max_length=200)
    read_confirmed: bool


class PaymentCreate(BaseModel):
    idempotency_key: str = Field(min_length=1, max_length=100)
    amount_fen: int | None = Field(default=None, gt=0)


class PaymentIntentRead(BaseModel):
    id: int
    case_id: int
    provider: str
    provider_payment_id: str
    amount_fen: int
    status: str
    redirect_url: str


class WebhookResult(BaseModel):
    outcome: str
    payment_ids: list[int]


class DisputeRead(BaseModel):
    id: int
    case_id: int
    reason: str
    file_sha256: str | None
    media_type: str | None
    file_size: int | None
    restriction_id: int
    status: str
    created_at: datetime


class LegalAdviceCreate(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    contact_channel: str = Field(max_length=20)
    contact_time: str = Field(default="", max_length=100)


class LegalAdviceRead(BaseModel):
    """A legal-advice request as the debtor who asked sees it: ``status`` ``open`` or
    ``handled``, and when it was handled (None while open)."""

    id: int
    case_id: int
    question: str
    contact_channel: str
    contact_time: str
    status: str
    created_at: datetime
    handled_at: datetime | None = None


class LegalAdviceStaffRead(LegalAdviceRead):
    """A legal-advice request as managers and admins see it: also who recorded it as
    handled and their note."""

    handled_by: str | None = None
    handled_note: str | None = None


class LegalAdviceHandled(BaseModel):
    """What was done (2 to 500 characters, checked by the service): for staff, not shown to
    the debtor."""

    note: str = Field(max_length=2000)


class ContactPreferenceWrite(BaseModel):
    earliest_local: time
    latest_local: time
    channels: list[str] = Field(max_length=10)


class ContactPreferenceRead(BaseModel):
    earliest_local: time
    latest_local: time
    channels: list[str]
