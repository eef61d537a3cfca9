"""The typed records a creditor's portfolio file is validated into, and what the readers share.

A valid row becomes a :class:`PortfolioRow` (with its third-party contacts and monthly
repayment history); every problem is a :class:`RowError` with the spreadsheet row number (the
header is row 1), the column as the file names it, and a reason. :class:`HeaderMap` says which
file column holds which canonical field; :class:`ChunkResult` and :class:`ValidationReport`
collect the rows and errors of a chunk and of a whole file. The default time zone, the e-mail
pattern and the canonical names of the contact and history fields are here because the full
reader (``validation``) and the fast path (``fast_path``) both apply them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from debtflow.core.portfolio.columns import (
    BY_NAME,
    CONTACT_SLOTS,
    HEADER_LOOKUP,
    HISTORY_MONTHS,
    header_key,
)

DEFAULT_TIMEZONE = "Asia/Shanghai"
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CONTACT_FIELDS = tuple(
    (f"contact{k}_name", f"contact{k}_relation", f"contact{k}_phone", f"contact{k}_authorised")
    for k in range(1, CONTACT_SLOTS + 1)
)
HISTORY_FIELDS = tuple(
    (f"status_m{m}", f"statement_m{m}", f"paid_m{m}") for m in range(1, HISTORY_MONTHS + 1)
)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


class ThirdPartyContact(NamedTuple):
    name: str
    relation: str
    phone: str
    authorised: bool


class MonthRecord(NamedTuple):
    """One month of repayment history, most recent first (m1 = last month)."""

    status: int
    statement_fen: int
    paid_fen: int


@dataclass(slots=True)
class PortfolioRow:
    row: int
    account_number: str
    debtor_type: str
    name: str
    id_number: str
    birth_date: date | None
    registered_on: date | None
    employer: str | None
    industry: str | None
    phone: str
    email: str | None
    province: str
    city: str
    address: str | None
    latitude: float | None
    longitude: float | None
    timezone: str
    product_type: str
    original_fen: int
    principal_fen: int
    interest_fen: int
    fees_fen: int
    penalty_fen: int
    annual_rate_bp: int
    instalment_fen: int
    instalment_count: int
    first_due_date: date
    paid_fen: int
    opened_on: date
    maturity_date: date | None
    credit_limit_fen: int | None
    monthly_income_fen: int | None
    other_debts_fen: int | None
    dependents: int | None
    monthly_spending_fen: int | None
    monthly_revenue_fen: int | None
    receivables_fen: int | None
    main_customers: tuple[str, ...]
    overdue_cause: str
    contacts: tuple[ThirdPartyContact, ...] = ()
    history: tuple[MonthRecord, ...] = ()

    @property
    def outstanding_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.fees_fen + self.penalty_fen


@dataclass
class ValidationReport:
    rows: list[PortfolioRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rejected_rows: dict[int, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class HeaderMap:
    """Which file column holds which canonical field, and the file's own header names."""

    def __init__(self, header: Sequence[str]) -> None:
        self.index: dict[str, int] = {}
        self.label: dict[str, str] = {}
        self.unknown: list[str] = []
        self.duplicates: list[str] = []
        for position, text in enumerate(header):
            if not text or not text.strip():
                continue
            canonical = HEADER_LOOKUP.get(header_key(text))
            if canonical is None:
                self.unknown.append(text.strip())
            elif canonical in self.index:
                self.duplicates.append(text.strip())
            else:
                self.index[canonical] = position
                self.label[canonical] = text.strip().lstrip("\ufeff")

    def missing_required(self) -> list[str]:
        return [c.name for c in BY_NAME.values() if c.required and c.name not in self.index]


@dataclass
class ChunkResult:
    rows: list[PortfolioRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rejected_rows: dict[int, list[str]] = field(default_factory=dict)
    rows_read: int = 0
