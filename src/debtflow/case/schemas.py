"""Case shapes of the JSON API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from debtflow.core.case.lifecycle import CaseStatus
from debtflow.web.inputs import Day


class CaseRead(BaseModel):
    id: int
    creditor_code: str
    debtor_name: str
    status: CaseStatus
    bucket: str
    days_past_due: int
    outstanding_fen: int
    channel: str
    overdue_cause: str
    assigned_collector: str | None
    aged_on: date | None


class SignedPlanRead(BaseModel):
    """The plan the debtor signed in the portal: ``signed`` (in force) or ``completed``."""

    plan_id: int
    status: str
    signed_at: datetime | None
    term_months: int
    instalment_count: int
    monthly_fen: int
    relief_fen: int
    down_payment_fen: int
    total_fen: int
    paid_fen: int
    next_due_on: date | None
    next_due_fen: int


class DisputeRead(BaseModel):
    """A dispute holding the case (collection waits until it is dealt with)."""

    restriction_id: int
    since: datetime
    reason: str
    status: str
    #: ``portal`` (the debtor filed it) or ``recorded`` (staff recorded it)
    source: str


class LegalRequestRead(BaseModel):
    """An open legal-advice request; ``question`` only for managers and admins."""

    id: int
    created_at: datetime
    contact_channel: str
    contact_time: str
    status: str
    question: str | None


class CaseDetail(CaseRead):
    """One case with what the debtor arranged or asked for in the portal."""

    signed_plan: SignedPlanRead | None
    disputes: list[DisputeRead]
    legal_requests: list[LegalRequestRead]


class CasePage(BaseModel):
    items: list[CaseRead]
    total: int
    limit: int
    offset: int


class PromiseCreate(BaseModel):
    amount_fen: int = Field(gt=0, le=10**13)
    due: Day


class PromiseRead(BaseModel):
    id: int
    case_id: int
    amount_fen: int
    made_on: date
    due: date
    status: str
