"""All SQL of portfolio intake: bulk upserts keyed by the natural keys of each table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from debtflow.models import Account, Address, Case, ContactPoint, Creditor, Debtor


def creditor_by_code(session: Session, *, code: str) -> Creditor | None:
    return session.scalars(select(Creditor).where(Creditor.code == code)).one_or_none()


def _upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update_columns: Sequence[str],
    returning: Sequence[str] = (),
) -> list[Any]:
    """INSERT … ON CONFLICT (keys) DO UPDATE on SQLite and PostgreSQL alike.

    ``rows`` must be unique on ``keys`` (PostgreSQL refuses to touch one row twice).
    """
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = builder(table)
    set_ = {c: stmt.excluded[c] for c in update_columns} or {keys[0]: stmt.excluded[keys[0]]}
    stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=set_)
    if returning:
        stmt = stmt.returning(*(table.c[c] for c in returning), sort_by_parameter_order=True)
        return list(session.execute(stmt, list(rows)).all())
    session.execute(stmt, list(rows))
    return []


def upsert_debtors(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    columns = [c for c in rows[0] if c != "id_number"] if rows else []
    result = _upsert(
        session,
        Debtor.__table__,  # type: ignore[arg-type]
        rows,
        keys=["id_number"],
        update_columns=columns,
        returning=["id"],
    )
    return [r[0] for r in result]


def upsert_addresses(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    _upsert(
        session,
        Address.__table__,  # type: ignore[arg-type]
        rows,
        keys=["debtor_id", "kind"],
        update_columns=["province", "city", "line", "latitude", "longitude"],
    )


def upsert_contact_points(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    _upsert(
        session,
        ContactPoint.__table__,  # type: ignore[arg-type]
        rows,
        keys=["debtor_id", "kind", "value"],
        update_columns=["party", "contact_name", "relation", "authorised"],
    )


def upsert_cases(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """One case per (creditor, debtor). An existing case keeps its status and history; its
    overdue cause changes only when the file states one (never back to ``unknown``)."""
    if not rows:
        return []
    table = Case.__table__
    dialect = session.get_bind().dialect.name
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = builder(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["creditor_id", "debtor_id"],
        set_={
            "overdue_cause": case(
                (stmt.excluded.overdue_cause == "unknown", table.c.overdue_cause),
                else_=stmt.excluded.overdue_cause,
            )
        },
    ).returning(table.c.id, sort_by_parameter_order=True)
    return [r[0] for r in session.execute(stmt, list(rows)).all()]


def upsert_accounts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    columns = [c for c in rows[0] if c not in ("creditor_id", "account_number")] if rows else []
    _upsert(
        session,
        Account.__table__,  # type: ignore[arg-type]
        rows,
        keys=["creditor_id", "account_number"],
        update_columns=columns,
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
