"""Statements built once (``BuiltOnce``) and ``get_by_id``: the same rows as freshly built
statements and ``session.get``, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from debtflow.db import BuiltOnce, get_by_id
from debtflow.models import Creditor
from factories import make_creditor

BUILDS: list[str] = []


@BuiltOnce
def _creditor_by_code(dialect: str) -> Select[tuple[Creditor]]:
    BUILDS.append(dialect)
    return select(Creditor).where(Creditor.code == bindparam("code"))


def test_a_statement_is_built_once_per_dialect_and_binds_new_values(session: Session) -> None:
    first = make_creditor(session, code="BANK-A", name="甲银行")
    second = make_creditor(session, code="BANK-B", name="乙银行")
    session.flush()
    dialect = session.get_bind().dialect.name
    before = BUILDS.count(dialect)

    statement = _creditor_by_code(session)
    assert _creditor_by_code(session) is statement
    assert session.scalars(statement, {"code": "BANK-A"}).one() is first
    assert session.scalars(_creditor_by_code(session), {"code": "BANK-B"}).one() is second
    assert session.scalars(_creditor_by_code(session), {"code": "NONE"}).one_or_none() is None
    assert BUILDS.count(dialect) - before <= 1  # built at most once, whatever the calls


def test_get_by_id_reads_the_row_and_reuses_the_identity_map(session: Session) -> None:
    creditor = make_creditor(session, code="BANK-C", name="丙银行")
    session.flush()
    creditor_id = creditor.id

    assert get_by_id(session, Creditor, creditor_id) is creditor  # held: no statement
    session.expunge_all()
    loaded = get_by_id(session, Creditor, creditor_id)
    assert loaded is not None and loaded is not creditor
    assert (loaded.id, loaded.code, loaded.name) == (creditor_id, "BANK-C", "丙银行")
    assert get_by_id(session, Creditor, creditor_id) is loaded
    assert get_by_id(session, Creditor, creditor_id + 10_000) is None


def test_get_by_id_refreshes_an_expired_object_like_session_get(session: Session) -> None:
    creditor = make_creditor(session, code="BANK-D", name="丁银行")
    session.flush()
    session.execute(
        Creditor.__table__.update().where(Creditor.id == creditor.id).values(name="戊银行")
    )
    session.expire(creditor)
    again = get_by_id(session, Creditor, creditor.id)
    assert again is creditor
    assert again.name == "戊银行"
