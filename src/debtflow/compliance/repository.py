"""All SQL of the compliance gate: the per-debtor lock, the shared contact history, decisions,
overrides, restrictions, personal-data views, QA samples and retention deletes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Boolean,
    String,
    bindparam,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session

from debtflow.models import (
    Account,
    Case,
    ContactAttempt,
    ContactDecision,
    ContactPoint,
    ContactRestriction,
    Creditor,
    Debtor,
    DenyOverride,
    PersonalDataView,
    QaSample,
)


def _lock_debtor(session: Session, *, debtor_of: str, key: int) -> int | None:
    """Serialise every gate decision for one debtor; return the debtor id (None: no row).

    ``debtor_of`` is a scalar subquery giving the debtor id from ``:key``.
    PostgreSQL: ``SELECT … FOR UPDATE`` on the debtor row, held until the transaction ends,
    so a second decision for the same debtor waits and then reads the first one's rows
    (READ COMMITTED takes a fresh snapshot per statement).
    SQLite: a no-op UPDATE of the debtor row as the transaction's first write takes the
    database write lock (what ``BEGIN IMMEDIATE`` would), so decisions are serialised too.
    """
    if session.get_bind().dialect.name == "sqlite":
        sql = f"UPDATE debtor SET id = id WHERE id = ({debtor_of}) RETURNING id"
    else:
        sql = f"SELECT id FROM debtor WHERE id = ({debtor_of}) FOR UPDATE"
    row = session.execute(text(sql), {"key": key}).first()
    return None if row is None else int(row[0])


def lock_debtor_of_decision(session: Session, *, decision_id: int) -> int | None:
    return _lock_debtor(
        session, debtor_of="SELECT debtor_id FROM contact_decision WHERE id = :key", key=decision_id
    )


def lock_and_load_cases(
    session: Session, *, case_ids: Sequence[int]
) -> dict[int, tuple[Case, Creditor, Debtor]]:
    """Lock the debtors of ``case_ids`` and load case, creditor and debtor rows.

    PostgreSQL: one ``SELECT … ORDER BY debtor.id FOR UPDATE OF debtor`` (rows are locked
    in debtor-id order, so two batches cannot deadlock). SQLite: a no-op UPDATE of the
    debtor rows first takes the database write lock (what ``BEGIN IMMEDIATE`` would)."""
    if not case_ids:
        return {}
    stmt = (
        select(Case, Creditor, Debtor)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .where(Case.id.in_(case_ids))
        .order_by(Debtor.id, Case.id)
    )
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text(
                'UPDATE debtor SET id = id WHERE id IN (SELECT debtor_id FROM "case" '
                "WHERE id IN :case_ids)"
            ).bindparams(bindparam("case_ids", expanding=True)),
            {"case_ids": list(case_ids)},
        )
    else:
        stmt = stmt.with_for_update(of=Debtor)
    return {case.id: (case, creditor, debtor) for case, creditor, debtor in session.execute(stmt)}


def accounts(session: Session, *, account_ids: Sequence[int]) -> dict[int, Account]:
    if not account_ids:
        return {}
    rows = session.scalars(select(Account).where(Account.id.in_(account_ids)))
    return {row.id: row for row in rows}


def contact_points(
    session: Session, *, contact_point_ids: Sequence[int]
) -> dict[int, ContactPoint]:
    if not contact_point_ids:
        return {}
    rows = session.scalars(select(ContactPoint).where(ContactPoint.id.in_(contact_point_ids)))
    return {row.id: row for row in rows}


def unlifted_restrictions(
    session: Session, *, debtor_ids: Sequence[int]
) -> dict[int, list[ContactRestriction]]:
    """Every restriction of these debtors not lifted (the gate checks times and cases)."""
    found: dict[int, list[ContactRestriction]] = {}
    stmt = select(ContactRestriction).where(
        ContactRestriction.debtor_id.in_(debtor_ids), ContactRestriction.lifted_at.is_(None)
    )
    for row in session.scalars(stmt):
        found.setdefault(row.debtor_id, []).append(row)
    return found


def add_all(session: Session, rows: Sequence[object]) -> None:
    session.add_all(rows)


def case_with_creditor(session: Session, *, case_id: int) -> tuple[Case, Creditor, Debtor] | None:
    stmt = (
        select(Case, Creditor, Debtor)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .where(Case.id == case_id)
    )
    row = session.execute(stmt).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


def contact_point(session: Session, *, contact_point_id: int) -> ContactPoint | None:
    return session.get(ContactPoint, contact_point_id)


def history_rows(
    session: Session,
    *,
    debtor_ids: Sequence[int],
    since: datetime,
    now: datetime,
    skip_decision: int | None,
) -> Sequence[tuple[int, datetime, str, bool, bool, str, int | None, str]]:
    """The debtors' shared contact history from ``since`` in one query: every attempt by
    every party, plus every allowed (or overridden) decision not yet used and not expired,
    as a connected call. Rows: (debtor_id, at, channel, connected, conversation, party,
    account_id, target)."""
    attempts = select(
        ContactAttempt.debtor_id,
        ContactAttempt.attempted_at,
        ContactAttempt.channel,
        ContactAttempt.connected,
        ContactAttempt.conversation,
        ContactAttempt.collecting_party,
        ContactAttempt.account_id,
        cast(ContactAttempt.party, String),
    ).where(ContactAttempt.debtor_id.in_(debtor_ids), ContactAttempt.attempted_at >= since)
    used = exists().where(ContactAttempt.decision_id == ContactDecision.id)
    overridden = exists().where(DenyOverride.decision_id == ContactDecision.id)
    reservations = select(
        ContactDecision.debtor_id,
        ContactDecision.planned_at,
        ContactDecision.channel,
        literal(True, Boolean),
        literal(False, Boolean),
        ContactDecision.collecting_party,
        ContactDecision.account_id,
        ContactDecision.target,
    ).where(
        ContactDecision.debtor_id.in_(debtor_ids),
        ContactDecision.planned_at >= since,
        ContactDecision.expires_at > now,
        or_(ContactDecision.allowed, overridden),
        ~used,
    )
    if skip_decision is not None:
        reservations = reservations.where(ContactDecision.id != skip_decision)
    rows = session.execute(union_all(attempts, reservations)).all()
    return [
        (debtor, at, channel, bool(connected), bool(conversation), party, account, str(target))
        for debtor, at, channel, connected, conversation, party, account, target in rows
    ]


def active_restrictions(
    session: Session, *, debtor_id: int, case_id: int, at: datetime
) -> Sequence[ContactRestriction]:
    stmt = select(ContactRestriction).where(
        ContactRestriction.debtor_id == debtor_id,
        or_(ContactRestriction.case_id.is_(None), ContactRestriction.case_id == case_id),
        ContactRestriction.starts_at <= at,
        ContactRestriction.lifted_at.is_(None),
    )
    return session.scalars(stmt).all()


def restriction(session: Session, *, restriction_id: int) -> ContactRestriction | None:
    return session.get(ContactRestriction, restriction_id)


def add(session: Session, row: object) -> None:
    session.add(row)


def decision(session: Session, *, decision_id: int) -> ContactDecision | None:
    return session.get(ContactDecision, decision_id)


def override_of(session: Session, *, decision_id: int) -> DenyOverride | None:
    stmt = select(DenyOverride).where(DenyOverride.decision_id == decision_id)
    return session.scalars(stmt).one_or_none()


def attempt_of(session: Session, *, decision_id: int) -> ContactAttempt | None:
    stmt = select(ContactAttempt).where(ContactAttempt.decision_id == decision_id)
    return session.scalars(stmt).one_or_none()


def decisions_between(
    session: Session, *, since: datetime, until: datetime
) -> Sequence[tuple[ContactDecision, bool, bool]]:
    """Decisions made in [since, until) with (overridden?, used by an attempt?)."""
    overridden = exists().where(DenyOverride.decision_id == ContactDecision.id)
    used = exists().where(ContactAttempt.decision_id == ContactDecision.id)
    stmt = (
        select(ContactDecision, overridden, used)
        .where(ContactDecision.decided_at >= since, ContactDecision.decided_at < until)
        .order_by(ContactDecision.id)
    )
    return [(row[0], bool(row[1]), bool(row[2])) for row in session.execute(stmt).all()]


def views_of_debtor(session: Session, *, debtor_id: int) -> Sequence[PersonalDataView]:
    stmt = (
        select(PersonalDataView)
        .where(PersonalDataView.debtor_id == debtor_id)
        .order_by(PersonalDataView.viewed_at, PersonalDataView.id)
    )
    return session.scalars(stmt).all()


def unsampled_calls(
    session: Session, *, since: datetime, until: datetime, channels: Sequence[str]
) -> Sequence[ContactAttempt]:
    sampled = exists().where(QaSample.contact_attempt_id == ContactAttempt.id)
    stmt = (
        select(ContactAttempt)
        .where(
            ContactAttempt.attempted_at >= since,
            ContactAttempt.attempted_at < until,
            ContactAttempt.channel.in_(channels),
            or_(ContactAttempt.connected, ContactAttempt.conversation),
            ~sampled,
        )
        .order_by(ContactAttempt.id)
    )
    return session.scalars(stmt).all()


def cases_of_debtor(session: Session, *, debtor_id: int) -> Sequence[tuple[Case, Creditor]]:
    stmt = (
        select(Case, Creditor)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .where(Case.debtor_id == debtor_id)
    )
    return [(row[0], row[1]) for row in session.execute(stmt).all()]


def last_contact_activity(session: Session, *, debtor_id: int) -> datetime | None:
    attempt = session.scalar(
        select(func.max(ContactAttempt.attempted_at)).where(ContactAttempt.debtor_id == debtor_id)
    )
    decided = session.scalar(
        select(func.max(ContactDecision.decided_at)).where(ContactDecision.debtor_id == debtor_id)
    )
    moments = [m for m in (attempt, decided) if m is not None]
    return max(moments) if moments else None


def delete_contact_records(session: Session, *, debtor_id: int) -> dict[str, int]:
    """Delete the debtor's contact and compliance records; rows deleted per table."""
    attempt_ids = select(ContactAttempt.id).where(ContactAttempt.debtor_id == debtor_id)
    decision_ids = select(ContactDecision.id).where(ContactDecision.debtor_id == debtor_id)
    counts: dict[str, int] = {}
    statements = (
        ("qa_sample", delete(QaSample).where(QaSample.contact_attempt_id.in_(attempt_ids))),
        ("contact_attempt", delete(ContactAttempt).where(ContactAttempt.debtor_id == debtor_id)),
        ("deny_override", delete(DenyOverride).where(DenyOverride.decision_id.in_(decision_ids))),
        (
            "contact_decision",
            delete(ContactDecision).where(ContactDecision.debtor_id == debtor_id),
        ),
        (
            "contact_restriction",
            delete(ContactRestriction).where(ContactRestriction.debtor_id == debtor_id),
        ),
        (
            "personal_data_view",
            delete(PersonalDataView).where(PersonalDataView.debtor_id == debtor_id),
        ),
    )
    for table, stmt in statements:
        result = session.execute(stmt.execution_options(synchronize_session=False))
        counts[table] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return counts
