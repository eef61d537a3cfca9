"""All SQL of dispatch: what matching reads about cases and collectors, the assignment
history, overrides, learner state, daily metrics and field routes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Executable, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.db import BuiltOnce
from debtflow.models import (
    Account,
    Address,
    Case,
    Collector,
    ContactAttempt,
    ContactPoint,
    ConversationAnalysis,
    Debtor,
    DispatchAssignment,
    DispatchDailyMetrics,
    DispatchModelState,
    DispatchOutcome,
    DispatchOverride,
    FieldRoute,
    PromiseToPay,
)
from debtflow.models.enums import ContactParty, PromiseStatus

LOOKUP_CHUNK = 5_000

_ASSIGNMENTS = cast(Table, DispatchAssignment.__table__)
_CASES = cast(Table, Case.__table__)
_CASE_COLUMNS = (
    Case.id,
    Case.status,
    Case.channel,
    Case.days_past_due,
    Case.outstanding_fen,
    Case.segment,
    Case.propensity,
    Case.treatment,
    Case.assigned_collector_id,
    Case.assigned_at,
    Case.debtor_id,
    Debtor.debtor_type,
    Debtor.industry,
    Debtor.timezone,
)


def active_collectors(session: Session) -> Sequence[Any]:
    stmt = (
        select(
            Collector.id,
            Collector.code,
            Collector.name,
            Collector.kind,
            Collector.regions,
            Collector.tags,
            Collector.capacity_hours_week,
            Collector.latitude,
            Collector.longitude,
        )
        .where(Collector.active.is_(True))
        .order_by(Collector.id)
    )
    return session.execute(stmt).all()


def collectors_by_id(session: Session, ids: Iterable[int]) -> dict[int, Any]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = select(
        Collector.id, Collector.code, Collector.name, Collector.kind, Collector.active
    ).where(Collector.id.in_(wanted))
    return {r.id: r for r in session.execute(stmt).all()}


def collector_by_code(session: Session, code: str) -> Collector | None:
    return session.scalars(select(Collector).where(Collector.code == code)).one_or_none()


def open_case_chunks(session: Session, *, size: int) -> Iterator[Sequence[Any]]:
    """Open cases with what matching needs of their debtor, ``size`` at a time."""
    last_id = 0
    while True:
        stmt = (
            select(*_CASE_COLUMNS)
            .join(Debtor, Debtor.id == Case.debtor_id)
            .where(Case.status.in_(list(OPEN_STATUSES)), Case.id > last_id)
            .order_by(Case.id)
            .limit(size)
        )
        rows = session.execute(stmt).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def case_row(session: Session, *, case_id: int) -> Any:
    stmt = (
        select(*_CASE_COLUMNS).join(Debtor, Debtor.id == Case.debtor_id).where(Case.id == case_id)
    )
    return session.execute(stmt).one_or_none()


def addresses_of(session: Session, debtor_ids: Sequence[int]) -> dict[int, Any]:
    """One address per debtor: home first, then work, then any."""
    if not debtor_ids:
        return {}
    stmt = select(
        Address.debtor_id,
        Address.kind,
        Address.province,
        Address.city,
        Address.latitude,
        Address.longitude,
    ).where(Address.debtor_id.in_(list(debtor_ids)))
    rank = {"home": 0, "work": 1}
    best: dict[int, Any] = {}
    for row in session.execute(stmt).all():
        held = best.get(row.debtor_id)
        if held is None or rank.get(row.kind, 2) < rank.get(held.kind, 2):
            best[row.debtor_id] = row
    return best


def reachable_phones(session: Session, debtor_ids: Sequence[int]) -> set[int]:
    """Debtors with a valid phone of their own."""
    if not debtor_ids:
        return set()
    stmt = (
        select(ContactPoint.debtor_id)
        .where(
            ContactPoint.debtor_id.in_(list(debtor_ids)),
            ContactPoint.kind == "phone",
            ContactPoint.party == ContactParty.DEBTOR,
            ContactPoint.valid.is_(True),
        )
        .distinct()
    )
    return set(session.scalars(stmt).all())


@dataclass(frozen=True)
class ConversationHistory:
    """What the debtor's analysed utterances showed: emotion -> count, intent -> count."""

    emotions: dict[str, int]
    intents: dict[str, int]


