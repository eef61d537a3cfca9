"""Logging a contact through the JSON API against a gate decision: only the user who asked
the gate, and only while the case is still in their reach — a case reassigned between the
decision and the contact is answered like a missing decision (404) and nothing is logged.
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update

from debtflow.db import unit_of_work
from debtflow.models import Case, Collector, ContactAttempt, Debtor, Role


def _afternoon_zone(now: datetime) -> str:
    """A fixed-offset zone where it is early afternoon now, so the gate's quiet hours
    (debtor-local 22:00-08:00) never decide these tests."""
    offset = (13 - now.hour + 12) % 24 - 12  # hours east of UTC, -12..11
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


def _attempts(decision_id: int) -> int:
    with unit_of_work() as session:
        return session.scalar(
            select(func.count())
            .select_from(ContactAttempt)
            .where(ContactAttempt.decision_id == decision_id)
        )


def test_a_decision_is_logged_only_by_its_asker_while_the_case_is_theirs(demo_world):
    agent = demo_world.client(Role.ONLINE_AGENT)
    own = demo_world.cases_of_collector[demo_world.callers[Role.ONLINE_AGENT].collector_id]
    case_id = min(own - demo_world.debtor_case_ids)
    now = datetime.now(UTC)
    with unit_of_work() as session:
        debtor_id = session.scalar(select(Case.debtor_id).where(Case.id == case_id))
        session.execute(
            update(Debtor).where(Debtor.id == debtor_id).values(timezone=_afternoon_zone(now))
        )
        session.execute(update(Case).where(Case.id == case_id).values(status="active"))
    decision = agent.post(
        f"/api/cases/{case_id}/contact-decisions",
        json={"channel": "call", "planned_at": now.isoformat()},
    )
    assert decision.status_code == 201
    assert decision.json()["allowed"], decision.json()["reasons"]
    decision_id = decision.json()["id"]
    log = {"attempted_at": now.isoformat(), "connected": False, "outcome": "no_answer"}

    # another user — even one who may contact debtors — cannot use it
    other = demo_world.client(Role.FIELD_AGENT).post(
        f"/api/contact-decisions/{decision_id}/contacts", json=log
    )
    assert other.status_code == 404
    assert other.json()["error"] == "decision_not_found"

    # the case moves to another agent between the decision and the contact
    with unit_of_work() as session:
        session.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(assigned_collector_id=demo_world.agent2_collector_id)
        )
    moved = agent.post(f"/api/contact-decisions/{decision_id}/contacts", json=log)
    assert moved.status_code == 404
    assert moved.json()["error"] == "case_not_found"
    assert _attempts(decision_id) == 0

    # back with the agent: the same decision logs the contact
    with unit_of_work() as session:
        session.execute(
            update(Case)
            .where(Case.id == case_id)
            .values(assigned_collector_id=demo_world.callers[Role.ONLINE_AGENT].collector_id)
        )
    logged = agent.post(f"/api/contact-decisions/{decision_id}/contacts", json=log)
    assert logged.status_code == 201, logged.json()
    assert logged.json()["decision_id"] == decision_id
    assert _attempts(decision_id) == 1


def test_a_decision_records_the_party_the_caller_collects_for(demo_world):
    """In-house staff collect as "in-house"; a part-time collector and a law firm as their
    collector row's kind and code — taken from the signed-in user, never the request."""
    now = datetime.now(UTC)
    expected = {}
    with unit_of_work() as session:
        for role in (Role.ONLINE_AGENT, Role.PART_TIME_COLLECTOR, Role.PARTNER):
            collector_id = demo_world.callers[role].collector_id
            kind, code = session.execute(
                select(Collector.kind, Collector.code).where(Collector.id == collector_id)
            ).one()
            expected[role] = "in-house" if role == Role.ONLINE_AGENT else f"{kind.value}:{code}"
    for role, party in expected.items():
        case_id = min(demo_world.cases_of_collector[demo_world.callers[role].collector_id])
        answer = demo_world.client(role).post(
            f"/api/cases/{case_id}/contact-decisions",
            json={"channel": "sms", "planned_at": now.isoformat(), "collecting_party": "x"},
        )
        assert answer.status_code == 201, (role, answer.json())
        assert answer.json()["collecting_party"] == party
        assert answer.json()["requested_by"] == demo_world.callers[role].username
    assert expected[Role.PART_TIME_COLLECTOR] != expected[Role.PARTNER]
