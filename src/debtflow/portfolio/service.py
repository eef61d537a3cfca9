"""Portfolio intake: validate a creditor's file, then create or update debtors, contact
points, cases and accounts in one transaction. A file with any error changes nothing,
unless the caller asks to skip invalid rows."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from debtflow.core.errors import InvalidInput, NotFound
from debtflow.core.portfolio.validation import (
    PortfolioRow,
    RowError,
    ValidationReport,
    validate_portfolio,
)
from debtflow.models.enums import ContactKind, ContactParty
from debtflow.portfolio import repository
from debtflow.portfolio.reader import PortfolioSheet, read_portfolio

CHUNK_ROWS = 2000
Progress = Callable[[int], None]


class PortfolioRejected(InvalidInput):
    """The file has errors; nothing was written."""

    code = "portfolio_rejected"

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the portfolio file; nothing was imported")
        self.errors = list(errors)


class UnknownCreditor(NotFound):
    code = "unknown_creditor"


@dataclass
class ImportResult:
    rows_read: int
    rows_valid: int
    accounts_created: int = 0
    accounts_updated: int = 0
    debtors_touched: int = 0
    cases_touched: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rejects_path: Path | None = None
    dry_run: bool = False
    encoding: str = ""


def validate_file(path: Path, *, today: date) -> tuple[PortfolioSheet, ValidationReport]:
    sheet = read_portfolio(path)
    report = validate_portfolio(
        sheet.header, sheet.rows, today=today, first_row=sheet.first_data_row
    )
    return sheet, report


def _conflicts_with_database(
    session: Session, *, creditor_id: int, rows: Sequence[PortfolioRow], labels: dict[str, str]
) -> list[RowError]:
    """Errors only the database can reveal: an ID number known under another name, an
    account number that belongs to another debtor."""
    errors: list[RowError] = []
    names = {r.id_number: r.name for r in rows}
    row_of_id = {r.id_number: r.row for r in rows}
    for id_number, stored in repository.debtors_with_other_names(session, names_by_id_number=names):
        errors.append(
            RowError(
                row_of_id[id_number],
                labels.get("name", "name"),
                f"ID number {id_number} is already on file as {stored!r}",
            )
        )
    owners = {r.account_number: r.id_number for r in rows}
    row_of_account = {r.account_number: r.row for r in rows}
    for number, stored_id in repository.accounts_owned_by_other_debtors(
        session, creditor_id=creditor_id, owner_by_account=owners
    ):
        errors.append(
            RowError(
                row_of_account[number],
                labels.get("account_number", "account_number"),
                f"account {number} belongs to the debtor with ID {stored_id} already",
            )
        )
    return sorted(errors, key=lambda e: e.row)


def write_rejects(
    path: Path, header: Sequence[str], report: ValidationReport, *, extra: Sequence[RowError] = ()
) -> None:
    reasons: dict[int, list[str]] = {}
    for error in [*report.errors, *extra]:
        reasons.setdefault(error.row, []).append(f"{error.column}: {error.reason}")
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "errors", *header])
        for row_number in sorted(reasons):
            cells = report.rejected_rows.get(row_number, [])
            writer.writerow([row_number, "; ".join(reasons[row_number]), *cells])


def import_portfolio(
    session: Session,
    *,
    path: Path,
    creditor_code: str,
    today: date,
    dry_run: bool = False,
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate and import ``path`` for ``creditor_code``. Never commits.

    Raises :class:`PortfolioRejected` (nothing written) when the file has errors and
    ``skip_invalid`` is false.
    """
    creditor = repository.creditor_by_code(session, code=creditor_code)
    if creditor is None:
        raise UnknownCreditor(
            f"unknown creditor {creditor_code!r}; create it first with "
            f"`debtflow creditor add {creditor_code} NAME`"
        )
    sheet, report = validate_file(path, today=today)
    labels = {k: v for k, v in _labels(sheet.header).items()}
    db_errors = (
        _conflicts_with_database(session, creditor_id=creditor.id, rows=report.rows, labels=labels)
        if report.rows
        else []
    )
    if db_errors:
        bad_rows = {e.row for e in db_errors}
        for row in report.rows:
            if row.row in bad_rows:
                report.rejected_rows[row.row] = sheet.rows[row.row - sheet.first_data_row]
        report.rows = [r for r in report.rows if r.row not in bad_rows]
        report.errors = sorted([*report.errors, *db_errors], key=lambda e: e.row)

    result = ImportResult(
        rows_read=sum(1 for r in sheet.rows if any(c.strip() for c in r)),
        rows_valid=len(report.rows),
        errors=list(report.errors),
        ignored_columns=report.ignored_columns,
        dry_run=dry_run,
        encoding=sheet.encoding,
    )
    if report.errors and not skip_invalid:
        raise PortfolioRejected(report.errors)
    if report.errors and skip_invalid:
        result.rejects_path = rejects_path or path.with_name(path.stem + ".rejects.csv")
        if not dry_run:
            write_rejects(result.rejects_path, sheet.header, report)

    existing = repository.existing_account_numbers(
        session, creditor_id=creditor.id, account_numbers=[r.account_number for r in report.rows]
    )
    result.accounts_updated = len(existing)
    result.accounts_created = len(report.rows) - len(existing)
    if dry_run:
        return result

    debtors: set[int] = set()
    cases: set[int] = set()
    for start in range(0, len(report.rows), CHUNK_ROWS):
        chunk = report.rows[start : start + CHUNK_ROWS]
        d, c = _write_chunk(session, creditor_id=creditor.id, rows=chunk)
        debtors.update(d)
        cases.update(c)
        if progress is not None:
            progress(len(chunk))
    repository.refresh_case_outstanding(session, case_ids=sorted(cases))
    result.debtors_touched = len(debtors)
    result.cases_touched = len(cases)
    return result


