"""All SQL of the nightly strategy: what scoring, segmentation and treatment read, and the
results they write back to the case."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from debtflow.bulk import quote
from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.core.compliance.contact import ContactFlag
from debtflow.models import (
    Account,
    Case,
    ContactAttempt,
    ContactRestriction,
    Creditor,
    Debtor,
    DebtorDispute,
    Payment,
    PromiseToPay,
)
from debtflow.models.enums import PromiseStatus


@dataclass(frozen=True)
class OpenCases:
    """One chunk of open cases (ascending id) with what scoring, segmentation and treatment
    read of their debtor, as columns."""

    case_id: npt.NDArray[np.int64]
    creditor_id: npt.NDArray[np.int64]
    days_past_due: npt.NDArray[np.int64]
    overdue_cause: list[str]
    strategy_digest: list[str | None]
    birth_date: npt.NDArray[np.datetime64]
    """NaT where unknown."""
    is_business: npt.NDArray[np.bool_]
    has_employer: npt.NDArray[np.bool_]
    monthly_income_fen: npt.NDArray[np.int64]
    """0 where unknown, like the other money columns here."""
    other_debts_fen: npt.NDArray[np.int64]
    monthly_spending_fen: npt.NDArray[np.int64]
    monthly_revenue_fen: npt.NDArray[np.int64]


@dataclass(frozen=True)
class Mandate:
    max_relief_bp: int
    max_term_months: int
    min_first_payment_bp: int


def _mark(session: Session) -> str:
    return "?" if session.get_bind().dialect.name == "sqlite" else "%s"


def _fetch(session: Session, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Plain row tuples straight from the DB-API cursor (no SQLAlchemy row objects)."""
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def open_case_chunks(session: Session, *, size: int) -> Iterator[OpenCases]:
    """Open cases with their debtor's profile, in id order, at most ``size`` at a time, read
    through the driver (SQLAlchemy's per-row processing costs more than the query on a
    million cases).

    Each chunk is the open cases of a primary-key range ``size`` ids wide, starting at the
    next existing id (a ``min(id)`` the key index answers). A plain ``id > last ORDER BY id
    LIMIT size`` lets a planner without fresh statistics (a table just loaded) scan every open
    case and sort them, once per chunk."""
    mark = _mark(session)
    statuses = sorted(status.value for status in OPEN_STATUSES)
    next_id = f'SELECT min(id) FROM "case" WHERE id > {mark}'
    sql = (
        "SELECT c.id, c.creditor_id, c.days_past_due, c.overdue_cause, c.strategy_digest, "
        "d.birth_date, CASE WHEN d.debtor_type = 'business' THEN 1 ELSE 0 END, "
        "CASE WHEN d.employer IS NULL OR d.employer = '' THEN 0 ELSE 1 END, "
        "COALESCE(d.monthly_income_fen, 0), COALESCE(d.other_debts_fen, 0), "
        "COALESCE(d.monthly_spending_fen, 0), COALESCE(d.monthly_revenue_fen, 0) "
        'FROM "case" c JOIN debtor d ON d.id = c.debtor_id '
        f"WHERE c.id > {mark} AND c.id <= {mark} "
        f"AND c.status IN ({', '.join([mark] * len(statuses))}) ORDER BY c.id"
    )
    last_id = 0
    while True:
        start = _fetch(session, next_id, (last_id,))[0][0]
        if start is None:
            return
        end = int(start) - 1 + size
        rows = _fetch(session, sql, (int(start) - 1, end, *statuses))
        last_id = end
        if not rows:
            continue
        columns = list(zip(*rows, strict=True))
        ints = {i: np.array(columns[i], dtype=np.int64) for i in (0, 1, 2, 6, 7, 8, 9, 10, 11)}
        yield OpenCases(
            case_id=ints[0],
            creditor_id=ints[1],
            days_past_due=ints[2],
            overdue_cause=list(columns[3]),
            strategy_digest=list(columns[4]),
            # SQLite gives ISO text, PostgreSQL dates; None becomes NaT
            birth_date=np.array(columns[5], dtype="datetime64[D]"),
            is_business=ints[6].astype(bool),
            has_employer=ints[7].astype(bool),
            monthly_income_fen=ints[8],
            other_debts_fen=ints[9],
            monthly_spending_fen=ints[10],
            monthly_revenue_fen=ints[11],
        )


def creditor_mandates(session: Session) -> dict[int, Mandate]:
    """Every creditor's mandate for plan offers, by creditor id."""
    stmt = select(
        Creditor.id,
        Creditor.max_relief_bp,
        Creditor.max_term_months,
        Creditor.min_first_payment_bp,
    )
    return {
        creditor_id: Mandate(int(relief), int(term), int(first))
        for creditor_id, relief, term, first in session.execute(stmt).all()
    }


