"""Portfolio intake: validate a creditor's file, then create or update debtors, contact
points, cases and accounts in one transaction. A file with any error changes nothing,
unless the caller asks to skip invalid rows."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from debtflow.config import personal_data_cipher
from debtflow.core.errors import InvalidInput, NotFound
from debtflow.core.portfolio.cross_row import CrossRowChecks
from debtflow.core.portfolio.records import HeaderMap, RowError
from debtflow.core.portfolio.validation import header_errors
from debtflow.db import utcnow
from debtflow.portfolio import repository
from debtflow.portfolio.preparation import PreparedRow, prepared_chunks
from debtflow.portfolio.reader import read_portfolio

Progress = Callable[[int], None]


class PortfolioRejected(InvalidInput):
    """The file has errors; nothing was written."""

    code = "portfolio_rejected"

    def __init__(self, errors: Sequence[RowError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the portfolio file; nothing was imported")
        self.errors = list(errors)


class UnknownCreditor(NotFound):
    code = "unknown_creditor"


class UnwritableRejects(InvalidInput):
    code = "unwritable_rejects"


def _same_file(one: Path, other: Path) -> bool:
    """Whether two paths name one file: through a link or another way of writing the path."""
    try:
        return os.path.samefile(one, other)
    except OSError:  # one of them does not exist (yet): compare where they lead
        return os.path.realpath(one) == os.path.realpath(other)


def _rejects_destination(path: Path, rejects_path: Path | None) -> Path:
    """Where rejected rows go (default ``FILE.rejects.csv`` beside the file), refused up front
    when that file cannot be written, so the import never fails after the rows are in, or
    when it is the portfolio file itself, which the rejects would replace."""
    target = rejects_path or path.with_name(path.stem + ".rejects.csv")
    folder = target.parent
    problem = None
    if _same_file(target, path):
        problem = f"it is the portfolio file {path} itself, which it would overwrite"
    elif not folder.is_dir():
        problem = f"the folder {folder} does not exist"
    elif target.is_dir():
        problem = "it is a folder"
    elif not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        problem = "it is not writable"
    if problem is not None:
        raise UnwritableRejects(
            f"cannot write rejected rows to {target}: {problem}; nothing was imported "
            "(choose another file with --rejects)"
        )
    return target


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


def _conflicts_with_database(
    rows: Sequence[PreparedRow],
    *,
    names: dict[str, str],
    owners: dict[str, tuple[str, str]],
    finals: dict[str, tuple[int, str]],
    labels: dict[str, str],
) -> list[RowError]:
    """Errors only the database can reveal: an ID number known under another name, an
    account number that belongs to another debtor, a new account for a case in a final
    status (``names``: {ID blind index: stored name}; ``owners``: {account number: (owner's
    ID blind index, owner's encrypted ID number)}; ``finals``: {ID blind index: (case id,
    status)} of the cases in a final status)."""
    errors: list[RowError] = []
    for row in rows:
        final = finals.get(row.id_index)
        if final is not None and row.account_number not in owners:
            errors.append(
                RowError(
                    row.row,
                    labels.get("account_number", "account_number"),
                    f"account {row.account_number} is new debt for case {final[0]}, which is "
                    f"{final[1]} (a final status): new debt needs a new case, it is not "
                    "added to a closed one",
                )
            )
        stored = names.get(row.id_index)
        if stored is not None and stored != row.name:
            errors.append(
                RowError(
                    row.row,
                    labels.get("name", "name"),
                    f"ID number {row.id_number} is already on file as {stored!r}",
                )
            )
        owner = owners.get(row.account_number)
        if owner is not None and owner[0] != row.id_index:
            errors.append(
                RowError(
                    row.row,
                    labels.get("account_number", "account_number"),
                    f"account {row.account_number} belongs to the debtor with ID "
                    f"{personal_data_cipher().decrypt(owner[1])} already",
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
                [
                    row_number,
                    "; ".join(reasons[row_number]),
                    *rejected_rows.get(row_number, []),
                ]
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
    if skip_invalid or rejects_path is not None:
        rejects_path = _rejects_destination(path, rejects_path)
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
    stale_cases: set[int] = set()
    dialect = session.get_bind().dialect.name
    stamp = utcnow()
    savepoint = session.begin_nested()
    chunks = prepared_chunks(sheet, today=today, dialect=dialect, stamp=stamp)
    with repository.bulk_writing(session), closing(chunks):  # closing stops the workers
        for chunk in chunks:
            result.rows_read += chunk.rows_read
            rows = cross_rows.kept(
                chunk.rows,
                errors=chunk.errors,
                rejected_rows=chunk.rejected_rows,
                raw=sheet.rows,
                first_row=sheet.first_data_row,
            )
            names = repository.names_on_file(session, id_indexes=[r.id_index for r in rows])
            owners = repository.accounts_on_file(
                session,
                creditor_id=creditor.id,
                account_numbers=[r.account_number for r in rows],
            )
            finals = repository.final_cases(
                session, creditor_id=creditor.id, id_indexes=list(names)
            )
            clashes = _conflicts_with_database(
                rows, names=names, owners=owners, finals=finals, labels=headers.label
            )
            if clashes:
                bad = {e.row for e in clashes}
                for row in rows:
                    if row.row in bad:
                        chunk.rejected_rows[row.row] = sheet.rows[row.row - sheet.first_data_row]
                rows = [r for r in rows if r.row not in bad]
                chunk.errors = sorted([*chunk.errors, *clashes], key=lambda e: e.row)
            result.errors.extend(chunk.errors)
            rejected.update(chunk.rejected_rows)
            result.rows_valid += len(rows)
            if result.errors and not skip_invalid:
                continue  # keep validating to report every error; write nothing more
            existing = {r.account_number for r in rows if r.account_number in owners}
            result.accounts_updated += len(existing)
            result.accounts_created += len(rows) - len(existing)
            if not dry_run:
                written = repository.write_rows(
                    session,
                    creditor_id=creditor.id,
                    rows=rows,
                    known_debtors=names.keys(),
                    known_accounts=existing,
                    stamp=stamp,
                    present=headers.index.keys(),
                )
                debtors.update(written.debtor_ids)
                cases.update(written.case_ids)
                stale_cases.update(written.stale_case_ids)
            if progress is not None:
                progress(chunk.rows_read)

    if result.errors and not skip_invalid:
        savepoint.rollback()
        raise PortfolioRejected(result.errors)
    if dry_run:
        savepoint.rollback()
    else:
        repository.refresh_case_outstanding(session, case_ids=sorted(stale_cases))
        savepoint.commit()
        session.expire_all()  # rows were written through the driver, past the identity map
    if result.errors:
        result.rejects_path = rejects_path or path.with_name(path.stem + ".rejects.csv")
        if not dry_run:
            write_rejects(result.rejects_path, sheet.header, result.errors, rejected)
    result.debtors_touched = len(debtors)
    result.cases_touched = len(cases)
    return result
