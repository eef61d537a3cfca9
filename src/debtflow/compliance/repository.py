"""All SQL of the compliance gate: the per-debtor lock, the shared contact history, decisions,
overrides, restrictions, personal-data views and QA samples (retention and deletion
requests: ``retention_records``; personal-data key rotation: ``encrypted_columns``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    Boolean,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    cast,
    exists,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ReturningInsert

from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.compliance.contact import ContactFlag
from debtflow.db import BuiltOnce, get_by_id
from debtflow.models import (
    Account,
    Case,
    ContactAttempt,
    ContactDecision,
    ContactPoint,
    ContactRestriction,
    Creditor,
    Debtor,
    DebtorDispute,
    DenyOverride,
    PersonalDataView,
    QaSample,
)
from debtflow.models.portal import DISPUTE_CLOSED, DISPUTE_OPEN


def _one_of(
    session: Session, column: ColumnElement[int], ids: Sequence[int]
) -> ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL ``column = ANY(:array)``, one parameter whatever the
    number of ids, so the statement text stays the same and the driver can prepare it once."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(ids)


def _any_of(dialect: str, column: ColumnElement[int], name: str) -> ColumnElement[bool]:
    """``column IN :name`` for a statement built once (``BuiltOnce``): on PostgreSQL
    ``column = ANY(:name)`` with one array parameter, elsewhere an expanding ``IN``."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))


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


@BuiltOnce
def _case_with_creditor(dialect: str) -> Select[tuple[Case, Creditor, Debtor]]:
    return (
        select(Case, Creditor, Debtor)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .where(Case.id == bindparam("case_id"))
    )


def case_with_creditor(session: Session, *, case_id: int) -> tuple[Case, Creditor, Debtor] | None:
    row = session.execute(_case_with_creditor(session), {"case_id": case_id}).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


def contact_point(session: Session, *, contact_point_id: int) -> ContactPoint | None:
    return session.get(ContactPoint, contact_point_id)


#: ``skip_decision`` when no decision is to be skipped: serial ids start at 1
_NO_DECISION = 0

#: what a row of ``_gate_facts`` is: a contact made, an allowed decision not yet used, or a
#: restriction not lifted
ATTEMPT, RESERVATION, RESTRICTION = "attempt", "reservation", "restriction"


@BuiltOnce
def _gate_facts(dialect: str) -> CompoundSelect:
    """Every fact the gate weighs about some debtors, in one statement (one round trip):
    rows ``(kind, debtor_id, at, until, what, connected, conversation, party, account_id,
    target, case_id)`` where ``what`` is a contact's channel or a restriction's flag.
    ``until`` and ``case_id`` are a restriction's; the contact columns are NULL on its row."""
    # typed in the first branch: PostgreSQL resolves a UNION's column types pair by pair
    no_time = cast(null(), ContactRestriction.ends_at.type)
    no_case = cast(null(), Integer)
    attempts = select(
        literal_column(f"'{ATTEMPT}'", String),
        ContactAttempt.debtor_id,
        ContactAttempt.attempted_at,
        no_time,
        ContactAttempt.channel,
        ContactAttempt.connected,
        ContactAttempt.conversation,
        ContactAttempt.collecting_party,
        ContactAttempt.account_id,
        cast(ContactAttempt.party, String),
        no_case,
    ).where(
        _any_of(dialect, ContactAttempt.debtor_id, "debtor_ids"),
        ContactAttempt.attempted_at >= bindparam("since"),
    )
    used = exists().where(ContactAttempt.decision_id == ContactDecision.id)
    overridden = exists().where(DenyOverride.decision_id == ContactDecision.id)
    reservations = select(
        literal_column(f"'{RESERVATION}'", String),
        ContactDecision.debtor_id,
        ContactDecision.planned_at,
        null(),
        ContactDecision.channel,
        literal_column("TRUE", Boolean),
        literal_column("FALSE", Boolean),
        ContactDecision.collecting_party,
        ContactDecision.account_id,
        ContactDecision.target,
        null(),
    ).where(
        _any_of(dialect, ContactDecision.debtor_id, "debtor_ids"),
        ContactDecision.planned_at >= bindparam("since"),
        ContactDecision.expires_at > bindparam("now"),
        or_(ContactDecision.allowed, overridden),
        ~used,
        ContactDecision.id != bindparam("skip_decision"),
    )
    restrictions = select(
        literal_column(f"'{RESTRICTION}'", String),
        ContactRestriction.debtor_id,
        ContactRestriction.starts_at,
        ContactRestriction.ends_at,
        ContactRestriction.flag,
        null(),
        null(),
        null(),
        null(),
        null(),
        ContactRestriction.case_id,
    ).where(
        _any_of(dialect, ContactRestriction.debtor_id, "debtor_ids"),
        ContactRestriction.lifted_at.is_(None),
    )
    return union_all(attempts, reservations, restrictions)