@dataclass(frozen=True)
class CaseAccounts:
    """The accounts of a range of cases, as columns (one entry per account)."""

    case_id: npt.NDArray[np.int64]
    principal_fen: npt.NDArray[np.int64]
    interest_fen: npt.NDArray[np.int64]
    fees_fen: npt.NDArray[np.int64]
    penalty_fen: npt.NDArray[np.int64]
    instalment_fen: npt.NDArray[np.int64]
    credit_limit_fen: npt.NDArray[np.int64]
    """0 where the account has none."""
    original_fen: npt.NDArray[np.int64]
    history: list[str | None]
    """Repayment history as stored JSON text, for the caller to decode in bulk."""


def accounts_between(session: Session, *, first: int, last: int) -> CaseAccounts:
    """The accounts of cases ``first``..``last`` (open or not; the caller picks), read through
    the driver with the history left as JSON text."""
    mark = _mark(session)
    history = "repayment_history" + (
        "::text" if session.get_bind().dialect.name == "postgresql" else ""
    )
    sql = (
        "SELECT case_id, principal_fen, interest_fen, fees_fen, penalty_fen, instalment_fen, "
        f"COALESCE(credit_limit_fen, 0), original_fen, {history} FROM account "
        f"WHERE case_id BETWEEN {mark} AND {mark}"
    )
    rows = _fetch(session, sql, (first, last))
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return CaseAccounts(*([empty] * 8), history=[])  # type: ignore[arg-type]
    columns = list(zip(*rows, strict=True))
    numbers = [np.array(column, dtype=np.int64) for column in columns[:8]]
    return CaseAccounts(*numbers, history=list(columns[8]))  # type: ignore[arg-type]


def broken_promises_between(session: Session, *, first: int, last: int) -> dict[int, int]:
    stmt = (
        select(PromiseToPay.case_id, func.count())
        .where(
            PromiseToPay.case_id.between(first, last),
            PromiseToPay.status == PromiseStatus.BROKEN,
        )
        .group_by(PromiseToPay.case_id)
    )
    return {case_id: int(n) for case_id, n in session.execute(stmt).all()}


def failed_contact_streaks_between(session: Session, *, first: int, last: int) -> dict[int, int]:
    """Per case: attempts that reached nobody since the last connected one."""
    last_connected = (
        select(
            ContactAttempt.case_id.label("case_id"),
            func.max(ContactAttempt.attempted_at).label("at"),
        )
        .where(ContactAttempt.case_id.between(first, last), ContactAttempt.connected.is_(True))
        .group_by(ContactAttempt.case_id)
        .subquery()
    )
    stmt = (
        select(ContactAttempt.case_id, func.count())
        .outerjoin(last_connected, last_connected.c.case_id == ContactAttempt.case_id)
        .where(
            ContactAttempt.case_id.between(first, last),
            ContactAttempt.connected.is_(False),
            (last_connected.c.at.is_(None)) | (ContactAttempt.attempted_at > last_connected.c.at),
        )
        .group_by(ContactAttempt.case_id)
    )
    return {case_id: int(n) for case_id, n in session.execute(stmt).all()}


RESULT_COLUMNS = (
    "propensity",
    "propensity_model",
    "segment",
    "segment_rule",
    "segment_reasons",
    "treatment",
    "strategy_rules",
    "strategy_digest",
    "experiment_key",
    "experiment_variant",
)
"""What :func:`save_strategy` writes, after the case id; ``segment_reasons`` and
``treatment`` as JSON text; the experiment columns None outside an experiment."""


def save_strategy(
    session: Session, results: Sequence[tuple[Any, ...]], *, strategy_on: date
) -> None:
    """Write strategy results ``(case id, *RESULT_COLUMNS)`` and the date they were made.

    PostgreSQL: COPY into a temporary table and one ``UPDATE … FROM`` it; SQLite: one
    executemany of an UPDATE by primary key (an in-process database gains nothing from a
    staging table)."""
    if not results:
        return
    connection = session.connection()
    assignments = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in RESULT_COLUMNS)
    if connection.dialect.name != "postgresql":
        marks = ", ".join(f"{quote(c)} = ?" for c in (*RESULT_COLUMNS, "strategy_on"))
        day = strategy_on.isoformat()
        connection.exec_driver_sql(
            f'UPDATE "case" SET {marks} WHERE id = ?',
            [(*row[1:], day, row[0]) for row in results],
        )
        return
    names = ", ".join(quote(c) for c in ("id", *RESULT_COLUMNS))
    raw = connection.connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS strategy_result "
            f'ON COMMIT DROP AS SELECT {names} FROM "case" WITH NO DATA'
        )
        cursor.execute("TRUNCATE strategy_result")
        with cursor.copy(f"COPY strategy_result ({names}) FROM STDIN") as copy:
            for row in results:
                copy.write_row(row)
        cursor.execute("ANALYZE strategy_result")
        # the id range keeps the planner on the primary key instead of a scan of every case
        cursor.execute(
            f'UPDATE "case" c SET {assignments}, strategy_on = %s '
            "FROM strategy_result s WHERE c.id = s.id AND c.id BETWEEN %s AND %s",
            (strategy_on, min(row[0] for row in results), max(row[0] for row in results)),
        )


