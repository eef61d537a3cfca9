"""Case shapes of the JSON API."""

from __future__ import annotations

from datetime import date

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
