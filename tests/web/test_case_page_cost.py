"""What one request costs (issue #8), on SQLite and PostgreSQL: the case page reads the case
once and its parts with one statement each, the strategy explanation comes from rows already
read and rules parsed once per process (an edited rule file is picked up), and a signed-in
request finds its user with one indexed statement."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.exc import DBAPIError

from debtflow import evidence
from debtflow.auth import service as auth_service
from debtflow.case import repository as case_repository
from debtflow.case import service as case_service
from debtflow.config import get_settings
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.strategy import segmentation
from debtflow.db import POOL_RECYCLE_S, get_engine, make_engine, unit_of_work, utcnow
from debtflow.evidence.store import committed_tree_size, reserve_leaves
from debtflow.models import Case, Debtor, Role
from debtflow.strategy import service as strategy_service
from debtflow.workbench import service as workbench_service
from sql_statements import statements

#: statements of GET /cases/{id} for an agent: session+user, case row (the history's and the
#: notes' scope checks take the case from the session), accounts, payments, promises,
#: contacts, status changes, third-party contact points, notes (16 before issue #8, then 12,
#: then 9), and what the debtor did in the portal: disputes in force, open legal-advice
#: requests, the signed plan with its instalments and what was paid towards it (one each;
#: a dispute adds one for the portal disputes behind it)
CASE_PAGE_STATEMENTS = 12


def _agent_cases(world) -> list[int]:  # type: ignore[no-untyped-def]
    agent = world.callers[Role.ONLINE_AGENT].collector_id
    return sorted(world.cases_of_collector[agent] - world.debtor_case_ids)


def test_case_page_statements_and_strategy_words(demo_world):
    agent = demo_world.client(Role.ONLINE_AGENT, cookie=True)
    planned = []
    with unit_of_work() as session:
        for case_id in _agent_cases(demo_world):
            case = session.get(Case, case_id)
            assert case is not None
            if case.segment is not None and case.propensity is not None:
                planned.append(case_id)
    assert planned, "the demo plans some of the agent's cases"
    case_id = planned[0]
    agent.get(f"/cases/{case_id}")  # warm: templates compiled, rules parsed
    with statements(get_engine()) as seen:
        page = agent.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert len(seen) == CASE_PAGE_STATEMENTS, "\n".join(seen)
    # users' password hashes are read by the sign-in check alone (not, e.g., for the names
    # of the notes' authors)
    assert sum("password_hash" in statement for statement in seen) == 1, "\n".join(seen)
    with unit_of_work() as session:
        explanation = strategy_service.explain_case(session, case_id=case_id)
    for line in explanation.zh.splitlines():
        assert str(escape(line)) in page.text

    # an unknown or foreign case still costs nothing beyond the refusal
    assert agent.get("/cases/999999999").status_code == 404


def test_strategy_view_says_what_explain_case_says(demo_world):
    compared = 0
    with unit_of_work() as session:
        for case_id in _agent_cases(demo_world):
            case, _debtor, creditor, _collector = case_service.get_row(session, case_id=case_id)
            accounts = case_service.get_with_accounts(session, case_id=case_id).accounts
            view = workbench_service.strategy_view(case=case, creditor=creditor, accounts=accounts)
            if case.segment is None or case.propensity is None:
                assert not view.planned and view.zh == () and view.en == ()
                continue
            explanation = strategy_service.explain_case(session, case_id=case_id)
            assert view.planned
            assert view.segment == explanation.segment
            assert view.reason_codes == explanation.reason_codes
            assert view.propensity == explanation.propensity
            assert view.zh == tuple(explanation.zh.splitlines())
            assert view.en == tuple(explanation.en.splitlines())
            compared += 1
    assert compared > 0


@pytest.fixture
def operator_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An operator's copy of the shipped segmentation rules named in the settings."""
    path = tmp_path / "segmentation.toml"
    shipped = Path(segmentation.__file__).parent / "rules" / "segmentation-v1.toml"
    shutil.copyfile(shipped, path)
    monkeypatch.setenv("DEBTFLOW_SEGMENTATION_RULES", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_strategy_rules_are_parsed_once_and_edits_are_picked_up(operator_rules: Path):
    first, treatment = strategy_service.strategy_rules()
    assert first.version == "segmentation-v1"
    again, treatment_again = strategy_service.strategy_rules()
    assert again is first and treatment_again is treatment, "unchanged files: no re-parse"

    text = operator_rules.read_text(encoding="utf-8")
    operator_rules.write_text(
        text.replace('version = "segmentation-v1"', 'version = "segmentation-v1-edited"'),
        encoding="utf-8",
    )
    stat = operator_rules.stat()
    os.utime(operator_rules, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    edited, _ = strategy_service.strategy_rules()
    assert edited.version == "segmentation-v1-edited"
    assert edited == strategy_service._parse_strategy_rules()[0]

    operator_rules.write_text("version = [", encoding="utf-8")
    with pytest.raises(strategy_service.InvalidStrategyRules, match="not valid TOML"):
        strategy_service.strategy_rules()
    operator_rules.unlink()
    with pytest.raises(strategy_service.InvalidStrategyRules, match="not found"):
        strategy_service.strategy_rules()


def test_signed_in_user_is_found_with_one_statement(session, engine):
    user = auth_service.create_user(
        session, username="lookup1", role=Role.OPERATIONS_MANAGER, password="long-enough-pw-1"
    )
    now = utcnow()
    cookie, web_session = auth_service.start_session(session, user=user, now=now)
    api = auth_service.issue_api_token(session, user=user, now=now)
    session.flush()
    session.expunge_all()
    with statements(engine) as seen:
        found = auth_service.user_for_session(session, token=cookie, now=now)
    assert found is not None and found[0].id == user.id and found[1].id == web_session.id
    assert len(seen) == 1
    session.expunge_all()
    with statements(engine) as seen:
        bearer = auth_service.user_for_api_token(session, token=api, now=now)
    assert bearer is not None and bearer.id == user.id
    assert len(seen) == 1

    # a deactivated user is found by neither, an ended session and a wrong token neither
    stored = session.scalars(select(type(user)).where(type(user).id == user.id)).one()
    stored.active = False
    session.flush()
    assert auth_service.user_for_session(session, token=cookie, now=now) is None
    assert auth_service.user_for_api_token(session, token=api, now=now) is None
    stored.active = True
    session.flush()
    assert auth_service.user_for_session(session, token=cookie + "x", now=now) is None
    auth_service.end_session(session, token=cookie, now=now)
    assert auth_service.user_for_session(session, token=cookie, now=now) is None
    assert auth_service.user_for_api_token(session, token=api, now=now) is not None


def test_a_case_is_read_once_per_request_unless_it_is_locked(demo_world):
    case_id = _agent_cases(demo_world)[0]
    with unit_of_work() as session:
        with statements(get_engine()) as seen:
            first = case_repository.get(session, case_id=case_id)
            again = case_repository.get(session, case_id=case_id)
        assert first is not None and again is first
        assert len(seen) == 1, "the second scope check reads the session's copy"
        with statements(get_engine()) as seen:
            locked = case_repository.get(session, case_id=case_id, for_update=True)
        assert locked is first
        assert seen, "a locked read always goes to the database"
        assert case_repository.get(session, case_id=999999999) is None
        assert case_repository.get(session, case_id=999999999, for_update=True) is None


def test_an_evidence_append_locks_and_sizes_the_log_in_one_statement(session, engine):
    before = committed_tree_size(session)
    with statements(engine) as seen:
        appended = evidence.append(
            session, kind="message", case_id=1, occurred_at=utcnow(), payload={"n": 1}
        )
    assert appended.index == before
    assert committed_tree_size(session) == before + 1
    state_updates = [s for s in seen if "evidence_log_state" in s]
    assert len(state_updates) == 1, state_updates
    with pytest.raises(ValueError):
        reserve_leaves(session, 0)
    assert committed_tree_size(session) == before + 1


def test_a_dropped_postgresql_connection_is_replaced_without_pre_ping():
    url = os.environ.get(
        "DEBTFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    engine = make_engine(url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        assert engine.pool._pre_ping is False  # no round trip before each checkout
        assert engine.pool._recycle == POOL_RECYCLE_S
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as connection:  # the server drops the pooled connection
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated, "the dead connection is discarded"
        with engine.connect() as connection:  # the next request connects afresh
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()
        admin.dispose()


def test_a_locked_read_refreshes_a_case_the_session_already_holds(session) -> None:
    """Another transaction changed the row after this session read it: the locked read (what
    every writer takes) must see the row as it is now, not the session's old copy."""
    from sqlalchemy import update as sql_update

    from debtflow.case import repository as case_repository
    from debtflow.models import Case

    case = session.scalars(select(Case).order_by(Case.id)).first()
    if case is None:
        from compliance.world import make_world

        case = make_world(session).case
    before = case.days_past_due
    # what a concurrent writer's committed UPDATE looks like to this session: the row
    # changes underneath the copy it holds
    session.execute(
        sql_update(Case)
        .where(Case.id == case.id)
        .values(days_past_due=before + 17)
        .execution_options(synchronize_session=False)
    )
    assert case_repository.get(session, case_id=case.id).days_past_due == before  # map copy
    locked = case_repository.get(session, case_id=case.id, for_update=True)
    assert locked is case and locked.days_past_due == before + 17


#: statements of POST /api/contact-decisions/{id}/contacts on PostgreSQL, counted at the
#: cursor (the evidence leaf and nodes go in by COPY at commit, not counted): token+user,
#: the debtor's lock with the decision, the case's reach and the gate's view of the case, use
#: and override, contact history with restrictions, the attempt, the evidence log's
#: reservation
CONTACT_LOG_STATEMENTS_PG = 6


def test_a_contact_log_locks_its_debtor_and_reads_the_case_in_one_statement(demo_world):
    agent = demo_world.client(Role.ONLINE_AGENT)
    case_id = _agent_cases(demo_world)[0]
    now = datetime.now(UTC)
    offset = (13 - now.hour + 12) % 24 - 12  # a zone where it is early afternoon now
    with unit_of_work() as session:
        case = session.get(Case, case_id)
        assert case is not None
        session.execute(
            update(Debtor)
            .where(Debtor.id == case.debtor_id)
            .values(timezone="Etc/GMT" + (f"{-offset:+d}" if offset else ""))
        )
        case.status = "active"
    decision = agent.post(
        f"/api/cases/{case_id}/contact-decisions",
        json={"channel": "call", "planned_at": now.isoformat()},
    )
    assert decision.status_code == 201 and decision.json()["allowed"], decision.json()
    with statements(get_engine()) as seen:
        logged = agent.post(
            f"/api/contact-decisions/{decision.json()['id']}/contacts",
            json={"attempted_at": now.isoformat(), "connected": False, "outcome": "no_answer"},
        )
    assert logged.status_code == 201, logged.json()
    if get_engine().dialect.name == "postgresql":
        locking = [s for s in seen if "FOR UPDATE" in s]
        assert len(locking) == 1, locking
        assert "creditor" in locking[0] and "contact_decision.requested_by" in locking[0]
        assert not any("contact_decision.requested_by" in s for s in seen if s != locking[0])
        assert len(seen) == CONTACT_LOG_STATEMENTS_PG, "\n".join(seen)
    else:  # SQLite: the write lock is an UPDATE of the debtor row, then the same read
        assert sum(s.lstrip().upper().startswith("UPDATE DEBTOR") for s in seen) == 1


def test_a_closed_case_page_proposes_no_plan_and_says_why(demo_world):
    """As ``case explain`` does: a closed case's page shows no plan and quotes none."""
    agent = demo_world.client(Role.ONLINE_AGENT, cookie=True)
    with unit_of_work() as session:
        planned = [
            case_id
            for case_id in _agent_cases(demo_world)
            if (case := session.get(Case, case_id)) is not None and case.segment is not None
        ]
        case_id = planned[0]
        before = agent.get(f"/cases/{case_id}").text
        case_service.transition(session, case_id=case_id, to=CaseStatus.CLOSED, reason="test")
    with unit_of_work() as session:
        case, _debtor, creditor, _collector = case_service.get_row(session, case_id=case_id)
        accounts = case_service.get_with_accounts(session, case_id=case_id).accounts
        view = workbench_service.strategy_view(case=case, creditor=creditor, accounts=accounts)
        explanation = strategy_service.explain_case(session, case_id=case_id)
    assert view.plan is None and view.zh == tuple(explanation.zh.splitlines())
    assert view.zh[0] == f"案件{case_id}已关闭：不适用任何还款方案。"
    page = agent.get(f"/cases/{case_id}").text
    assert "不适用任何还款方案" in page and "不适用任何还款方案" not in before
