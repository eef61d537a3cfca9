"""All SQL of portfolio intake: bulk upserts keyed by the natural keys of each table."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from debtflow.bulk import driver_rows, quote, select_in
from debtflow.config import personal_data_cipher
from debtflow.db import utcnow
from debtflow.models import Creditor
from debtflow.models.enums import CaseStatus, Channel


def creditor_by_code(session: Session, *, code: str) -> Creditor | None:
    return session.scalars(select(Creditor).where(Creditor.code == code)).one_or_none()


def _bulk_upsert(
    session: Session,
    table: str,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    set_sql: dict[str, str],
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET … straight through the driver: sqlite3's
    executemany, or on PostgreSQL a COPY into a staging table and one INSERT … SELECT.

    Intake writes hundreds of thousands of rows; SQLAlchemy's per-value processing and a
    statement per row cost more than the database itself. Values are adapted exactly as the
    ORM types store them. ``rows`` must share one set of columns and be unique on ``keys``.
    """
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    mark = "?" if dialect == "sqlite" else "%s"
    columns = list(rows[0])
    quoted = ", ".join(quote(c) for c in columns)
    conflict = ", ".join(quote(k) for k in keys)
    assignments = ", ".join(f"{quote(c)} = {expr}" for c, expr in set_sql.items())
    sql = (
        f"INSERT INTO {quote(table)} ({quoted}) VALUES ({', '.join([mark] * len(columns))}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
    )
    params = driver_rows(rows, columns, dialect)
    if dialect == "postgresql":
        _copy_upsert(session, table, columns, params, conflict=conflict, assignments=assignments)
    else:
        session.connection().exec_driver_sql(sql, params)


def _copy_upsert(
    session: Session,
    table: str,
    columns: Sequence[str],
    params: Sequence[tuple[Any, ...]],
    *,
    conflict: str,
    assignments: str,
) -> None:
    """PostgreSQL: COPY the rows into a temporary twin of the table, then one
    INSERT … SELECT … ON CONFLICT — one statement instead of one per row."""
    quoted = ", ".join(quote(c) for c in columns)
    # the staging table has the listed columns' types and nothing else: no defaults (which
    # would draw ids from the real sequence) and no constraints
    shape = hashlib.blake2b(quoted.encode(), digest_size=4).hexdigest()
    staging = quote(f"staging_{table}_{shape}")
    connection = session.connection()
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "
        f"SELECT {quoted} FROM {quote(table)} WITH NO DATA"
    )
    connection.exec_driver_sql(f"TRUNCATE {staging}")
    raw = connection.connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {staging} ({quoted}) FROM STDIN") as copy:
        for values in params:
            copy.write_row(values)
    connection.exec_driver_sql(
        f"INSERT INTO {quote(table)} ({quoted}) SELECT {quoted} FROM {staging} "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}"
    )


def _excluded(columns: Sequence[str]) -> dict[str, str]:
    return {c: "excluded." + quote(c) for c in columns}


def upsert_debtors(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Create or update debtors by ID number (plain in ``rows``; stored encrypted and found
    by its blind index); returns {id_number: debtor id}."""
    now = utcnow()
    cipher = personal_data_cipher()
    index_of = {r["id_number"]: cipher.blind_index(r["id_number"]) for r in rows}
    stamped = [
        {
            **r,
            "id_number": cipher.encrypt(r["id_number"]),
            "id_number_index": index_of[r["id_number"]],
            "created_at": now,
            "updated_at": now,
        }
        for r in rows
    ]
    fixed = ("id_number", "id_number_index", "created_at")
    updatable = [c for c in stamped[0] if c not in fixed] if rows else []
    _bulk_upsert(
        session,
        "debtor",
        [_renamed(r, "id_number", "id_number_encrypted") for r in stamped],
        keys=["id_number_index"],
        set_sql=_excluded(updatable),
    )
    found = dict(
        select_in(
            session,
            "SELECT id_number_index, id FROM debtor WHERE id_number_index {match}",
            list(set(index_of.values())),
        )
    )
    return {id_number: found[index] for id_number, index in index_of.items()}


def _renamed(row: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    return {(new if key == old else key): value for key, value in row.items()}


def upsert_addresses(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    _bulk_upsert(
        session,
        "address",
        rows,
        keys=["debtor_id", "kind"],
        set_sql=_excluded(["province", "city", "line", "latitude", "longitude"]),
    )


def upsert_contact_points(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Create or update contact points by (debtor, kind, blind index of the value); the value
    (plain in ``rows``) is stored encrypted. Values written differently but equal once
    normalised are one contact point (the last row wins)."""
    cipher = personal_data_cipher()
    unique: dict[tuple[int, str, str], dict[str, Any]] = {}
    for r in rows:
        index = cipher.blind_index(r["value"])
        unique[(r["debtor_id"], r["kind"], index)] = {
            **_renamed(r, "value", "value_encrypted"),
            "value_encrypted": cipher.encrypt(r["value"]),
            "value_index": index,
            "valid": True,
        }
    _bulk_upsert(
        session,
        "contact_point",
        list(unique.values()),
        keys=["debtor_id", "kind", "value_index"],
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
    mark = "%s" if session.get_bind().dialect.name == "postgresql" else "?"
    found = select_in(
        session,
        f'SELECT debtor_id, id FROM "case" WHERE creditor_id = {mark} AND debtor_id {{match}}',
        list(causes),
        before=(creditor_id,),
    )
    return dict(found)


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


def names_on_file(session: Session, *, id_numbers: Sequence[str]) -> dict[str, str]:
    """{ID number: stored name} for the debtors already known (found by blind index)."""
    cipher = personal_data_cipher()
    index_of = {id_number: cipher.blind_index(id_number) for id_number in id_numbers}
    rows = select_in(
        session,
        "SELECT id_number_index, name FROM debtor WHERE id_number_index {match}",
        list(set(index_of.values())),
    )
    name_of = dict(rows)
    return {i: name_of[index] for i, index in index_of.items() if index in name_of}


def accounts_on_file(
    session: Session, *, creditor_id: int, account_numbers: Sequence[str]
) -> dict[str, str]:
    """{account number: owning debtor's ID number} for this creditor's known accounts."""
    mark = "%s" if session.get_bind().dialect.name == "postgresql" else "?"
    rows = select_in(
        session,
        "SELECT a.account_number, d.id_number_encrypted FROM account a "
        "JOIN debtor d ON d.id = a.debtor_id "
        f"WHERE a.creditor_id = {mark} AND a.account_number {{match}}",
        account_numbers,
        before=(creditor_id,),
    )
    cipher = personal_data_cipher()
    return {number: cipher.decrypt(owner) for number, owner in rows}


def refresh_case_outstanding(session: Session, *, case_ids: Sequence[int]) -> None:
    """Case balance = sum of its accounts' outstanding components."""
    select_in(
        session,
        'UPDATE "case" SET outstanding_fen = totals.total FROM ('
        "SELECT case_id, SUM(principal_fen + interest_fen + fees_fen + penalty_fen) AS total "
        "FROM account WHERE case_id {match} GROUP BY case_id) AS totals "
        'WHERE "case".id = totals.case_id RETURNING "case".id',
        case_ids,
    )
