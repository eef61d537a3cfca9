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
