"""The SQL of personal-data key rotation: every column holding personal data encrypted at
rest, read and rewritten as stored tokens (never decrypted or encrypted by the database layer);
``compliance.keys`` re-encrypts them under a new key."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, String, Table, bindparam, func, select, type_coerce, update
from sqlalchemy.orm import Session

from debtflow.db import Base

#: Every column holding personal data encrypted at rest (``EncryptedPersonalData``).
ENCRYPTED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("debtor", "id_number_encrypted"),
    ("contact_point", "value_encrypted"),
    ("app_user", "phone_encrypted"),
)


def _encrypted_column(table: str, column: str) -> tuple[Table, ColumnElement[str]]:
    if (table, column) not in ENCRYPTED_COLUMNS:
        raise ValueError(f"{table}.{column} is not an encrypted personal-data column")
    rows = Base.metadata.tables[table]
    # the stored token as text: no decryption on the way out, no encryption on the way in
    return rows, type_coerce(rows.c[column], String)


def count_encrypted_values(session: Session, *, table: str, column: str) -> int:
    rows, token = _encrypted_column(table, column)
    return int(session.scalar(select(func.count()).select_from(rows).where(token.is_not(None))))


def encrypted_values(
    session: Session, *, table: str, column: str, after_id: int, limit: int
) -> list[tuple[int, str]]:
    """(row id, stored token) of the next ``limit`` rows after ``after_id``, by id."""
    rows, token = _encrypted_column(table, column)
    stmt = (
        select(rows.c.id, token)
        .where(rows.c.id > after_id, token.is_not(None))
        .order_by(rows.c.id)
        .limit(limit)
    )
    return [(int(row_id), str(value)) for row_id, value in session.execute(stmt)]


def store_encrypted_values(
    session: Session, *, table: str, column: str, tokens: Sequence[tuple[int, str]]
) -> None:
    """Replace stored tokens (row id, new token) in one executemany."""
    if not tokens:
        return
    rows, _token = _encrypted_column(table, column)
    stmt = (
        update(rows)
        .where(rows.c.id == bindparam("row_id"))
        .values({column: bindparam("new_token", type_=String)})
    )
    session.connection().execute(
        stmt, [{"row_id": row_id, "new_token": token} for row_id, token in tokens]
    )
