"""Shared fixtures. Database tests run on SQLite and on PostgreSQL (127.0.0.1:5432): each
test in a transaction that is rolled back. Set DEBTFLOW_TEST_PG_URL to use another server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.db import get_engine, make_engine
from debtflow.migrate import upgrade

PG_ADMIN_URL = os.environ.get(
    "DEBTFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ("sqlite", "postgresql")


def _create_pg_database(prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server is part of the test environment: say so loudly
        pytest.fail(f"PostgreSQL is required for database tests ({PG_ADMIN_URL}): {exc}")
    finally:
        admin.dispose()
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _drop_pg_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def propensity_model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One small propensity model, trained once from the shipped data for the whole run, so
    that nightly cycles in tests do not each train the full model."""
    from debtflow.core.strategy import propensity
    from debtflow.strategy.training import read_uci_file

    path = tmp_path_factory.mktemp("model") / "propensity.pkl"
    labelled = read_uci_file(get_settings().training_data)
    model = propensity.train(
        labelled.history,
        labelled.pay,
        folds=2,
        settings=propensity.BoosterSettings(trees=40),
        source="test",
    )
    propensity.save(model, path)
    previous = os.environ.get("DEBTFLOW_PROPENSITY_MODEL")
    os.environ["DEBTFLOW_PROPENSITY_MODEL"] = str(path)
    get_settings.cache_clear()
    yield path
    if previous is None:
        os.environ.pop("DEBTFLOW_PROPENSITY_MODEL", None)
    else:
        os.environ["DEBTFLOW_PROPENSITY_MODEL"] = previous
    get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def conversation_models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Conversation models trained once on a few hundred shipped utterances and posts, so
    that app tests reaching the conversation API do not train the full models."""
    import csv
    import shutil

    from debtflow.core.conversation.trained import save_models, train_models

    shipped = get_settings().shipped_data
    root = tmp_path_factory.mktemp("conversation-data")
    for relative, rows in (
        ("zh_text/smp2020_ewect/usual_fit.csv", 600),
        ("zh_text/smp2020_ewect/usual_holdout.csv", 100),
        ("zh_text/smp2020_ewect/virus_train.csv", 100),
        ("zh_text/cped/test_part.csv", 100),
        ("zh_text/cped/valid_split.csv", 100),
    ):
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with (shipped / relative).open(encoding="utf-8", newline="") as source:
            reader = csv.DictReader(source)
            kept = [r for _, r in zip(range(rows), reader, strict=False)]
            fields = list(reader.fieldnames or [])
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(kept)
    (root / "zh_text/smp2020_ewect/virus_eval_labeled.json").write_text("[]", encoding="utf-8")
    shutil.copytree(shipped / "conversation", root / "conversation")
    directory = tmp_path_factory.mktemp("conversation-models")
    save_models(train_models(root, hold_out_emotion=True), directory)
    previous = os.environ.get("DEBTFLOW_CONVERSATION_MODELS")
    os.environ["DEBTFLOW_CONVERSATION_MODELS"] = str(directory)
    get_settings.cache_clear()
    yield directory
    if previous is None:
        os.environ.pop("DEBTFLOW_CONVERSATION_MODELS", None)
    else:
        os.environ["DEBTFLOW_CONVERSATION_MODELS"] = previous
    get_settings.cache_clear()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/debtflow-test.db"
    else:
        pg_name, url = _create_pg_database("debtflow_test")
    db_engine = make_engine(url)
    upgrade(db_engine)
    yield db_engine
    db_engine.dispose()
    if pg_name:
        _drop_pg_database(pg_name)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
    db_session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield db_session
    finally:
        db_session.close()
        outer.rollback()
        connection.close()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, empty database that the app and the CLI use through settings."""
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/debtflow-cli.db"
    else:
        pg_name, url = _create_pg_database("debtflow_cli")
    monkeypatch.setenv("DEBTFLOW_DATABASE_URL", url)
    monkeypatch.setenv("DEBTFLOW_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield url
    get_engine().dispose()
    get_settings.cache_clear()
    get_engine.cache_clear()
    if pg_name:
        _drop_pg_database(pg_name)
