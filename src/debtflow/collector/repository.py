"""All SQL of collectors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from debtflow.db import get_by_id
from debtflow.models import Collector


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
