"""Count what a piece of code sends to the database: the SQL of every cursor execution."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The statements run on ``engine`` inside the block, in order (SQLite's explicit
    ``BEGIN`` left out)."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if statement.strip().upper() != "BEGIN":  # SQLite's explicit transaction start
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)
