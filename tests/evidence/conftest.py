"""Evidence tests: settings point the signing key and the file store at a temporary folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from debtflow.config import get_settings

APPEND_ONLY = ("evidence_leaf", "evidence_node", "evidence_tree_head", "evidence_cosignature")


@pytest.fixture(autouse=True)
def evidence_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DEBTFLOW_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def drop_guards() -> Callable[[Session], None]:
    return drop_append_only_guards


def drop_append_only_guards(session: Session) -> None:
    """What an attacker with database access does first (inside the test's transaction)."""
    if session.get_bind().dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("update", "delete"):
                session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}"))
        session.execute(text("DROP TRIGGER IF EXISTS evidence_log_state_no_shrink"))
        session.execute(text("DROP TRIGGER IF EXISTS evidence_signing_key_retire_only"))
        session.execute(text("DROP TRIGGER IF EXISTS evidence_signing_key_no_delete"))
    else:
        for table in (*APPEND_ONLY, "evidence_log_state", "evidence_signing_key"):
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER ALL"))
