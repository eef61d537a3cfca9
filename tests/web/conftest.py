"""A demo database with a user for every role, served through the app in-process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import or_, select
from typer.testing import CliRunner

from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.auth.demo_users import create_demo_users
from debtflow.auth.deps import SESSION_COOKIE
from debtflow.cli.main import app as cli
from debtflow.db import unit_of_work
from debtflow.models import Case, Collector, Role, User
from debtflow.models.enums import CollectorKind

PASSWORD = "debtflow-demo"

#: role -> username in the demo world
ROLE_USERS = {
    Role.ADMIN: "admin",
    Role.OPERATIONS_MANAGER: "manager",
    Role.ONLINE_AGENT: "agent1",
    Role.FIELD_AGENT: "field1",
    Role.COMPLIANCE_AUDITOR: "auditor",
    Role.PART_TIME_COLLECTOR: "crowd1",
    Role.PARTNER: "lawfirm1",
    Role.DEBTOR: "debtor1",
}


@dataclass
class Caller:
    """One signed-in user: a bearer token for the API and a session cookie for pages."""

    role: Role
    username: str
    collector_id: int | None
    debtor_id: int | None
    api_token: str
    session_token: str
    csrf_token: str


@dataclass
class DemoWorld:
    callers: dict[Role, Caller]
    cases_of_collector: dict[int, set[int]]
    all_case_ids: set[int]
    debtor_case_ids: set[int]
    agent2_collector_id: int
    extra: dict[str, int] = field(default_factory=dict)

    def client(self, role: Role | None = None, *, cookie: bool = False) -> TestClient:
        client = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
        if role is not None:
            caller = self.callers[role]
            if cookie:
                client.cookies.set(SESSION_COOKIE, caller.session_token)
            else:
                client.headers["Authorization"] = f"Bearer {caller.api_token}"
        return client


def _link_extra_collector(session, *, kind: CollectorKind, username: str, role: Role) -> None:
    collector = session.scalars(
        select(Collector).where(Collector.kind == kind).order_by(Collector.id).limit(1)
    ).one()
    auth_service.create_user(
        session, username=username, role=role, password=PASSWORD, collector_id=collector.id
    )
    # a case nobody with a sign-in works (unassigned first)
    linked = select(User.collector_id).where(User.collector_id.is_not(None))
    case = session.scalars(
        select(Case)
        .where(or_(Case.assigned_collector_id.is_(None), Case.assigned_collector_id.not_in(linked)))
        .order_by(Case.assigned_collector_id.is_not(None), Case.id)
        .limit(1)
    ).one()
    case.assigned_collector_id = collector.id
    session.flush()


@pytest.fixture
def demo_world(database_url: str) -> Iterator[DemoWorld]:
    result = CliRunner().invoke(cli, ["demo", "--cases", "40", "--no-serve"])
    assert result.exit_code == 0, result.output
    with unit_of_work() as session:
        if session.scalars(select(User).where(User.username == "agent1")).first() is None:
            create_demo_users(session, password=PASSWORD)
        _link_extra_collector(
            session,
            kind=CollectorKind.PART_TIME,
            username="crowd1",
            role=Role.PART_TIME_COLLECTOR,
        )
        _link_extra_collector(
            session, kind=CollectorKind.LAW_FIRM, username="lawfirm1", role=Role.PARTNER
        )
    with unit_of_work() as session:
        callers = {}
        for role, username in ROLE_USERS.items():
            user = auth_service.get_user(session, username=username)
            token, web_session = auth_service.start_session(session, user=user)
            callers[role] = Caller(
                role=role,
                username=username,
                collector_id=user.collector_id,
                debtor_id=user.debtor_id,
                api_token=auth_service.issue_api_token(session, user=user),
                session_token=token,
                csrf_token=web_session.csrf_token,
            )
        cases = session.execute(select(Case.id, Case.assigned_collector_id, Case.debtor_id)).all()
        by_collector: dict[int, set[int]] = {}
        for case_id, collector_id, _ in cases:
            if collector_id is not None:
                by_collector.setdefault(collector_id, set()).add(case_id)
        debtor_id = callers[Role.DEBTOR].debtor_id
        agent2 = auth_service.get_user(session, username="agent2").collector_id
        assert agent2 is not None
    yield DemoWorld(
        callers=callers,
        cases_of_collector=by_collector,
        all_case_ids={c[0] for c in cases},
        debtor_case_ids={c[0] for c in cases if c[2] == debtor_id},
        agent2_collector_id=agent2,
    )
