"""Every migration applies, undoes and re-applies cleanly on SQLite and PostgreSQL, and the
schema they build matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from debtflow.db import Base, get_engine
from debtflow.migrate import downgrade, upgrade


def test_upgrade_downgrade_upgrade(database_url):
    engine = get_engine()
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"case", "account", "bucket_transition"} <= tables
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) == tables


def test_migrations_match_the_models(database_url):
    engine = get_engine()
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_a_rebuilt_table_keeps_the_rows_that_point_at_it(database_url):
    """0015 rebuilds portal_plan on SQLite (batch mode) while plan_instalment rows point at
    it: with foreign keys on, every database holding a plan refused the migration. Down to
    0014 and up again with a signed plan and its instalments in place."""
    from datetime import UTC, date, datetime

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from compliance.world import make_user, make_world
    from debtflow.models import PlanInstalment, PortalPlan, Role

    engine = get_engine()
    upgrade(engine)
    with Session(engine) as session:
        world = make_world(session)
        user = make_user(session, username="debtor-1", role=Role.DEBTOR)
        plan = PortalPlan(
            case_id=world.case.id,
            debtor_id=world.debtor.id,
            status="signed",
            term_months=2,
            rules_version="v",
            start_on=date(2026, 11, 1),
            principal_fen=20_000,
            interest_fen=0,
            penalty_fen=0,
            current_monthly_fen=10_000,
            relief_fen=0,
            down_payment_fen=0,
            total_fen=20_000,
            chosen_at=datetime(2026, 11, 1, tzinfo=UTC),
            chosen_by=user.id,
            agreement_text="…",
        )
        session.add(plan)
        session.flush()
        for number, due in ((1, date(2026, 12, 1)), (2, date(2027, 1, 1))):
            session.add(
                PlanInstalment(
                    plan_id=plan.id,
                    number=number,
                    due_on=due,
                    principal_fen=10_000,
                    interest_fen=0,
                    amount_fen=10_000,
                )
            )
        session.commit()
    downgrade(engine, "0014")
    upgrade(engine)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(PlanInstalment)) == 2
        assert session.scalar(select(PortalPlan.status)) == "signed"
    if engine.dialect.name == "sqlite":  # foreign keys are enforced again afterwards
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_0016_leaves_the_legal_advice_requests_of_a_0015_database_open(database_url):
    """A database built at 0015 with a legal-advice request in it: after 0016 the request is
    still there, open, with no handling recorded, and may then be handled; down to 0015
    again keeps the row."""
    from datetime import UTC, datetime

    from sqlalchemy import select, text
    from sqlalchemy.orm import Session

    from compliance.world import make_world
    from debtflow.models import LegalAdviceRequest

    engine = get_engine()
    upgrade(engine, "0015")
    assert "handled_at" not in {
        c["name"] for c in inspect(engine).get_columns("legal_advice_request")
    }
    with Session(engine) as session:
        world = make_world(session)
        session.commit()
        case_id, debtor_id = world.case.id, world.debtor.id
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO legal_advice_request (case_id, debtor_id, question, contact_channel,"
                " contact_time, status, created_at) VALUES (:case, :debtor, '利息是否合法？',"
                " 'call', '', 'open', :at)"
            ),
            {"case": case_id, "debtor": debtor_id, "at": datetime(2026, 11, 1, tzinfo=UTC)},
        )
    upgrade(engine)
    columns = {c["name"]: c for c in inspect(engine).get_columns("legal_advice_request")}
    assert all(columns[name]["nullable"] for name in ("handled_at", "handled_by", "handled_note"))
    with Session(engine) as session:
        row = session.scalars(select(LegalAdviceRequest)).one()
        assert (row.status, row.handled_at, row.handled_by, row.handled_note) == (
            "open",
            None,
            None,
            None,
        )
        assert row.question == "利息是否合法？"
        row.status, row.handled_by, row.handled_note = "handled", "manager", "已电话解答"
        row.handled_at = datetime(2026, 11, 2, tzinfo=UTC)
        session.commit()
    downgrade(engine, "0015")
    with engine.connect() as connection:
        assert connection.execute(
            text("SELECT question, status FROM legal_advice_request")
        ).all() == [("利息是否合法？", "handled")]
