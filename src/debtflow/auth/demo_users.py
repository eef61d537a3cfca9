"""Demo users for every role, linked to the demo's collectors and one demo debtor."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from debtflow.auth import service
from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.db import utcnow
from debtflow.models import Case, Collector, ContactPoint, Role
from debtflow.models.enums import CollectorKind, ContactKind, ContactParty

CASES_PER_AGENT = 12


def create_demo_users(
    session: Session, *, password: str = "debtflow-demo"
) -> list[tuple[str, str]]:
    """admin, manager, agent1, agent2 (online agents, each given open cases), field1,
    auditor, and a debtor who signs in with phone + one-time code. Needs the demo's
    collectors and cases. Returns (username, role) pairs; the debtor's username is
    ``debtor:<phone>``."""
    agents = _collectors(session, CollectorKind.ONLINE_AGENT, 2)
    field = _collectors(session, CollectorKind.FIELD_AGENT, 1)
    if len(agents) < 2 or not field:
        raise service.InvalidUser("the demo users need 2 online agents and 1 field agent")
    staff = [
        ("admin", Role.ADMIN, None, "管理员"),
        ("manager", Role.OPERATIONS_MANAGER, None, "运营经理"),
        ("agent1", Role.ONLINE_AGENT, agents[0], agents[0].name),
        ("agent2", Role.ONLINE_AGENT, agents[1], agents[1].name),
        ("field1", Role.FIELD_AGENT, field[0], field[0].name),
        ("auditor", Role.COMPLIANCE_AUDITOR, None, "合规审计"),
    ]
    created: list[tuple[str, str]] = []
    for username, role, collector, name in staff:
        service.create_user(
            session,
            username=username,
            role=role,
            password=password,
            display_name=name,
            collector_id=collector.id if collector is not None else None,
        )
        created.append((username, role.value))
    _assign(session, [c for c in (agents[0], agents[1], field[0])])
    phone = _debtor_phone(session, exclude_collectors={agents[1].id})
    if phone is not None:
        debtor_id, number = phone
        service.create_user(
            session,
            username="debtor1",
            role=Role.DEBTOR,
            display_name="债务人",
            debtor_id=debtor_id,
            phone=number,
        )
        created.append((f"debtor1 (phone {number}, one-time code)", Role.DEBTOR.value))
    return created


def _collectors(session: Session, kind: CollectorKind, count: int) -> list[Collector]:
    """The active collectors of ``kind`` that already work the most open cases (those the
    nightly dispatch chose), then the lowest ids."""
    workload = (
        select(Case.assigned_collector_id, func.count().label("open_cases"))
        .where(Case.status.in_(list(OPEN_STATUSES)))
        .group_by(Case.assigned_collector_id)
        .subquery()
    )
    stmt = (
        select(Collector)
        .outerjoin(workload, workload.c.assigned_collector_id == Collector.id)
        .where(Collector.kind == kind, Collector.active.is_(True))
        .order_by(func.coalesce(workload.c.open_cases, 0).desc(), Collector.id)
        .limit(count)
    )
    return list(session.scalars(stmt).all())


def _assign(session: Session, collectors: list[Collector]) -> None:
    """Top each collector up to ``CASES_PER_AGENT`` open cases from the unassigned ones,
    most days past due first (cases the nightly dispatch assigned are left as they are)."""
    now = utcnow()
    for collector in collectors:
        held = session.scalar(
            select(func.count()).where(
                Case.assigned_collector_id == collector.id,
                Case.status.in_(list(OPEN_STATUSES)),
            )
        )
        missing = CASES_PER_AGENT - int(held or 0)
        if missing <= 0:
            continue
        stmt = (
            select(Case)
            .where(Case.status.in_(list(OPEN_STATUSES)), Case.assigned_collector_id.is_(None))
            .order_by(Case.days_past_due.desc(), Case.id)
            .limit(missing)
        )
        for case in session.scalars(stmt).all():
            case.assigned_collector_id = collector.id
            case.assigned_at = now
    session.flush()


def _debtor_phone(session: Session, *, exclude_collectors: set[int]) -> tuple[int, str] | None:
    """A debtor with an own phone number whose case agent1 works, preferably one the
    nightly strategy offered a plan (so the demo debtor can choose, sign and pay)."""
    stmt = (
        select(ContactPoint.debtor_id, ContactPoint.value, Case.treatment)
        .join(Case, Case.debtor_id == ContactPoint.debtor_id)
        .where(
            ContactPoint.kind == ContactKind.PHONE,
            ContactPoint.party == ContactParty.DEBTOR,
            Case.status.in_(list(OPEN_STATUSES)),
            Case.assigned_collector_id.is_not(None),
            Case.assigned_collector_id.not_in(exclude_collectors),
        )
        .order_by(Case.id)
        .limit(500)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return None
    offered = [r for r in rows if _offers_a_plan(r[2])]
    debtor_id, value, _ = (offered or rows)[0]
    return int(debtor_id), service._phone(str(value))


def _offers_a_plan(treatment: object) -> bool:
    return (
        isinstance(treatment, dict)
        and treatment.get("kind") in ("instalments", "restructuring")
        and not treatment.get("refused")
    )
