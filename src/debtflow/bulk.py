"""Bulk reads and writes straight through the database driver, for the paths where
SQLAlchemy's per-row processing costs more than the database (intake, the nightly
strategy). Values are adapted exactly as the ORM types would store them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


def insert_rows(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT rows that are new (no key of them is in the table yet): sqlite3's executemany,
    or on PostgreSQL a COPY straight into the table. Values are in the driver's form."""
    if not rows:
        return
    connection = session.connection()
    quoted = ", ".join(quote(c) for c in columns)
    if connection.dialect.name != "postgresql":
        marks = ", ".join("?" * len(columns))
        connection.exec_driver_sql(f"INSERT INTO {quote(table)} ({quoted}) VALUES ({marks})", rows)
        return
    raw = connection.connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {quote(table)} ({quoted}) FROM STDIN") as copy:
        for values in rows:
            copy.write_row(values)


def upsert_rows(
    session: Session,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    keys: Sequence[str],
    set_sql: dict[str, str],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET … for rows in the driver's form, unique on
    ``keys``: sqlite3's executemany, or on PostgreSQL a COPY into a temporary twin of the
    table and one INSERT … SELECT. ``returning`` columns come back for every row inserted or
    updated on PostgreSQL; on SQLite (no RETURNING with executemany) nothing comes back."""
    if not rows:
        return []
    connection = session.connection()
    quoted = ", ".join(quote(c) for c in columns)
    conflict = ", ".join(quote(k) for k in keys)
    assignments = ", ".join(f"{quote(c)} = {expr}" for c, expr in set_sql.items())
    if connection.dialect.name != "postgresql":
        marks = ", ".join("?" * len(columns))
        connection.exec_driver_sql(
            f"INSERT INTO {quote(table)} ({quoted}) VALUES ({marks}) "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}",
            rows,
        )
        return []
    # the staging table has the listed columns' types and nothing else: no defaults (which
    # would draw ids from the real sequence) and no constraints
    shape = hashlib.blake2b(quoted.encode(), digest_size=4).hexdigest()
    staging = quote(f"staging_{table}_{shape}")
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS "
        f"SELECT {quoted} FROM {quote(table)} WITH NO DATA"
    )
    connection.exec_driver_sql(f"TRUNCATE {staging}")
    raw = connection.connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {staging} ({quoted}) FROM STDIN") as copy:
        for values in rows:
            copy.write_row(values)
    back = f" RETURNING {', '.join(quote(c) for c in returning)}" if returning else ""
    result = connection.exec_driver_sql(
        f"INSERT INTO {quote(table)} ({quoted}) SELECT {quoted} FROM {staging} "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {assignments}{back}"
    )
    return [tuple(r) for r in result.fetchall()] if returning else []


def reserve_ids(session: Session, table: str, count: int) -> list[int]:
    """``count`` ids for new rows of ``table``, to be written with explicit ids in this
    transaction: on PostgreSQL drawn from the table's id sequence in one round trip; on
    SQLite the ids after the largest, as SQLite itself would assign them (SQLite has one
    writer at a time: another connection that wrote in between makes this transaction's
    first write fail, never reuse an id)."""
    if count <= 0:
        return []
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        largest = connection.exec_driver_sql(f"SELECT max(id) FROM {quote(table)}").scalar()
        first = int(largest or 0) + 1
        return list(range(first, first + count))
    result = connection.exec_driver_sql(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (quote(table), count),
    )
    return [r[0] for r in result.fetchall()]


@contextmanager
def large_page_cache(session: Session, *, mebibytes: int = 128) -> Iterator[None]:
    """SQLite: a larger page cache on this session's connection while a bulk write runs
    (the unique indexes of a large import do not fit the default 2 MiB, and every miss is
    a read back from the file), then the connection's own setting again. Elsewhere: nothing."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size = -{mebibytes * 1024}")
    try:
        yield
    finally:
        # a connection invalidated meanwhile (the write interrupted: Ctrl-C) is closed, not
        # reused, and refuses statements until rolled back: it has no setting to restore
        if not connection.invalidated:
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")