def conversation_histories(
    session: Session, case_ids: Sequence[int], *, since: datetime, until: datetime
) -> dict[int, ConversationHistory]:
    """Per case, the emotions and intents of the debtor's utterances analysed in
    [``since``, ``until``) (one grouped query per chunk of cases); cases without any are
    left out."""
    histories: dict[int, ConversationHistory] = {}
    ids = list(case_ids)
    for first in range(0, len(ids), LOOKUP_CHUNK):
        stmt = (
            select(
                ConversationAnalysis.case_id,
                ConversationAnalysis.emotion,
                ConversationAnalysis.intent,
                func.count(),
            )
            .where(
                ConversationAnalysis.case_id.in_(ids[first : first + LOOKUP_CHUNK]),
                ConversationAnalysis.speaker == "debtor",
                ConversationAnalysis.analysed_at >= since,
                ConversationAnalysis.analysed_at < until,
            )
            .group_by(
                ConversationAnalysis.case_id,
                ConversationAnalysis.emotion,
                ConversationAnalysis.intent,
            )
        )
        for case_id, emotion, intent, count in session.execute(stmt).all():
            history = histories.setdefault(int(case_id), ConversationHistory({}, {}))
            if emotion:
                history.emotions[emotion] = history.emotions.get(emotion, 0) + int(count)
            if intent:
                history.intents[intent] = history.intents.get(intent, 0) + int(count)
    return histories


def main_products(session: Session, case_ids: Sequence[int]) -> dict[int, str]:
    """Product type of each case's largest account."""
    if not case_ids:
        return {}
    stmt = select(Account.case_id, Account.product_type, Account.principal_fen).where(
        Account.case_id.in_(list(case_ids))
    )
    best: dict[int, tuple[int, str]] = {}
    for case_id, product, principal in session.execute(stmt).all():
        if case_id not in best or principal > best[case_id][0]:
            best[case_id] = (principal, str(product))
    return {case_id: product for case_id, (_, product) in best.items()}


def pending_promise_cases(session: Session, case_ids: Sequence[int]) -> set[int]:
    if not case_ids:
        return set()
    stmt = (
        select(PromiseToPay.case_id)
        .where(
            PromiseToPay.case_id.in_(list(case_ids)),
            PromiseToPay.status == PromiseStatus.PENDING,
        )
        .distinct()
    )
    return set(session.scalars(stmt).all())


def recent_overrides(session: Session, *, since: datetime) -> dict[int, datetime]:
    """Case id → time of its latest override at or after ``since``."""
    stmt = (
        select(DispatchAssignment.case_id, func.max(DispatchAssignment.assigned_at))
        .where(DispatchAssignment.how == "override", DispatchAssignment.assigned_at >= since)
        .group_by(DispatchAssignment.case_id)
    )
    return {case_id: at for case_id, at in session.execute(stmt).all()}


def open_case_counts(session: Session, collector_ids: Sequence[int]) -> dict[int, int]:
    """Open cases held per collector (the current load, in cases)."""
    if not collector_ids:
        return {}
    stmt = (
        select(Case.assigned_collector_id, func.count())
        .where(
            Case.assigned_collector_id.in_(list(collector_ids)),
            Case.status.in_(list(OPEN_STATUSES)),
        )
        .group_by(Case.assigned_collector_id)
    )
    return {int(k): int(n) for k, n in session.execute(stmt).all()}


