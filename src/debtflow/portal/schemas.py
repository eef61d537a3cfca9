"""Portal shapes of the JSON API."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


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
