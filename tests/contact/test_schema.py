"""The database itself refuses a contact attempt without a permitting decision, and the
migration upgrades (keeping earlier attempts) and downgrades on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from compliance.world import make_world
from debtflow.compliance import service as compliance_service
from debtflow.contact import service
from debtflow.db import make_engine
from debtflow.migrate import downgrade, upgrade
from debtflow.models import ContactDecision

SHANGHAI = ZoneInfo("Asia/Shanghai")
WHEN = datetime(2026, 11, 20, 23, 0, tzinfo=SHANGHAI)  # quiet hours: denied

INSERT = text(
    "INSERT INTO contact_attempt (case_id, debtor_id, channel, direction, party, attempted_at, "
    "connected, conversation, recorded_at, decision_id, collecting_party) VALUES "
    "(:case_id, :debtor_id, :channel, 'outbound', 'debtor', :at, :yes, :no, :at, :decision_id, "
    "'in-house')"
)


def _insert(session, world, decision_id, channel="call"):
    with session.begin_nested():
        session.execute(
            INSERT,
            {
                "case_id": world.case.id,
                "debtor_id": world.debtor.id,
                "channel": channel,
                "at": WHEN.replace(tzinfo=None) if session.bind.dialect.name == "sqlite" else WHEN,
                "yes": True,
                "no": False,
                "decision_id": decision_id,
            },
        )


def test_attempt_without_decision_is_refused_by_the_database(session):
    world = make_world(session)
    # NOT NULL / foreign key, or the permission trigger (PostgreSQL runs it first)
    with pytest.raises(DBAPIError):
        _insert(session, world, None)
    with pytest.raises(DBAPIError):
        _insert(session, world, 99_999_999)


def test_attempt_on_a_denied_decision_is_refused_by_the_database_until_overridden(session):
    world = make_world(session)
    denied = service.request_contact(
        session,
        case_id=world.case.id,
        channel="call",
        planned_at=WHEN,
        collecting_party="in-house",
        requested_by="agent-1",
        now=WHEN,
    )
    assert not denied.allowed
    with pytest.raises(DBAPIError, match="needs an allowed"):
        _insert(session, world, denied.id)
    compliance_service.grant_override(
        session,
        decision_id=denied.id,
        supervisor="supervisor-li",
        written_reason="Debtor asked for a call after work to settle today",
        now=WHEN,
    )
    with pytest.raises(DBAPIError, match="needs an allowed"):  # channel differs from decision
        _insert(session, world, denied.id, channel="sms")
    _insert(session, world, denied.id)
    with pytest.raises(IntegrityError):  # one attempt per decision
        _insert(session, world, denied.id)


def test_decisions_are_never_updated(session):
    world = make_world(session)
    denied = service.request_contact(
        session,
        case_id=world.case.id,
        channel="call",
        planned_at=WHEN,
        collecting_party="in-house",
        requested_by="agent-1",
        now=WHEN,
    )
    with pytest.raises(DBAPIError, match="never updated"), session.begin_nested():
        session.execute(
            text("UPDATE contact_decision SET allowed = :yes WHERE id = :id"),
            {"yes": True, "id": denied.id},
        )


def test_migration_keeps_earlier_attempts_and_downgrades(database_url):
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0001")
        with Session(engine) as session:
            world_ids = session.execute(
                text(
                    "INSERT INTO creditor (code, name, compliance_pack, max_relief_bp, "
                    "max_term_months, min_first_payment_bp, created_at) VALUES "
                    "('OLD', 'old bank', 'cn-2025', 1, 1, 1, :at) RETURNING id"
                ),
                {"at": WHEN},
            ).scalar_one()
            debtor_id = session.execute(
                text(
                    "INSERT INTO debtor (debtor_type, name, id_number, timezone, main_customers, "
                    "created_at, updated_at) VALUES ('person', 'x', '1', 'Asia/Shanghai', '[]', "
                    ":at, :at) RETURNING id"
                ),
                {"at": WHEN},
            ).scalar_one()
            case_id = session.execute(
                text(
                    'INSERT INTO "case" (creditor_id, debtor_id, status, bucket, days_past_due, '
                    "outstanding_fen, channel, overdue_cause, opened_at, updated_at) VALUES "
                    "(:c, :d, 'active', 'M1', 10, 100, 'online', 'unknown', :at, :at) "
                    "RETURNING id"
                ),
                {"c": world_ids, "d": debtor_id, "at": WHEN},
            ).scalar_one()
            session.execute(
                text(
                    "INSERT INTO contact_attempt (case_id, debtor_id, channel, direction, party, "
                    "attempted_at, connected, conversation, recorded_at) VALUES "
                    "(:c, :d, 'call', 'outbound', 'debtor', :at, :yes, :no, :at)"
                ),
                {"c": case_id, "d": debtor_id, "at": WHEN, "yes": True, "no": False},
            )
            session.commit()
        upgrade(engine, "0002")  # this migration alone: later ones belong to other topics
        with Session(engine) as session:
            legacy = session.scalars(select(ContactDecision)).one()
            assert legacy.pack_version == "before-gate" and legacy.allowed
            attempt_decision = session.execute(
                text("SELECT decision_id, collecting_party FROM contact_attempt")
            ).one()
            assert tuple(attempt_decision) == (legacy.id, "unknown")
            # new decisions get fresh ids after the back-filled ones (sequence moved on)
            fresh = ContactDecision(
                debtor_id=debtor_id,
                case_id=case_id,
                collecting_party="in-house",
                requested_by="agent",
                channel="sms",
                target="debtor",
                purpose="collection",
                planned_at=WHEN,
                allowed=True,
                reasons=[],
                pack_version="cn-2025.1",
                expires_at=WHEN,
            )
            session.add(fresh)
            session.flush()
            assert fresh.id > legacy.id
            session.rollback()
        downgrade(engine, "0001")
        names = set(inspect(engine).get_table_names())
        assert "contact_decision" not in names and "deny_override" not in names
        columns = {c["name"] for c in inspect(engine).get_columns("contact_attempt")}
        assert "decision_id" not in columns
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM contact_attempt")).scalar() == 1
        upgrade(engine, "0002")
        assert "contact_decision" in set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
