"""A small portal world on the test's database: two debtors, each with a case whose
nightly strategy offered instalments, a debtor sign-in for each, and an online agent.
Evidence files go to a temporary data folder."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from debtflow.auth import service as auth_service
from debtflow.config import get_settings
from debtflow.models import Account, Case, Debtor, Role, User
from debtflow.models.enums import DebtorType, ProductType
from factories import make_creditor

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: "now" of the tests: 29 Nov 2026, 10:00 in Shanghai
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=SHANGHAI)
_serial = itertools.count(1)


@pytest.fixture(autouse=True)
def portal_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DEBTFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DEBTFLOW_PAYMENT_WEBHOOK_SECRET", "test-webhook-secret")
    # the development-only simulated provider is off unless enabled explicitly
    monkeypatch.setenv("DEBTFLOW_PAYMENT_PROVIDER", "simulated")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@dataclass
class DebtorWorld:
    case: Case
    debtor: Debtor
    user: User
    accounts: list[Account]


@dataclass
class PortalWorld:
    mine: DebtorWorld
    other: DebtorWorld
    agent: User
    manager: User


def add_debtor_case(
    session: Session,
    *,
    creditor_id: int,
    name: str,
    accounts: list[dict[str, int]],
    treatment: dict[str, object] | None,
    segment: str | None = "potential",
) -> DebtorWorld:
    n = next(_serial)
    debtor = Debtor(
        debtor_type=DebtorType.PERSON,
        name=name,
        id_number=f"11010119900101{n:04d}",
        timezone="Asia/Shanghai",
    )
    session.add(debtor)
    session.flush()
    case = Case(
        creditor_id=creditor_id,
        debtor_id=debtor.id,
        segment=segment,
        treatment=treatment,
        days_past_due=45,
        bucket="M2",
        outstanding_fen=sum(
            a["principal_fen"] + a["interest_fen"] + a["penalty_fen"] + a["fees_fen"]
            for a in accounts
        ),
    )
    session.add(case)
    session.flush()
    rows = []
    for i, figures in enumerate(accounts):
        account = Account(
            creditor_id=creditor_id,
            debtor_id=debtor.id,
            case_id=case.id,
            account_number=f"ACC-{n}-{i}",
            product_type=ProductType.CONSUMER,
            original_fen=figures["principal_fen"],
            annual_rate_bp=1800,
            instalment_count=12,
            first_due_date=date(2026, 1, 1),
            opened_on=date(2025, 12, 1),
            days_past_due=figures.get("days_past_due", 45),
            **{k: v for k, v in figures.items() if k != "days_past_due"},
        )
        session.add(account)
        rows.append(account)
    session.flush()
    user = auth_service.create_user(
        session,
        username=f"debtor-{n}",
        role=Role.DEBTOR,
        debtor_id=debtor.id,
        phone=f"1390000{n:04d}",
    )
    return DebtorWorld(case, debtor, user, rows)


#: the nightly step's headline for the shipped rules: potential -> 6 months recommended
TREATMENT = {
    "kind": "instalments",
    "term_months": 6,
    "repayment_months": 6,
    "refused": [],
}
#: two accounts: 842,000 fen owed, 150,000 fen a month now
ACCOUNTS = [
    {
        "principal_fen": 600_000,
        "interest_fen": 30_000,
        "penalty_fen": 10_000,
        "fees_fen": 2_000,
        "instalment_fen": 100_000,
        "days_past_due": 60,
    },
    {
        "principal_fen": 200_000,
        "interest_fen": 0,
        "penalty_fen": 0,
        "fees_fen": 0,
        "instalment_fen": 50_000,
        "days_past_due": 20,
    },
]


def make_world(session: Session) -> PortalWorld:
    creditor = make_creditor(session, code=f"PORTAL{next(_serial)}")
    mine = add_debtor_case(
        session, creditor_id=creditor.id, name="李小梅", accounts=ACCOUNTS, treatment=TREATMENT
    )
    other = add_debtor_case(
        session, creditor_id=creditor.id, name="王大山", accounts=ACCOUNTS, treatment=TREATMENT
    )
    n = next(_serial)
    agent = auth_service.create_user(
        session, username=f"auditor-{n}", role=Role.COMPLIANCE_AUDITOR, password="x" * 12
    )
    manager = auth_service.create_user(
        session, username=f"manager-{n}", role=Role.OPERATIONS_MANAGER, password="x" * 12
    )
    return PortalWorld(mine, other, agent, manager)


@pytest.fixture
def world(session: Session) -> PortalWorld:
    return make_world(session)


def sign_plan(
    session: Session,
    world: DebtorWorld,
    *,
    term_months: int | None = None,
    at: datetime = NOW,
    signer_name: str | None = None,
):
    """The debtor of ``world`` chooses ``term_months`` (None: the plan already chosen) and
    signs it at ``at`` in their own name; returns what ``sign_agreement`` returns."""
    from debtflow.portal import service

    if term_months is not None:
        service.choose_plan(
            session, case_id=world.case.id, user=world.user, term_months=term_months, now=at
        )
    return service.sign_agreement(
        session,
        case_id=world.case.id,
        user=world.user,
        signer_name=signer_name or world.debtor.name,
        read_confirmed=True,
        ip=None,
        user_agent=None,
        now=at,
    )