def latest_assignment(session: Session, *, case_id: int) -> DispatchAssignment | None:
    stmt = (
        select(DispatchAssignment)
        .where(DispatchAssignment.case_id == case_id)
        .order_by(DispatchAssignment.assigned_at.desc(), DispatchAssignment.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def assignment_history(session: Session, *, case_id: int) -> Sequence[DispatchAssignment]:
    stmt = (
        select(DispatchAssignment)
        .where(DispatchAssignment.case_id == case_id)
        .order_by(DispatchAssignment.assigned_at, DispatchAssignment.id)
    )
    return session.scalars(stmt).all()


def latest_values(session: Session, case_ids: Sequence[int]) -> dict[int, int]:
    """Case id → match value of its latest assignment."""
    if not case_ids:
        return {}
    stmt = (
        select(DispatchAssignment.case_id, DispatchAssignment.value_fen)
        .where(DispatchAssignment.case_id.in_(list(case_ids)))
        .order_by(DispatchAssignment.assigned_at, DispatchAssignment.id)
    )
    return {case_id: int(value) for case_id, value in session.execute(stmt).all()}


def override_of(session: Session, *, assignment_id: int) -> DispatchOverride | None:
    stmt = select(DispatchOverride).where(DispatchOverride.assignment_id == assignment_id)
    return session.scalars(stmt).one_or_none()


def add_assignments(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(_ASSIGNMENTS), list(rows))


def add_assignment(session: Session, assignment: DispatchAssignment) -> None:
    session.add(assignment)


def add_override(session: Session, record: DispatchOverride) -> None:
    session.add(record)


def add_outcome(session: Session, record: DispatchOutcome) -> None:
    session.add(record)


def set_case_collectors(session: Session, values: Sequence[dict[str, Any]]) -> None:
    """Bulk UPDATE of ``assigned_collector_id`` / ``assigned_at`` by case id."""
    if values:
        session.execute(update(Case), list(values))


def model_state(session: Session, *, model: str) -> DispatchModelState | None:
    return session.get(DispatchModelState, model)


def model_revision(session: Session, *, model: str) -> int | None:
    stmt = select(DispatchModelState.revision).where(DispatchModelState.model == model)
    return session.scalar(stmt)


def lock_model_state(
    session: Session, *, model: str, empty_state: str, at: datetime
) -> DispatchModelState:
    """The model's state row, locked until the transaction ends, so that read, update and
    save of the learner are one step per writer (PostgreSQL; SQLite writers are serial).
    On first use the row is created first (``empty_state``, revision and outcomes 0) unless
    another transaction creates it at the same moment: then the insert waits for that one
    and inserts nothing, and the lock waits its turn."""
    # populate_existing: a copy this session read before the lock is overwritten with the
    # row as it is now, so a writer that waited for the lock never works on stale values
    locked = (
        select(DispatchModelState)
        .where(DispatchModelState.model == model)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    state = session.scalars(locked).one_or_none()
    if state is not None:
        return state
    insert_ = (
        postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )
    session.execute(
        insert_(DispatchModelState)
        .values(model=model, state=empty_state, revision=0, outcomes=0, updated_at=at)
        .on_conflict_do_nothing(index_elements=["model"])
    )
    return session.scalars(locked).one()


def assignments_since(session: Session, *, since: datetime) -> Sequence[DispatchAssignment]:
    stmt = (
        select(DispatchAssignment)
        .where(DispatchAssignment.assigned_at >= since)
        .order_by(DispatchAssignment.assigned_at, DispatchAssignment.id)
    )
    return session.scalars(stmt).all()


def later_assignment_times(
    session: Session, case_ids: Sequence[int], *, since: datetime
) -> dict[int, list[datetime]]:
    """Per case, the times of its assignments at or after ``since`` (sorted)."""
    out: dict[int, list[datetime]] = defaultdict(list)
    if not case_ids:
        return out
    stmt = (
        select(DispatchAssignment.case_id, DispatchAssignment.assigned_at)
        .where(
            DispatchAssignment.case_id.in_(list(case_ids)),
            DispatchAssignment.assigned_at >= since,
        )
        .order_by(DispatchAssignment.assigned_at)
    )
    for case_id, at in session.execute(stmt).all():
        out[case_id].append(at)
    return out


def contact_times(
    session: Session, case_ids: Sequence[int], *, since: datetime
) -> dict[int, list[datetime]]:
    """Per case, the times of contact attempts at or after ``since`` (sorted)."""
    out: dict[int, list[datetime]] = defaultdict(list)
    if not case_ids:
        return out
    for start in range(0, len(case_ids), 1000):
        stmt = (
            select(ContactAttempt.case_id, ContactAttempt.attempted_at)
            .where(
                ContactAttempt.case_id.in_(list(case_ids[start : start + 1000])),
                ContactAttempt.attempted_at >= since,
            )
            .order_by(ContactAttempt.attempted_at)
        )
        for case_id, at in session.execute(stmt).all():
            out[case_id].append(at)
    return out


def recent_visits(session: Session, case_ids: Sequence[int], *, since: datetime) -> set[int]:
    if not case_ids:
        return set()
    stmt = (
        select(ContactAttempt.case_id)
        .where(
            ContactAttempt.case_id.in_(list(case_ids)),
            ContactAttempt.channel == "visit",
            ContactAttempt.attempted_at >= since,
        )
        .distinct()
    )
    return set(session.scalars(stmt).all())


def metrics_rows(session: Session, days: Sequence[date]) -> dict[date, DispatchDailyMetrics]:
    if not days:
        return {}
    stmt = select(DispatchDailyMetrics).where(DispatchDailyMetrics.day.in_(list(days)))
    return {row.day: row for row in session.scalars(stmt).all()}


def add_metrics(session: Session, row: DispatchDailyMetrics) -> None:
    session.add(row)


def latest_metrics(session: Session, *, limit: int) -> Sequence[DispatchDailyMetrics]:
    stmt = select(DispatchDailyMetrics).order_by(DispatchDailyMetrics.day.desc()).limit(limit)
    return session.scalars(stmt).all()


def field_cases_of(session: Session, collector_ids: Sequence[int]) -> Sequence[Any]:
    """Open cases held by the given collectors, with their debtor's type and time zone."""
    if not collector_ids:
        return []
    stmt = (
        select(
            Case.id,
            Case.assigned_collector_id,
            Case.debtor_id,
            Debtor.debtor_type,
            Debtor.timezone,
        )
        .join(Debtor, Debtor.id == Case.debtor_id)
        .where(
            Case.status.in_(list(OPEN_STATUSES)),
            Case.assigned_collector_id.in_(list(collector_ids)),
        )
        .order_by(Case.id)
    )
    return session.execute(stmt).all()


def routes_of_day(session: Session, *, day: date) -> dict[int, FieldRoute]:
    stmt = select(FieldRoute).where(FieldRoute.day == day)
    return {route.collector_id: route for route in session.scalars(stmt).all()}


def add_route(session: Session, route: FieldRoute) -> None:
    session.add(route)


# ------------------------------------------------------------------ real-time path
# Built once: a real-time placement runs a handful of precompiled statements.

_PHONES = (
    select(func.count())
    .where(
        ContactPoint.debtor_id == Case.debtor_id,
        ContactPoint.kind == "phone",
        ContactPoint.party == ContactParty.DEBTOR,
        ContactPoint.valid.is_(True),
    )
    .scalar_subquery()
)
_PRODUCT = (
    select(Account.product_type)
    .where(Account.case_id == Case.id)
    .order_by(Account.principal_fen.desc(), Account.id)
    .limit(1)
    .scalar_subquery()
)
_PREVIOUS = (
    select(DispatchAssignment.collector_id)
    .where(DispatchAssignment.case_id == Case.id)
    .order_by(DispatchAssignment.assigned_at.desc(), DispatchAssignment.id.desc())
    .limit(1)
    .scalar_subquery()
)
_REALTIME_CASE = (
    select(
        *_CASE_COLUMNS,
        _PHONES.label("phones"),
        _PRODUCT.label("product"),
        _PREVIOUS.label("previous_collector_id"),
        Address.kind.label("address_kind"),
        Address.province.label("address_province"),
        Address.city.label("address_city"),
        Address.latitude.label("address_latitude"),
        Address.longitude.label("address_longitude"),
    )
    .join(Debtor, Debtor.id == Case.debtor_id)
    .outerjoin(Address, Address.debtor_id == Case.debtor_id)
    .where(Case.id == bindparam("case_id"))
)
_FINGERPRINT = select(
    select(func.count()).where(Collector.active.is_(True)).scalar_subquery(),
    select(func.max(Collector.id)).where(Collector.active.is_(True)).scalar_subquery(),
    select(func.sum(Collector.capacity_hours_week))
    .where(Collector.active.is_(True))
    .scalar_subquery(),
    select(DispatchModelState.revision)
    .where(DispatchModelState.model == bindparam("model"))
    .scalar_subquery(),
    select(DispatchModelState.updated_at)
    .where(DispatchModelState.model == bindparam("model"))
    .scalar_subquery(),
)
_OPEN_COUNTS = (
    select(Case.assigned_collector_id, func.count())
    .where(
        Case.assigned_collector_id.in_(bindparam("collectors", expanding=True)),
        Case.status.in_(list(OPEN_STATUSES)),
    )
    .group_by(Case.assigned_collector_id)
)


@BuiltOnce
def _lock_case(dialect: str) -> Executable:
    if dialect == "sqlite":  # no row locks: a write that changes nothing takes the writer lock
        return (
            update(_CASES)
            .where(_CASES.c.id == bindparam("case_id"))
            .values(updated_at=_CASES.c.updated_at)
        )
    # NO KEY UPDATE, the lock the placement's own UPDATE takes: it does not wait for (or
    # block) inserts that merely reference the case, such as contact attempts
    return (
        select(_CASES.c.id)
        .where(_CASES.c.id == bindparam("case_id"))
        .with_for_update(key_share=True)
    )


_LOCK_CHUNK = 10_000  # ids per statement (PostgreSQL takes at most 65,535 parameters)


def lock_open_holders(session: Session, case_ids: Sequence[int]) -> dict[int, int | None]:
    """Lock the open cases among ``case_ids`` (in id order, as every placement locks) and
    return who holds each now; a case no longer open is left out. The nightly plan calls it
    just before it writes, so what a placement, override or promise committed since the
    plan read the cases is seen (it waits for one still running)."""
    held: dict[int, int | None] = {}
    ordered = sorted(set(case_ids))
    for start in range(0, len(ordered), _LOCK_CHUNK):
        stmt = (
            select(Case.id, Case.assigned_collector_id)
            .where(
                Case.id.in_(ordered[start : start + _LOCK_CHUNK]),
                Case.status.in_(list(OPEN_STATUSES)),
            )
            .order_by(Case.id)
        )
        if session.get_bind().dialect.name != "sqlite":  # SQLite: the night holds the writer
            stmt = stmt.with_for_update(key_share=True)
        held.update({int(i): c for i, c in session.execute(stmt).all()})
    return held


def lock_case(session: Session, *, case_id: int) -> None:
    """Lock the case row until the transaction ends, so that a placement reads and changes
    its assignment one transaction at a time: a second placement of the case waits for the
    first and then sees the case taken. Call it before reading the case."""
    session.execute(_lock_case(session), {"case_id": case_id})


_LOCK_COLLECTORS = (
    select(Collector.id)
    .where(Collector.id.in_(bindparam("collectors", expanding=True)))
    .order_by(Collector.id)  # one order for everyone: placements never wait on each other
    .with_for_update(key_share=True)
)


def lock_collectors(session: Session, collector_ids: Sequence[int]) -> None:
    """Lock the collectors' rows until the transaction ends, so that placements weighing
    the same collector read its load one after the other (PostgreSQL; on SQLite the case's
    lock has already made the transaction the only writer). NO KEY UPDATE: assignments
    referencing the collector are not held up."""
    if collector_ids and session.get_bind().dialect.name != "sqlite":
        session.execute(_LOCK_COLLECTORS, {"collectors": sorted(set(collector_ids))})


def realtime_case(session: Session, *, case_id: int) -> Sequence[Any]:
    """The case with its debtor, main product, phone count, previous collector: one row
    per address of the debtor (at least one row when the case exists)."""
    return session.execute(_REALTIME_CASE, {"case_id": case_id}).all()


def realtime_fingerprint(session: Session, *, model: str) -> tuple[Any, ...]:
    """(active collectors, their max id, their capacity sum, learner revision, learner
    update time): what the real-time caches are keyed on."""
    row = session.execute(_FINGERPRINT, {"model": model}).one()
    return tuple(row)


def open_case_counts_fast(session: Session, collector_ids: Sequence[int]) -> dict[int, int]:
    if not collector_ids:
        return {}
    rows = session.execute(_OPEN_COUNTS, {"collectors": list(collector_ids)}).all()
    return {int(k): int(n) for k, n in rows}


def insert_assignment(session: Session, values: dict[str, Any]) -> None:
    session.execute(insert(_ASSIGNMENTS), [values])


_SET_COLLECTOR = (
    update(_CASES)
    .where(_CASES.c.id == bindparam("case_id"))
    .values(assigned_collector_id=bindparam("collector_id"), assigned_at=bindparam("at"))
)


def set_case_collector(session: Session, *, case_id: int, collector_id: int, at: datetime) -> None:
    session.execute(_SET_COLLECTOR, {"case_id": case_id, "collector_id": collector_id, "at": at})
