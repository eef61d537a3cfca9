"""The PostgreSQL engine's cursor (``debtflow.db.LazilyDescribedCursor``): ``description``
reads like psycopg's own — names, type codes, slices, ``None`` without rows, the result it
was taken from even after the cursor ran another statement — but no ``Column`` is built
for a statement SQLAlchemy has compiled and run before."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.orm import Session

from debtflow.db import LazilyDescribedCursor
from debtflow.models import Creditor


@pytest.fixture
def pg_engine(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("psycopg's cursor: PostgreSQL only")
    return engine


@pytest.fixture
def cursors(pg_engine: Engine) -> Iterator[tuple[psycopg.Cursor, psycopg.Cursor]]:
    with pg_engine.connect() as connection:
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        ours = dbapi.cursor()
        plain = psycopg.Cursor(dbapi)
        yield ours, plain


def _described(description) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [tuple(column) for column in description]


def test_the_engine_uses_it_and_describes_like_psycopg(cursors):
    ours, plain = cursors
    assert isinstance(ours, LazilyDescribedCursor)
    query = "SELECT 1 AS amount_fen, 'x'::varchar(8) AS label, now() AS at, NULL::date AS due"
    ours.execute(query)
    plain.execute(query)
    assert len(ours.description) == 4
    assert _described(ours.description) == _described(plain.description)
    assert [c.name for c in ours.description[1:3]] == ["label", "at"]
    assert ours.description[-1].type_code == plain.description[-1].type_code
    assert ours.fetchall() == plain.fetchall()


def test_no_rows_no_description_and_an_empty_select_has_one(cursors):
    ours, plain = cursors
    ours.execute("SET LOCAL statement_timeout = 5000")
    assert ours.description is None
    ours.execute("SELECT")
    plain.execute("SELECT")
    assert ours.description is not None and len(ours.description) == 0
    assert _described(ours.description) == _described(plain.description) == []


def test_a_description_kept_describes_its_own_result(cursors):
    ours, _plain = cursors
    ours.execute("SELECT 1 AS first_column, 2.5::numeric AS second_column")
    kept = ours.description
    ours.execute("SELECT 'other' AS other_column")
    assert [c.name for c in kept] == ["first_column", "second_column"]
    assert [c.name for c in ours.description] == ["other_column"]


def test_sqlalchemy_builds_no_column_for_a_statement_run_before(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    built: list[int] = []
    real_init = psycopg.Column.__init__

    def counting(self, cursor, index):  # type: ignore[no-untyped-def]
        built.append(index)
        real_init(self, cursor, index)

    monkeypatch.setattr(psycopg.Column, "__init__", counting)
    by_id = select(Creditor).where(Creditor.id == bindparam("creditor_id"))
    with Session(pg_engine) as session:
        session.scalars(by_id, {"creditor_id": 1}).all()  # compiled and described once
        first = len(built)
        for creditor_id in range(2, 12):
            session.scalars(by_id, {"creditor_id": creditor_id}).all()
        assert len(built) == first  # the cached statement's columns were never built again
        # a textual query is matched by name: its columns are read, and read right
        row = session.execute(text("SELECT 7 AS seven, 'b' AS bee")).one()
        assert row._mapping["seven"] == 7 and row.bee == "b"
        assert len(built) > first
