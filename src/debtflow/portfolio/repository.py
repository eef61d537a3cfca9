"""All SQL of portfolio intake: bulk upserts keyed by the natural keys of each table."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from debtflow.db import utcnow
from debtflow.models import Account, Case, Creditor, Debtor
from debtflow.models.enums import CaseStatus, Channel


def creditor_by_code(session: Session, *, code: str) -> Creditor | None:
    return session.scalars(select(Creditor).where(Creditor.code == code)).one_or_none()


def _converter(sample: Any, dialect: str) -> Callable[[Any], Any] | None:
    """How a column's Python values become what the driver stores, as the ORM types would
    store them; ``None`` when the driver takes the value as it is."""
    if isinstance(sample, Enum):
        return lambda v: None if v is None else v.value
    if isinstance(sample, list | dict):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    if dialect == "sqlite" and isinstance(sample, datetime):
        return lambda v: None if v is None else v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if dialect == "sqlite" and isinstance(sample, date):
        return lambda v: None if v is None else v.isoformat()
    return None


def _bulk_upsert(
    session: Session,
    table: str,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    set_sql: dict[str, str],
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET … through the driver's executemany.

    Intake writes hundreds of thousands of rows; going straight to the driver (sqlite3 or
    psycopg pipeline) skips SQLAlchemy's per-value processing, which costs more than the
    database itself. Values are adapted exactly as the ORM types store them. ``rows`` must
    share one set of columns and be unique on ``keys``.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    mark = "?" if dialect == "sqlite" else "%s"
    columns = list(rows[0])
    quoted = ", ".join(_quote(c) for c in columns)
    conflict = ", ".join(_quote(k) for k in keys)
    assignments = ", ".join(f"{_quote(c)} = {expr}" for c, expr in set_sql.items())
    sql = (
        f"INSERT INTO {_quote(table)} ({quoted}) VALUES ({', '.join([mark] * len(columns))}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
    )
    converters: list[Callable[[Any], Any] | None] = []
    for c in columns:
        sample = next((row[c] for row in rows if row[c] is not None), None)
        converters.append(_converter(sample, dialect))
    converted = [(i, f) for i, f in enumerate(converters) if f is not None]
    params = []
    for row in rows:
        values = [row[c] for c in columns]
        for i, convert in converted:
            values[i] = convert(values[i])
        params.append(tuple(values))
    session.connection().exec_driver_sql(sql, params)


def _quote(name: str) -> str:
    return '"' + name + '"'


def _excluded(columns: Sequence[str]) -> dict[str, str]:
    return {c: "excluded." + _quote(c) for c in columns}


def upsert_debtors(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Create or update debtors by ID number; returns {id_number: debtor id}."""
    now = utcnow()
    stamped = [{**r, "created_at": now, "updated_at": now} for r in rows]
    updatable = [c for c in stamped[0] if c not in ("id_number", "created_at")] if rows else []
    _bulk_upsert(session, "debtor", stamped, keys=["id_number"], set_sql=_excluded(updatable))
    ids = [r["id_number"] for r in rows]
    return dict(
        session.execute(select(Debtor.id_number, Debtor.id).where(Debtor.id_number.in_(ids)))
        .tuples()
        .all()
    )


