"""Portfolio intake: validate a creditor's file, then create or update debtors, contact
points, cases and accounts in one transaction. A file with any error changes nothing,
unless the caller asks to skip invalid rows."""

from __future__ import annotations

import csv
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from debtflow.core.errors import InvalidInput, NotFound
from debtflow.core.portfolio.validation import (
    ChunkResult,
    CrossRowChecks,
    HeaderMap,
    PortfolioRow,
    RowError,
    header_errors,
    validate_chunk,
)
from debtflow.models.enums import ContactKind, ContactParty
from debtflow.portfolio import repository
from debtflow.portfolio.reader import PortfolioSheet, read_portfolio

# small chunks let the writer start early while worker processes validate the rest
VALIDATE_CHUNK_ROWS = 1000
WRITE_CHUNK_ROWS = 2000
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


def _validate_slice(
    header: list[str], rows: list[list[str]], today: date, first_row: int
) -> ChunkResult:
    return validate_chunk(header, rows, today=today, first_row=first_row)


def validated_chunks(sheet: PortfolioSheet, *, today: date) -> Iterator[tuple[int, ChunkResult]]:
    """(first row number, per-row validation) chunk by chunk, in file order.

    Large files are validated in worker processes while the caller writes earlier chunks,
    so intake uses every core; small files are validated inline.
    """
    starts = range(0, len(sheet.rows), VALIDATE_CHUNK_ROWS)
    jobs = [
        (sheet.header, sheet.rows[s : s + VALIDATE_CHUNK_ROWS], today, sheet.first_data_row + s)
        for s in starts
    ]
    workers = min(os.cpu_count() or 1, 4)
    if len(jobs) < 2 or workers < 2:
        for job in jobs:
            yield job[3], _validate_slice(*job)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_validate_slice, *job) for job in jobs]
        for job, future in zip(jobs, futures, strict=True):
            yield job[3], future.result()


def _conflicts_with_database(
    rows: Sequence[PortfolioRow],
    *,
    names: dict[str, str],
    owners: dict[str, str],
    labels: dict[str, str],
) -> list[RowError]:
    """Errors only the database can reveal: an ID number known under another name, an
    account number that belongs to another debtor (``names`` and ``owners`` are what the
    database holds for the rows' ID and account numbers)."""
    errors: list[RowError] = []
    for row in rows:
        stored = names.get(row.id_number)
        if stored is not None and stored != row.name:
            errors.append(
                RowError(
                    row.row,
                    labels.get("name", "name"),
                    f"ID number {row.id_number} is already on file as {stored!r}",
                )
            )
        owner = owners.get(row.account_number)
        if owner is not None and owner != row.id_number:
            errors.append(
                RowError(
                    row.row,
                    labels.get("account_number", "account_number"),
                    f"account {row.account_number} belongs to the debtor with ID {owner} already",
                )
            )
    return errors


def write_rejects(
    path: Path,
    header: Sequence[str],
    errors: Sequence[RowError],
    rejected_rows: dict[int, list[str]],
) -> None:
    reasons: dict[int, list[str]] = {}
    for error in errors:
        reasons.setdefault(error.row, []).append(f"{error.column}: {error.reason}")
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "errors", *header])
        for row_number in sorted(reasons):
            writer.writerow(
                [row_number, "; ".join(reasons[row_number]), *rejected_rows.get(row_number, [])]
            )


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

    Every row is validated and every error collected. When there is any error and
    ``skip_invalid`` is false, :class:`PortfolioRejected` is raised and nothing the import
    wrote remains (its savepoint is rolled back). With ``skip_invalid`` the valid rows are
    imported and the rejected ones written to ``rejects_path``.
    """
    creditor = repository.creditor_by_code(session, code=creditor_code)
    if creditor is None:
        raise UnknownCreditor(
            f"unknown creditor {creditor_code!r}; create it first with "
            f"`debtflow creditor add {creditor_code} NAME`"
        )
    sheet = read_portfolio(path)
    headers = HeaderMap(sheet.header)
    result = ImportResult(
        rows_read=0,
        rows_valid=0,
        ignored_columns=list(headers.unknown),
        dry_run=dry_run,
        encoding=sheet.encoding,
    )
    problems = header_errors(headers)
    if problems:
        raise PortfolioRejected(problems)

    cross_rows = CrossRowChecks(headers)
    rejected: dict[int, list[str]] = {}
    debtors: set[int] = set()
    cases: set[int] = set()
    savepoint = session.begin_nested()
    for first_row, chunk in validated_chunks(sheet, today=today):
        result.rows_read += chunk.rows_read
        cross_rows.keep(chunk, sheet.rows[first_row - sheet.first_data_row :], first_row)
        owners = repository.accounts_on_file(
            session, creditor_id=creditor.id, account_numbers=[r.account_number for r in chunk.rows]
        )
        clashes = _conflicts_with_database(
            chunk.rows,
            names=repository.names_on_file(session, id_numbers=[r.id_number for r in chunk.rows]),
            owners=owners,
            labels=headers.label,
        )
        if clashes:
            bad = {e.row for e in clashes}
            for row in chunk.rows:
                if row.row in bad:
                    chunk.rejected_rows[row.row] = sheet.rows[row.row - sheet.first_data_row]
            chunk.rows = [r for r in chunk.rows if r.row not in bad]
            chunk.errors = sorted([*chunk.errors, *clashes], key=lambda e: e.row)
        result.errors.extend(chunk.errors)
        rejected.update(chunk.rejected_rows)
        result.rows_valid += len(chunk.rows)
        if result.errors and not skip_invalid:
            continue  # keep validating to report every error; write nothing more
        existing = {r.account_number for r in chunk.rows if r.account_number in owners}
        result.accounts_updated += len(existing)
        result.accounts_created += len(chunk.rows) - len(existing)
        if not dry_run:
            for start in range(0, len(chunk.rows), WRITE_CHUNK_ROWS):
                part = chunk.rows[start : start + WRITE_CHUNK_ROWS]
                d, c = _write_chunk(session, creditor_id=creditor.id, rows=part)
                debtors.update(d)
                cases.update(c)
        if progress is not None:
            progress(chunk.rows_read)

    if result.errors and not skip_invalid:
        savepoint.rollback()
        raise PortfolioRejected(result.errors)
    if dry_run:
        savepoint.rollback()
    else:
        repository.refresh_case_outstanding(session, case_ids=sorted(cases))
        savepoint.commit()
        session.expire_all()  # rows were written through the driver, past the identity map
    if result.errors:
        result.rejects_path = rejects_path or path.with_name(path.stem + ".rejects.csv")
        if not dry_run:
            write_rejects(result.rejects_path, sheet.header, result.errors, rejected)
    result.debtors_touched = len(debtors)
    result.cases_touched = len(cases)
    return result


def _write_chunk(
    session: Session, *, creditor_id: int, rows: Sequence[PortfolioRow]
) -> tuple[list[int], list[int]]:
    # one debtor row per ID number in the chunk (the last row's details win)
    by_id: dict[str, PortfolioRow] = {}
    for row in rows:
        by_id[row.id_number] = row
    id_numbers = list(by_id)
    debtor_of = repository.upsert_debtors(session, [_debtor_values(by_id[i]) for i in id_numbers])

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

    causes: dict[int, str] = {}
    for row in rows:
        debtor_id = debtor_of[row.id_number]
        if row.overdue_cause != "unknown" or debtor_id not in causes:
            causes[debtor_id] = row.overdue_cause
    case_of = repository.upsert_cases(session, creditor_id=creditor_id, causes=causes)

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
    return list(debtor_of.values()), list(case_of.values())


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
