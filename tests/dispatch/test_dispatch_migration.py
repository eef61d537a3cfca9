"""Migration 0006 upgrades and downgrades on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from debtflow.db import get_engine
from debtflow.migrate import downgrade, upgrade

TABLES = {
    "dispatch_assignment",
    "dispatch_override",
    "dispatch_outcome",
    "dispatch_model_state",
    "dispatch_daily_metrics",
    "field_route",
}


def test_0006_downgrades_and_upgrades_again(database_url):
    engine = get_engine()
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    downgrade(engine, "0005")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