def upsert_addresses(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    _bulk_upsert(
        session,
        "address",
        rows,
        keys=["debtor_id", "kind"],
        set_sql=_excluded(["province", "city", "line", "latitude", "longitude"]),
    )


def upsert_contact_points(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    stamped = [{**r, "valid": True} for r in rows]
    _bulk_upsert(
        session,
        "contact_point",
        stamped,
        keys=["debtor_id", "kind", "value"],
        set_sql=_excluded(["party", "contact_name", "relation", "authorised"]),
    )


def upsert_cases(session: Session, *, creditor_id: int, causes: dict[int, str]) -> dict[int, int]:
    """One case per (creditor, debtor); returns {debtor id: case id}. An existing case keeps
    its status and history; its overdue cause changes only when the file states one (never
    back to ``unknown``)."""
    now = utcnow()
    rows = [
        {
            "creditor_id": creditor_id,
            "debtor_id": debtor_id,
            "status": CaseStatus.NEW.value,
            "bucket": "M0",
            "days_past_due": 0,
            "outstanding_fen": 0,
            "channel": Channel.ONLINE.value,
            "overdue_cause": cause,
            "opened_at": now,
            "updated_at": now,
        }
        for debtor_id, cause in causes.items()
    ]
    _bulk_upsert(
        session,
        "case",
        rows,
        keys=["creditor_id", "debtor_id"],
        set_sql={
            "overdue_cause": "CASE WHEN excluded.overdue_cause = 'unknown' "
            'THEN "case".overdue_cause ELSE excluded.overdue_cause END'
        },
    )
    stmt = select(Case.debtor_id, Case.id).where(
        Case.creditor_id == creditor_id, Case.debtor_id.in_(list(causes))
    )
    return dict(session.execute(stmt).tuples().all())


def upsert_accounts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Create or update accounts by (creditor, account number). Ageing state (days past
    due, bucket) is left to the nightly cycle."""
    now = utcnow()
    fresh = {
        "days_past_due": 0,
        "bucket": "M0",
        "overdue_fen": 0,
        "imported_at": now,
        "updated_at": now,
    }
    stamped = [{**r, **fresh} for r in rows]
    updatable = [
        c
        for c in (stamped[0] if rows else {})
        if c not in ("creditor_id", "account_number", *fresh)
    ]
    _bulk_upsert(
        session,
        "account",
        stamped,
        keys=["creditor_id", "account_number"],
        set_sql=_excluded([*updatable, "updated_at"]),
    )


def existing_account_numbers(
    session: Session, *, creditor_id: int, account_numbers: Sequence[str]
) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(account_numbers), 5000):
        chunk = account_numbers[start : start + 5000]
        found.update(
            session.scalars(
                select(Account.account_number).where(
                    Account.creditor_id == creditor_id, Account.account_number.in_(chunk)
                )
            )
        )
    return found


def debtors_with_other_names(
    session: Session, *, names_by_id_number: dict[str, str]
) -> list[tuple[str, str]]:
    """(id_number, stored name) where the database knows the ID under another name."""
    out: list[tuple[str, str]] = []
    keys = list(names_by_id_number)
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        for id_number, name in session.execute(
            select(Debtor.id_number, Debtor.name).where(Debtor.id_number.in_(chunk))
        ):
            if names_by_id_number[id_number] != name:
                out.append((id_number, name))
    return out


def accounts_owned_by_other_debtors(
    session: Session, *, creditor_id: int, owner_by_account: dict[str, str]
) -> list[tuple[str, str]]:
    """(account_number, stored debtor ID number) where a re-import would move an account."""
    out: list[tuple[str, str]] = []
    keys = list(owner_by_account)
    for start in range(0, len(keys), 5000):
        chunk = keys[start : start + 5000]
        stmt = (
            select(Account.account_number, Debtor.id_number)
            .join(Debtor, Debtor.id == Account.debtor_id)
            .where(Account.creditor_id == creditor_id, Account.account_number.in_(chunk))
        )
        for number, id_number in session.execute(stmt):
            if owner_by_account[number] != id_number:
                out.append((number, id_number))
    return out


def refresh_case_outstanding(session: Session, *, case_ids: Sequence[int]) -> None:
    """Case balance = sum of its accounts' outstanding components."""
    total = (
        select(
            func.coalesce(
                func.sum(
                    Account.principal_fen
                    + Account.interest_fen
                    + Account.fees_fen
                    + Account.penalty_fen
                ),
                0,
            )
        )
        .where(Account.case_id == Case.id)
        .scalar_subquery()
    )
    for start in range(0, len(case_ids), 5000):
        chunk = list(case_ids[start : start + 5000])
        session.execute(
            update(Case).where(Case.id.in_(chunk)).values(outstanding_fen=total),
            execution_options={"synchronize_session": False},
        )
