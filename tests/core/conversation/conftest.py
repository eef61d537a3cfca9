"""Fixtures: a small copy of the shipped data and models trained on it once per session."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from debtflow.core.conversation.analysis import ConversationAnalyzer
from debtflow.core.conversation.scripts import load_library
from debtflow.core.conversation.speech import load_rules
from debtflow.core.conversation.trained import ConversationModels, save_models, train_models

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "data"


def _head_csv(source: Path, target: Path, rows: int) -> None:
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        kept = [row for _, row in zip(range(rows), reader, strict=False)]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(kept)


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data/ directory with the shipped layout but a few hundred Weibo posts."""
    root = tmp_path_factory.mktemp("conversation-data")
    weibo = SHIPPED / "zh_text" / "smp2020_ewect"
    _head_csv(weibo / "usual_fit.csv", root / "zh_text/smp2020_ewect/usual_fit.csv", 900)
    _head_csv(weibo / "usual_holdout.csv", root / "zh_text/smp2020_ewect/usual_holdout.csv", 200)
    _head_csv(weibo / "virus_train.csv", root / "zh_text/smp2020_ewect/virus_train.csv", 200)
    (root / "zh_text/smp2020_ewect/virus_eval_labeled.json").write_text("[]", encoding="utf-8")
    _head_csv(SHIPPED / "zh_text/cped/test_part.csv", root / "zh_text/cped/test_part.csv", 200)
    _head_csv(SHIPPED / "zh_text/cped/valid_split.csv", root / "zh_text/cped/valid_split.csv", 200)
    shutil.copytree(SHIPPED / "conversation", root / "conversation")
    return root


@pytest.fixture(scope="session")
def small_models(small_data: Path) -> ConversationModels:
    return train_models(small_data, hold_out_emotion=True)


@pytest.fixture(scope="session")
def model_dir(small_models: ConversationModels, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("models")
    save_models(small_models, directory)
    return directory


@pytest.fixture(scope="session")
def analyzer(small_models: ConversationModels) -> ConversationAnalyzer:
    return ConversationAnalyzer(small_models, load_library(), load_rules())