#: a contact in the gate's history: (debtor_id, at, channel, connected, conversation, party,
#: account_id, target)
HistoryRow = tuple[int, datetime, str, bool, bool, str, int | None, str]


@dataclass(frozen=True, slots=True)
class StandingRestriction:
    """A restriction not lifted, as the gate reads it."""

    debtor_id: int
    case_id: int | None
    flag: str
    starts_at: datetime
    ends_at: datetime | None


@dataclass(slots=True)
class GateFacts:
    """What the gate weighs about some debtors: their shared contact history and their
    restrictions not lifted (per debtor)."""

    history: list[HistoryRow] = field(default_factory=list)
    restrictions: dict[int, list[StandingRestriction]] = field(default_factory=dict)


def gate_facts(
    session: Session,
    *,
    debtor_ids: Sequence[int],
    since: datetime,
    now: datetime,
    skip_decision: int | None,
) -> GateFacts:
    """The debtors' shared contact history from ``since`` — every attempt by every party,
    plus every allowed (or overridden) decision not yet used and not expired, as a connected
    call — and every restriction of theirs not lifted (the gate checks its times and case),
    in one statement. Read it after the debtors' lock: a statement started before the lock
    was granted would not see what the previous holder committed."""
    facts = GateFacts()
    rows = session.execute(
        _gate_facts(session),
        {
            "debtor_ids": list(debtor_ids),
            "since": since,
            "now": now,
            "skip_decision": _NO_DECISION if skip_decision is None else skip_decision,
        },
    )
    for (
        kind,
        debtor,
        at,
        until,
        what,
        connected,
        conversation,
        party,
        account,
        target,
        case,
    ) in rows:
        if kind == RESTRICTION:
            facts.restrictions.setdefault(debtor, []).append(
                StandingRestriction(
                    debtor_id=debtor, case_id=case, flag=what, starts_at=at, ends_at=until
                )
            )
        else:
            facts.history.append(
                (debtor, at, what, bool(connected), bool(conversation), party, account, str(target))
            )
    return facts


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


@BuiltOnce
def _disputes_in_force(dialect: str) -> Select[tuple[ContactRestriction]]:
    at = bindparam("at")
    return (
        select(ContactRestriction)
        .where(
            ContactRestriction.debtor_id == bindparam("debtor_id"),
            or_(
                ContactRestriction.case_id.is_(None),
                ContactRestriction.case_id == bindparam("case_id"),
            ),
            ContactRestriction.flag == ContactFlag.DISPUTE.value,
            ContactRestriction.lifted_at.is_(None),
            ContactRestriction.starts_at <= at,
            or_(ContactRestriction.ends_at.is_(None), ContactRestriction.ends_at > at),
        )
        .order_by(ContactRestriction.starts_at, ContactRestriction.id)
    )


def disputes_in_force(
    session: Session, *, debtor_id: int, case_id: int, at: datetime
) -> Sequence[ContactRestriction]:
    """The ``dispute`` restrictions on the case (or on every case of its debtor) in force at
    ``at``, earliest first — what the gate reads as the ``dispute`` flag (``_flags``)."""
    return session.scalars(
        _disputes_in_force(session), {"debtor_id": debtor_id, "case_id": case_id, "at": at}
    ).all()


def restriction(session: Session, *, restriction_id: int) -> ContactRestriction | None:
    return session.get(ContactRestriction, restriction_id)


