"""Builders for field-app tests: a creditor, a debtor with a located home in 杭州, an online agent's
case, two field agents (one serving 杭州), their users, a manager and an auditor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from debtflow.core.case.lifecycle import CaseStatus
from debtflow.models import (
    Account,
    Address,
    Case,
    Collector,
    Creditor,
    Debtor,
    FieldRoute,
    Role,
    User,
)
from debtflow.models.enums import CollectorKind, DebtorType, ProductType

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)
HOME = (30.274100, 120.155100)  # the debtor's home, 杭州


def at(hour: int, minute: int = 0, *, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@dataclass
class FieldWorld:
    creditor: Creditor
    debtor: Debtor
    case: Case
    online: Collector
    field: Collector
    other_field: Collector
    agent_user: User
    field_user: User
    other_field_user: User
    manager: User
    auditor: User

    def route(self, session: Session, *, collector: Collector, case_ids: list[int]) -> FieldRoute:
        """A stored route of DAY through ``case_ids`` (what the nightly step writes)."""
        stops = [
            {
                "case_id": cid,
                "arrive": at(10 + i).isoformat(),
                "start": at(10 + i).isoformat(),
                "end": at(10 + i, 45).isoformat(),
                "travel_seconds": 600,
            }
            for i, cid in enumerate(case_ids)
        ]
        route = FieldRoute(
            collector_id=collector.id,
            day=DAY,
            stops=stops,
            unvisitable=[],
            leave_at=at(9),
            back_at=at(17),
            travel_seconds=600 * len(stops),
            inputs_key="0" * 64,
        )
        session.add(route)
        session.flush()
        return route


def _user(session: Session, name: str, role: Role, collector: Collector | None = None) -> User:
    user = User(
        username=name,
        display_name=name,
        role=role,
        collector_id=collector.id if collector is not None else None,
    )
    session.add(user)
    return user


def make_field_world(session: Session, *, tag: str = "F") -> FieldWorld:
    creditor = Creditor(code=f"BANK-{tag}", name=f"外访银行{tag}", compliance_pack="cn-2025")
    debtor = Debtor(
        debtor_type=DebtorType.PERSON,
        name="王小明",
        id_number=f"3301011990010{abs(hash(tag)) % 100000:05d}",
        timezone="Asia/Shanghai",
    )
    online = Collector(
        code=f"ON-{tag}",
        name="坐席",
        kind=CollectorKind.ONLINE_AGENT,
        home_province="浙江",
        home_city="杭州",
        regions=["全国"],
    )
    field = Collector(
        code=f"FD-{tag}-1",
        name="外访一",
        kind=CollectorKind.FIELD_AGENT,
        home_province="浙江",
        home_city="杭州",
        regions=["杭州"],
        latitude=30.25,
        longitude=120.17,
    )
    other_field = Collector(
        code=f"FD-{tag}-2",
        name="外访二",
        kind=CollectorKind.FIELD_AGENT,
        home_province="江苏",
        home_city="南京",
        regions=["南京"],
        latitude=32.06,
        longitude=118.79,
    )
    session.add_all([creditor, debtor, online, field, other_field])
    session.flush()
    session.add(
        Address(
            debtor_id=debtor.id,
            kind="home",
            province="浙江",
            city="杭州",
            line="西湖区文三路1号",
            latitude=HOME[0],
            longitude=HOME[1],
        )
    )
    case = Case(
        creditor_id=creditor.id,
        debtor_id=debtor.id,
        status=CaseStatus.ACTIVE,
        assigned_collector_id=online.id,
        outstanding_fen=812_345,
    )
    session.add(case)
    session.flush()
    session.add(
        Account(
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
    )
    world = FieldWorld(
        creditor=creditor,
        debtor=debtor,
        case=case,
        online=online,
        field=field,
        other_field=other_field,
        agent_user=_user(session, f"agent-{tag}", Role.ONLINE_AGENT, online),
        field_user=_user(session, f"field-{tag}", Role.FIELD_AGENT, field),
        other_field_user=_user(session, f"field2-{tag}", Role.FIELD_AGENT, other_field),
        manager=_user(session, f"manager-{tag}", Role.OPERATIONS_MANAGER),
        auditor=_user(session, f"auditor-{tag}", Role.COMPLIANCE_AUDITOR),
    )
    session.flush()
    return world
