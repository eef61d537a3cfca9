"""The driver-level write helpers intake uses (debtflow.bulk), on SQLite and PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from debtflow import bulk
from debtflow.db import utcnow
from debtflow.models import Creditor
from factories import make_creditor

COLUMNS = (
    "code",
    "name",
    "compliance_pack",
    "max_relief_bp",
    "max_term_months",
    "min_first_payment_bp",
    "created_at",
)


def creditor_row(session, code, name):
    now = utcnow()
    convert = bulk.converter(now, session.get_bind().dialect.name)
    return (code, name, "cn-2025", 3000, 48, 200, convert(now) if convert else now)


def test_reserved_ids_are_new_and_rows_written_with_them_keep_them(session):
    make_creditor(session, code="AA")
    ids = bulk.reserve_ids(session, "creditor", 3)
    assert len(set(ids)) == 3
    assert min(ids) > session.scalar(select(func.max(Creditor.id)))
    bulk.insert_rows(
        session,
        "creditor",
        ("id", *COLUMNS),
        [(i, *creditor_row(session, f"C{i}", f"债权人{i}")) for i in ids],
    )
    stored = session.execute(select(Creditor.code, Creditor.id).where(Creditor.id.in_(ids)))
    assert dict(stored.tuples().all()) == {f"C{i}": i for i in ids}
    assert min(bulk.reserve_ids(session, "creditor", 2)) > max(ids)
    assert bulk.reserve_ids(session, "creditor", 0) == []


def test_upsert_updates_existing_keys_and_inserting_an_existing_key_fails(session):
    make_creditor(session, code="AA", name="旧名")
    found = bulk.upsert_rows(
        session,
        "creditor",
        COLUMNS,
        [creditor_row(session, "AA", "新名"), creditor_row(session, "BB", "乙")],
        keys=["code"],
        set_sql={"name": "excluded.name"},
        returning=("code",),
    )
    if session.get_bind().dialect.name == "postgresql":
        assert sorted(found) == [("AA",), ("BB",)]
    else:
        assert found == []  # no RETURNING with executemany
    session.expire_all()
    names = dict(session.execute(select(Creditor.code, Creditor.name)).tuples().all())
    assert names == {"AA": "新名", "BB": "乙"}
    # SQLite through SQLAlchemy, PostgreSQL's COPY straight from the driver
    with pytest.raises((IntegrityError, psycopg.errors.UniqueViolation)), session.begin_nested():
        bulk.insert_rows(session, "creditor", COLUMNS, [creditor_row(session, "AA", "重复")])


def test_large_page_cache_is_given_back(session):
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        with bulk.large_page_cache(session):
            pass  # nothing to change elsewhere
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    with bulk.large_page_cache(session, mebibytes=64):
        assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == -64 * 1024
    assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == before