def close_disputes_of_restriction(session: Session, *, restriction_id: int) -> None:
    """Close the debtor's portal dispute that put this restriction on the case."""
    session.execute(
        update(DebtorDispute)
        .where(
            DebtorDispute.restriction_id == restriction_id,
            DebtorDispute.status == DISPUTE_OPEN,
        )
        .values(status=DISPUTE_CLOSED)
        .execution_options(synchronize_session="fetch")
    )


def add(session: Session, row: object) -> None:
    session.add(row)


def decision(session: Session, *, decision_id: int) -> ContactDecision | None:
    return get_by_id(session, ContactDecision, decision_id)


def override_of(session: Session, *, decision_id: int) -> DenyOverride | None:
    stmt = select(DenyOverride).where(DenyOverride.decision_id == decision_id)
    return session.scalars(stmt).one_or_none()


@BuiltOnce
def _use_and_override(dialect: str) -> Select[tuple[int | None, DenyOverride | None]]:
    return (
        select(ContactAttempt.id, DenyOverride)
        .select_from(ContactDecision)
        .outerjoin(ContactAttempt, ContactAttempt.decision_id == ContactDecision.id)
        .outerjoin(DenyOverride, DenyOverride.decision_id == ContactDecision.id)
        .where(ContactDecision.id == bindparam("decision_id"))
    )


def use_and_override_of(
    session: Session, *, decision_id: int
) -> tuple[int | None, DenyOverride | None]:
    """The id of the contact that used the decision and the decision's override (each
    ``None`` when there is none) — one statement instead of ``attempt_of`` + ``override_of``
    (both are unique per decision)."""
    stmt = _use_and_override(session)
    row = session.execute(stmt, {"decision_id": decision_id}).one_or_none()
    return (None, None) if row is None else (row[0], row[1])


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


@dataclass(frozen=True, slots=True)
class GateSubject:
    """What the gate needs of a case, read with the debtor's lock (the debtor row as locked,
    the case and creditor rows as of the locking statement's start): no ORM objects."""

    case_id: int
    case_status: CaseStatus
    debtor_id: int
    debtor_timezone: str
    creditor_code: str
    compliance_pack: str


def _gate_subject_columns() -> Select[tuple[int, CaseStatus, int, str, str, str]]:
    return (
        select(
            Case.id,
            Case.status,
            Debtor.id,
            Debtor.timezone,
            Creditor.code,
            Creditor.compliance_pack,
        )
        .join(Creditor, Creditor.id == Case.creditor_id)
        .join(Debtor, Debtor.id == Case.debtor_id)
    )


@BuiltOnce
def _gate_subjects(dialect: str) -> Select[tuple[int, CaseStatus, int, str, str, str]]:
    stmt = (
        _gate_subject_columns()
        .where(_any_of(dialect, Case.id, "case_ids"))
        .order_by(Debtor.id, Case.id)
    )
    return stmt if dialect == "sqlite" else stmt.with_for_update(of=Debtor)


@dataclass(frozen=True, slots=True)
class LockedDecision:
    """A gate decision read with its debtor's lock: the decision, what the gate needs of its
    case, and the case's assigned collector (for a scope check on the case)."""

    decision: ContactDecision
    subject: GateSubject
    assigned_collector_id: int | None


@BuiltOnce
def _decision_under_lock(
    dialect: str,
) -> Select[tuple[int, CaseStatus, int, str, str, str, ContactDecision, int | None]]:
    stmt = (
        _gate_subject_columns()
        .add_columns(ContactDecision, Case.assigned_collector_id)
        .join(ContactDecision, ContactDecision.case_id == Case.id)
        .where(
            ContactDecision.id == bindparam("decision_id"),
            ContactDecision.debtor_id == Debtor.id,
        )
    )
    return stmt if dialect == "sqlite" else stmt.with_for_update(of=Debtor)


