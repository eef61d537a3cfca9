"""Field-app fixtures: the evidence file store in a temporary folder, and a field world
(see ``world.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from debtflow.config import get_settings
from field.world import FieldWorld, make_field_world


@pytest.fixture(autouse=True)
def field_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DEBTFLOW_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def world(session: Session) -> FieldWorld:
    return make_field_world(session)
