"""Keyword-only builders for gate tests: a creditor with its rule pack, a debtor in a time
zone, collectors, a case (optionally assigned), a debt and contact points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from debtflow.core.case.lifecycle import CaseStatus
from debtflow.models import (
    Account,
    Case,
    Collector,
    ContactAttempt,
    ContactPoint,
    Creditor,
    Debtor,
    Role,
    User,
)
from debtflow.models.enums import CollectorKind, ContactKind, ContactParty, DebtorType, ProductType


@dataclass
class World:
    creditor: Creditor
    debtor: Debtor
    case: Case
    account: Account
    agent: Collector
    other_agent: Collector
    debtor_phone: ContactPoint
    third_party_phone: ContactPoint


def make_world(
    session: Session,
    *,
    pack: str = "cn-2025",
    timezone: str = "Asia/Shanghai",
    tag: str = "A",
    assigned: bool = True,
    third_party_authorised: bool = True,
) -> World:
    creditor = Creditor(code=f"BANK-{tag}", name=f"测试银行{tag}", compliance_pack=pack)
    debtor = Debtor(
        debtor_type=DebtorType.PERSON,
        name=f"张三{tag}",
        id_number=f"11010119900101{int.from_bytes(tag.encode(), 'big') % 10000:04d}",
        timezone=timezone,
    )
    agent = Collector(
        code=f"AG-{tag}-1",
        name="坐席一",
        kind=CollectorKind.ONLINE_AGENT,
        home_province="北京",
        home_city="北京",
    )
    other = Collector(
        code=f"AG-{tag}-2",
        name="坐席二",
        kind=CollectorKind.PART_TIME,
        home_province="北京",
        home_city="北京",
    )
    session.add_all([creditor, debtor, agent, other])
    session.flush()
    case = Case(
        creditor_id=creditor.id,
        debtor_id=debtor.id,
        status=CaseStatus.ACTIVE,
        assigned_collector_id=agent.id if assigned else None,
    )
    session.add(case)
    session.flush()
    account = Account(
        creditor_id=creditor.id,
        debtor_id=debtor.id,
        case_id=case.id,
        account_number=f"ACC-{tag}",
        product_type=ProductType.CONSUMER,
        original_fen=1_000_000,
        principal_fen=800_000,
        annual_rate_bp=1200,
        instalment_fen=100_000,
        instalment_count=10,
        first_due_date=date(2026, 1, 1),
        opened_on=date(2025, 12, 1),
    )
    debtor_phone = ContactPoint(
        debtor_id=debtor.id,
        kind=ContactKind.PHONE,
        value="+86 138-1234-5678",
        party=ContactParty.DEBTOR,
    )
    third_party_phone = ContactPoint(
        debtor_id=debtor.id,
        kind=ContactKind.PHONE,
        value="13900001111",
        party=ContactParty.THIRD_PARTY,
        contact_name="李四",
        relation="colleague",
        authorised=third_party_authorised,
    )
    session.add_all([account, debtor_phone, third_party_phone])
    session.flush()
    return World(creditor, debtor, case, account, agent, other, debtor_phone, third_party_phone)


def make_user(
    session: Session, *, username: str, role: Role, collector_id: int | None = None
) -> User:
    """A staff user (no password: services are called directly)."""
    user = User(username=username, display_name=username, role=role, collector_id=collector_id)
    session.add(user)
    session.flush()
    return user


def logged_contact(session: Session, world: World, *, channel: str, at: datetime) -> ContactAttempt:
    """A contact of ``world``'s agent that the gate allowed and that was logged at ``at``."""
    from debtflow.contact import service as contact_service

    decision = contact_service.request_contact(
        session,
        case_id=world.case.id,
        channel=channel,
        planned_at=at,
        collecting_party="in-house",
        requested_by="agent-1",
        collector_id=world.agent.id,
        now=at,
    )
    assert decision.allowed, decision.reasons
    return contact_service.log_contact(
        session, decision_id=decision.id, attempted_at=at, connected=True, now=at
    )