def lock_decision(session: Session, *, decision_id: int) -> LockedDecision | None:
    """Lock the debtor of ``decision_id`` (as ``lock_debtor_of_decision``) and read the
    decision with what the gate needs of its case — one statement on PostgreSQL (``…
    FOR UPDATE OF debtor``); None for an unknown decision."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite and lock_debtor_of_decision(session, decision_id=decision_id) is None:
        return None
    row = session.execute(_decision_under_lock(session), {"decision_id": decision_id}).first()
    if row is None:
        return None
    *subject, decision, assigned_collector_id = row
    return LockedDecision(decision, GateSubject(*subject), assigned_collector_id)


_SQLITE_LOCK_DEBTORS_OF_CASES = text(
    'UPDATE debtor SET id = id WHERE id IN (SELECT debtor_id FROM "case" WHERE id IN :case_ids)'
).bindparams(bindparam("case_ids", expanding=True))


def lock_gate_subjects(session: Session, *, case_ids: Sequence[int]) -> dict[int, GateSubject]:
    """Lock the debtors of ``case_ids`` and read what the gate needs of each case, in one
    statement on PostgreSQL (``… ORDER BY debtor.id FOR UPDATE OF debtor``: rows are locked
    in debtor-id order, so two batches cannot deadlock). SQLite: a no-op UPDATE of the
    debtor rows first takes the database write lock (what ``BEGIN IMMEDIATE`` would)."""
    if not case_ids:
        return {}
    if session.get_bind().dialect.name == "sqlite":
        session.execute(_SQLITE_LOCK_DEBTORS_OF_CASES, {"case_ids": list(case_ids)})
    rows = session.execute(_gate_subjects(session), {"case_ids": list(case_ids)})
    return {row[0]: GateSubject(*row) for row in rows}


@dataclass(slots=True)
class NewDecision:
    """A gate decision's values before it is stored (``insert_decisions``)."""

    debtor_id: int
    case_id: int
    account_id: int | None
    collector_id: int | None
    collecting_party: str
    requested_by: str
    channel: str
    target: str
    contact_point_id: int | None
    purpose: str
    debtor_unreachable: bool
    script_text: str | None
    planned_at: datetime
    expires_at: datetime
    decided_at: datetime
    allowed: bool = False
    reasons: list[str] = field(default_factory=list)
    pack_version: str = ""
    next_allowed_at: datetime | None = None


_DECISION_COLUMNS = [c.key for c in ContactDecision.__table__.columns if c.key != "id"]
COPY_FROM = 32  # decisions per batch from which PostgreSQL batches are COPied
_REASONS = _DECISION_COLUMNS.index("reasons")


@BuiltOnce
def _insert_decisions(dialect: str) -> ReturningInsert[tuple[ContactDecision]]:
    return insert(ContactDecision).returning(ContactDecision, sort_by_parameter_order=True)


def insert_decisions(session: Session, rows: Sequence[NewDecision]) -> list[ContactDecision]:
    """Store new gate decisions; returns them as stored, in the same order.

    A few rows (a single ask): one ORM bulk INSERT … RETURNING, one round trip. A batch on
    PostgreSQL: ids drawn from the table's sequence in one statement, the rows COPied in and
    read back in one SELECT — three round trips whatever the batch size, no per-row
    statement and no long multi-row INSERT for the driver to parse."""
    if not rows:
        return []
    values = [{name: getattr(row, name) for name in _DECISION_COLUMNS} for row in rows]
    if len(rows) < COPY_FROM or session.get_bind().dialect.name != "postgresql":
        return list(session.scalars(_insert_decisions(session), values))
    connection = session.connection()
    ids = [
        int(new_id)
        for new_id in connection.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('contact_decision', 'id')) "
            f"FROM generate_series(1, {len(rows)})"
        ).scalars()
    ]
    raw = connection.connection.dbapi_connection
    assert raw is not None
    names = ", ".join(["id", *_DECISION_COLUMNS])
    with raw.cursor() as cursor, cursor.copy(f"COPY contact_decision ({names}) FROM STDIN") as copy:
        for new_id, row in zip(ids, values, strict=True):
            line = [new_id, *row.values()]
            line[_REASONS + 1] = json.dumps(line[_REASONS + 1])
            copy.write_row(line)
    stored = {
        decision.id: decision
        for decision in session.scalars(
            select(ContactDecision).where(_one_of(session, ContactDecision.id, ids))
        )
    }
    return [stored[new_id] for new_id in ids]
