"""All SQL of collectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from debtflow.db import BuiltOnce, get_by_id
from debtflow.models import Collector
from debtflow.models.enums import CollectorKind


def upsert(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    builder = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    stmt = builder(Collector.__table__)
    columns = [c for c in rows[0] if c != "code"]
    stmt = stmt.on_conflict_do_update(
        index_elements=["code"], set_={c: stmt.excluded[c] for c in columns}
    )
    session.execute(stmt, list(rows))


def count_by_kind(session: Session) -> Sequence[tuple[str, int]]:
    stmt = (
        select(Collector.kind, func.count())
        .where(Collector.active.is_(True))
        .group_by(Collector.kind)
        .order_by(Collector.kind)
    )
    return [(str(k), int(n)) for k, n in session.execute(stmt).all()]


def active(session: Session) -> Sequence[Collector]:
    return session.scalars(select(Collector).where(Collector.active.is_(True))).all()


def by_id(session: Session, *, collector_id: int) -> Collector | None:
    return get_by_id(session, Collector, collector_id)


@BuiltOnce
def _kind_and_code(dialect: str) -> Select[tuple[CollectorKind, str]]:
    return select(Collector.kind, Collector.code).where(Collector.id == bindparam("collector_id"))


def kind_and_code(session: Session, *, collector_id: int) -> tuple[CollectorKind, str] | None:
    """The collector's kind and code (who a contact is made for) without loading the row."""
    row = session.execute(_kind_and_code(session), {"collector_id": collector_id}).one_or_none()
    return None if row is None else (row[0], row[1])