def case_inputs(session: Session, *, case_id: int) -> Any:
    stmt = (
        select(Case, Debtor, Creditor)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .where(Case.id == case_id)
    )
    return session.execute(stmt).one_or_none()


# ---- champion / challenger report -------------------------------------------------------


def experiment_cases(session: Session, *, key: str) -> list[tuple[int, str]]:
    """(case, variant) of every case, open or closed, the nightly run put in experiment
    ``key``."""
    stmt = (
        select(Case.id, Case.experiment_variant)
        .where(Case.experiment_key == key, Case.experiment_variant.is_not(None))
        .order_by(Case.id)
    )
    return [(int(case_id), str(variant)) for case_id, variant in session.execute(stmt)]


def experiment_balances(session: Session, *, key: str) -> dict[int, int]:
    """What the accounts of each case of experiment ``key`` owe now (all components)."""
    stmt = (
        select(
            Account.case_id,
            func.sum(
                Account.principal_fen
                + Account.interest_fen
                + Account.fees_fen
                + Account.penalty_fen
            ),
        )
        .join(Case, Case.id == Account.case_id)
        .where(Case.experiment_key == key)
        .group_by(Account.case_id)
    )
    return {int(case_id): int(fen or 0) for case_id, fen in session.execute(stmt)}


def experiment_recovered(
    session: Session, *, key: str, since: datetime, until: datetime | None
) -> dict[int, int]:
    """Per case of experiment ``key``: fen applied to its debts by the payments received in
    [since, until) (``until`` None: to now); an overpayment is money to refund, not
    recovery."""
    stmt = (
        select(Payment.case_id, func.sum(Payment.amount_fen - Payment.overpaid_fen))
        .join(Case, Case.id == Payment.case_id)
        .where(Case.experiment_key == key, Payment.paid_at >= since)
        .group_by(Payment.case_id)
    )
    if until is not None:
        stmt = stmt.where(Payment.paid_at < until)
    return {int(case_id): int(fen or 0) for case_id, fen in session.execute(stmt)}


def experiment_promises(
    session: Session, *, key: str, first_day: date, last_day: date
) -> dict[int, tuple[int, int]]:
    """Per case of experiment ``key``: (made, kept) of its promises due on days
    first_day..last_day and resolved (kept or broken); one still in its grace days or
    cancelled is not counted."""
    kept = func.sum(case((PromiseToPay.status == PromiseStatus.KEPT, 1), else_=0))
    stmt = (
        select(PromiseToPay.case_id, func.count(), kept)
        .join(Case, Case.id == PromiseToPay.case_id)
        .where(
            Case.experiment_key == key,
            PromiseToPay.due >= first_day,
            PromiseToPay.due <= last_day,
            PromiseToPay.status.in_([PromiseStatus.KEPT, PromiseStatus.BROKEN]),
        )
        .group_by(PromiseToPay.case_id)
    )
    return {int(c): (int(made), int(k or 0)) for c, made, k in session.execute(stmt)}


def experiment_complaints(
    session: Session, *, key: str, since: datetime, until: datetime
) -> dict[int, int]:
    """Per case of experiment ``key``: complaints made in [since, until) — disputes the
    debtor opened in the portal, and ``dispute`` contact restrictions set otherwise (by an
    agent or a compliance officer; those of portal disputes are counted once, as the
    dispute). A restriction on the debtor (no case) counts for each of their cases."""
    counts: Counter[int] = Counter()
    portal = (
        select(DebtorDispute.case_id, func.count())
        .join(Case, Case.id == DebtorDispute.case_id)
        .where(
            Case.experiment_key == key,
            DebtorDispute.created_at >= since,
            DebtorDispute.created_at < until,
        )
        .group_by(DebtorDispute.case_id)
    )
    for case_id, n in session.execute(portal):
        counts[int(case_id)] += int(n)
    of_portal = select(DebtorDispute.restriction_id)
    flagged = (
        select(Case.id, func.count())
        .join(
            ContactRestriction,
            (ContactRestriction.case_id == Case.id)
            | (
                ContactRestriction.case_id.is_(None)
                & (ContactRestriction.debtor_id == Case.debtor_id)
            ),
        )
        .where(
            Case.experiment_key == key,
            ContactRestriction.flag == ContactFlag.DISPUTE.value,
            ContactRestriction.starts_at >= since,
            ContactRestriction.starts_at < until,
            ContactRestriction.id.not_in(of_portal),
        )
        .group_by(Case.id)
    )
    for case_id, n in session.execute(flagged):
        counts[int(case_id)] += int(n)
    return dict(counts)
