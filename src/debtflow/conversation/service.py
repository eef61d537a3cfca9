"""Conversation intelligence on the platform: the trained models (loaded once per process,
trained from the shipped data the first time), and analysis of a conversation's turns."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from debtflow.config import get_settings
from debtflow.core.conversation.analysis import ConversationAnalyzer, Turn, summarise
from debtflow.core.conversation.labels import Speaker
from debtflow.core.conversation.scripts import CaseContext, load_library
from debtflow.core.conversation.speech import load_rules
from debtflow.core.conversation.trained import (
    ConversationModels,
    ModelFileError,
    load_models,
    save_models,
    train_models,
)
from debtflow.core.errors import InvalidInput


class ConversationModelError(InvalidInput):
    code = "conversation_model"
    status_code = 503


def model_dir() -> Path:
    """``DEBTFLOW_CONVERSATION_MODELS``, else ``DEBTFLOW_MODEL_DIR``, else
    ``<data_dir>/models/conversation``."""
    settings = get_settings()
    if settings.conversation_models:
        return settings.conversation_models
    legacy = os.environ.get("DEBTFLOW_MODEL_DIR")
    if legacy:
        return Path(legacy)
    return Path(settings.data_dir) / "models" / "conversation"


def shipped_data_dir() -> Path:
    return get_settings().shipped_data


def load_or_train(
    directory: Path | None = None,
    data: Path | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> ConversationModels:
    """The saved models; trained from the shipped data and saved when there are none yet.

    A model file that exists but cannot be used (another library version, damage) is an
    error, never silently replaced."""
    target = directory or model_dir()
    try:
        return load_models(target)
    except ModelFileError as error:
        if (target / "conversation-models.pkl").exists():
            raise ConversationModelError(str(error)) from error
    if progress is not None:
        progress(
            f"no trained model in {target}; training from the shipped data first "
            "(nothing is downloaded)"
        )
    models = train_models(data or shipped_data_dir(), hold_out_emotion=False, progress=progress)
    try:
        save_models(models, target)
    except OSError as error:
        if progress is not None:
            progress(f"warning: could not save the model ({error})")
    return models


def make_analyzer(
    models: ConversationModels, library: Path | None = None, rules: Path | None = None
) -> ConversationAnalyzer:
    return ConversationAnalyzer(models, load_library(library), load_rules(rules))


_ANALYZERS: dict[Path, ConversationAnalyzer] = {}


def analyzer() -> ConversationAnalyzer:
    """The process's analyzer over the configured models (loaded once)."""
    directory = model_dir()
    if directory not in _ANALYZERS:
        _ANALYZERS[directory] = make_analyzer(load_or_train(directory))
    return _ANALYZERS[directory]


def analyze(
    utterances: Sequence[tuple[str, str]], *, case: CaseContext | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Readings for (speaker, text) pairs in order, and the conversation summary."""
    turns = []
    for number, (speaker, text) in enumerate(utterances, start=1):
        if speaker not in ("debtor", "collector"):
            raise InvalidInput(f'utterance {number}: speaker must be "debtor" or "collector"')
        if not text.strip():
            raise InvalidInput(f"utterance {number}: text is empty")
        turns.append(Turn(Speaker(speaker), text))
    readings = analyzer().read(turns, case)
    return [r.as_json() for r in readings], summarise(readings).as_json()