def _labels(header: Sequence[str]) -> dict[str, str]:
    from debtflow.core.portfolio.validation import HeaderMap

    return HeaderMap(header).label


def _write_chunk(
    session: Session, *, creditor_id: int, rows: Sequence[PortfolioRow]
) -> tuple[list[int], list[int]]:
    # one debtor row per ID number in the chunk (the last row's details win)
    by_id: dict[str, PortfolioRow] = {}
    for row in rows:
        by_id[row.id_number] = row
    id_numbers = list(by_id)
    debtor_ids = repository.upsert_debtors(session, [_debtor_values(by_id[i]) for i in id_numbers])
    debtor_of = dict(zip(id_numbers, debtor_ids, strict=True))

    repository.upsert_addresses(
        session,
        [
            {
                "debtor_id": debtor_of[i],
                "kind": "home",
                "province": by_id[i].province,
                "city": by_id[i].city,
                "line": by_id[i].address,
                "latitude": by_id[i].latitude,
                "longitude": by_id[i].longitude,
            }
            for i in id_numbers
        ],
    )
    contact_points: dict[tuple[int, str, str], dict[str, Any]] = {}
    for row in rows:
        debtor_id = debtor_of[row.id_number]
        contact_points[(debtor_id, "phone", row.phone)] = {
            "debtor_id": debtor_id,
            "kind": ContactKind.PHONE.value,
            "value": row.phone,
            "party": ContactParty.DEBTOR.value,
            "contact_name": None,
            "relation": None,
            "authorised": True,
        }
        if row.email:
            contact_points[(debtor_id, "email", row.email)] = {
                "debtor_id": debtor_id,
                "kind": ContactKind.EMAIL.value,
                "value": row.email,
                "party": ContactParty.DEBTOR.value,
                "contact_name": None,
                "relation": None,
                "authorised": True,
            }
        for contact in row.contacts:
            contact_points[(debtor_id, "phone", contact.phone)] = {
                "debtor_id": debtor_id,
                "kind": ContactKind.PHONE.value,
                "value": contact.phone,
                "party": ContactParty.THIRD_PARTY.value,
                "contact_name": contact.name,
                "relation": contact.relation,
                "authorised": contact.authorised,
            }
    repository.upsert_contact_points(session, list(contact_points.values()))

    case_rows: dict[int, dict[str, Any]] = {}
    for row in rows:
        debtor_id = debtor_of[row.id_number]
        values: dict[str, Any] = {"creditor_id": creditor_id, "debtor_id": debtor_id}
        if row.overdue_cause != "unknown" or debtor_id not in case_rows:
            values["overdue_cause"] = row.overdue_cause
        case_rows[debtor_id] = {**case_rows.get(debtor_id, {}), **values}
    # rows must share one shape for a single executemany
    for values in case_rows.values():
        values.setdefault("overdue_cause", "unknown")
    debtor_keys = list(case_rows)
    case_ids = repository.upsert_cases(session, [case_rows[d] for d in debtor_keys])
    case_of = dict(zip(debtor_keys, case_ids, strict=True))

    repository.upsert_accounts(
        session,
        [
            _account_values(
                row,
                creditor_id=creditor_id,
                debtor_id=debtor_of[row.id_number],
                case_id=case_of[debtor_of[row.id_number]],
            )
            for row in rows
        ],
    )
    return debtor_ids, case_ids


def _debtor_values(row: PortfolioRow) -> dict[str, Any]:
    return {
        "id_number": row.id_number,
        "debtor_type": row.debtor_type,
        "name": row.name,
        "birth_date": row.birth_date,
        "registered_on": row.registered_on,
        "employer": row.employer,
        "industry": row.industry,
        "timezone": row.timezone,
        "monthly_income_fen": row.monthly_income_fen,
        "other_debts_fen": row.other_debts_fen,
        "dependents": row.dependents,
        "monthly_spending_fen": row.monthly_spending_fen,
        "monthly_revenue_fen": row.monthly_revenue_fen,
        "receivables_fen": row.receivables_fen,
        "main_customers": list(row.main_customers),
    }


def _account_values(
    row: PortfolioRow, *, creditor_id: int, debtor_id: int, case_id: int
) -> dict[str, Any]:
    return {
        "creditor_id": creditor_id,
        "account_number": row.account_number,
        "debtor_id": debtor_id,
        "case_id": case_id,
        "product_type": row.product_type,
        "original_fen": row.original_fen,
        "principal_fen": row.principal_fen,
        "interest_fen": row.interest_fen,
        "fees_fen": row.fees_fen,
        "penalty_fen": row.penalty_fen,
        "annual_rate_bp": row.annual_rate_bp,
        "instalment_fen": row.instalment_fen,
        "instalment_count": row.instalment_count,
        "first_due_date": row.first_due_date,
        "paid_before_fen": row.paid_fen,
        "opened_on": row.opened_on,
        "maturity_date": row.maturity_date,
        "credit_limit_fen": row.credit_limit_fen,
        "repayment_history": [
            {"status": m.status, "statement_fen": m.statement_fen, "paid_fen": m.paid_fen}
            for m in row.history
        ],
    }
