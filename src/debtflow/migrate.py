"""Apply Alembic migrations from the installed package (no alembic.ini needed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` to ``revision`` (idempotent)."""
    _migrate(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, lambda config: command.downgrade(config, revision))


class MigrationLeftBrokenReferences(RuntimeError):
    """A migration would leave rows pointing at rows that do not exist (SQLite)."""


def _migrate(engine: Engine, action: Callable[[Config], None]) -> None:
    """Run the migration in one transaction. On SQLite, as its documentation prescribes for
    schema changes: foreign keys off before the transaction (a table rebuilt by a batch
    migration is dropped while other rows still point at it — with foreign keys on, every
    database holding such rows would refuse the migration), ``foreign_key_check`` before the
    commit (nothing may point nowhere afterwards), foreign keys on again after it."""
    config = alembic_config()
    with engine.connect() as connection:
        raw = (
            connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
        )
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # outside any transaction, or it is ignored
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                action(config)
                if raw is not None:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise MigrationLeftBrokenReferences(
                            f"the migration would leave {len(broken)} rows pointing at rows "
                            f"that do not exist (table, rowid, parent): {broken[:5]}"
                        )
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
