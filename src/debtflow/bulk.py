"""Bulk reads and writes straight through the database driver, for the paths where
SQLAlchemy's per-row processing costs more than the database (intake, the nightly
strategy). Values are adapted exactly as the ORM types would store them."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

LOOKUP_CHUNK = 5000


def quote(name: str) -> str:
    return '"' + name + '"'


@lru_cache(maxsize=256)
def _sqlite_timestamp(value: datetime | None) -> str | None:
    """As SQLAlchemy stores an aware datetime in SQLite (UTC, no offset); a batch shares
    one timestamp, so the cache makes this free."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def converter(sample: Any, dialect: str) -> Callable[[Any], Any] | None:
    """How a column's Python values become what the driver stores, as the ORM types would
    store them; ``None`` when the driver takes the value as it is."""
    if isinstance(sample, Enum):
        return lambda v: None if v is None else v.value
    if isinstance(sample, list | dict):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False, sort_keys=True)
    if dialect == "sqlite" and isinstance(sample, datetime):
        return _sqlite_timestamp
    if dialect == "sqlite" and isinstance(sample, date):
        return lambda v: None if v is None else v.isoformat()
    return None


def driver_rows(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], dialect: str
) -> list[tuple[Any, ...]]:
    """The rows as driver parameter tuples in ``columns`` order; each column's conversion is
    chosen once from its first non-null value."""
    converters = []
    for c in columns:
        sample = next((row[c] for row in rows if row[c] is not None), None)
        converters.append(converter(sample, dialect))
    converted = [(i, f) for i, f in enumerate(converters) if f is not None]
    params = []
    for row in rows:
        values = [row[c] for c in columns]
        for i, convert in converted:
            values[i] = convert(values[i])
        params.append(tuple(values))
    return params


def update_by_id(session: Session, table: str, rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE ``table`` SET … WHERE id = … for many rows in one executemany; every row has
    ``id`` and the same other keys."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    mark = "?" if dialect == "sqlite" else "%s"
    columns = [c for c in rows[0] if c != "id"]
    assignments = ", ".join(f"{quote(c)} = {mark}" for c in columns)
    sql = f"UPDATE {quote(table)} SET {assignments} WHERE id = {mark}"
    params = [
        (*values, row["id"])
        for values, row in zip(driver_rows(rows, columns, dialect), rows, strict=True)
    ]
    session.connection().exec_driver_sql(sql, params)


def select_in(
    session: Session, sql: str, values: Sequence[Any], *, before: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """Run ``sql`` (holding ``{match}`` where ``column IN (…)`` belongs) for ``values`` in
    chunks, through the driver: ``= ANY(array)`` on PostgreSQL, ``IN (?, …)`` on SQLite."""
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = list(values[start : start + LOOKUP_CHUNK])
        if postgres:
            statement, params = sql.format(match="= ANY(%s)"), (*before, chunk)
        else:
            marks = ", ".join("?" * len(chunk))
            statement, params = sql.format(match=f"IN ({marks})"), (*before, *chunk)
        found.extend(tuple(r) for r in connection.exec_driver_sql(statement, params).fetchall())
    return found
