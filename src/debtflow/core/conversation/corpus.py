"""Readers for the labelled text the conversation models learn from (stdlib only).

Emotion: SMP2020-EWECT Weibo posts (`id,text,label` CSV or the organisers' JSON list) and CPED
dialogue utterances, each mapped onto the five debtflow emotions.  Collection: the project's
own labelled debtor and collector utterance sets (`data/conversation/*.csv`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from debtflow.core.conversation.labels import Emotion, Intent, OverdueCause, Violation

#: SMP2020-EWECT label -> debtflow emotion ("neural" is the organisers' spelling; surprise is
#: left out because it has no collection meaning).
SMP_EMOTION_MAP: dict[str, Emotion] = {
    "angry": Emotion.ANGRY,
    "sad": Emotion.SAD,
    "fear": Emotion.ANXIOUS,
    "neural": Emotion.NEUTRAL,
    "neutral": Emotion.NEUTRAL,
    "happy": Emotion.POSITIVE,
}

#: CPED `Emotion` -> debtflow emotion (astonished and negative-other are left out).
CPED_EMOTION_MAP: dict[str, Emotion] = {
    "anger": Emotion.ANGRY,
    "disgust": Emotion.ANGRY,
    "sadness": Emotion.SAD,
    "depress": Emotion.SAD,
    "worried": Emotion.ANXIOUS,
    "fear": Emotion.ANXIOUS,
    "neutral": Emotion.NEUTRAL,
    "happy": Emotion.POSITIVE,
    "relaxed": Emotion.POSITIVE,
    "grateful": Emotion.POSITIVE,
    "positive-other": Emotion.POSITIVE,
}


class CorpusError(ValueError):
    """A labelled file is missing, unreadable or has the wrong columns."""


@dataclass(frozen=True)
class EmotionExample:
    text: str
    emotion: Emotion


@dataclass(frozen=True)
class DebtorExample:
    text: str
    intent: Intent
    cause: OverdueCause | None
    split: str
    group: str


@dataclass(frozen=True)
class CollectorExample:
    text: str
    violations: frozenset[Violation]
    split: str
    group: str


def _open_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.DictReader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CorpusError(f"{path}: cannot read as UTF-8 CSV ({exc})") from exc


def read_emotion_file(path: Path) -> list[EmotionExample]:
    """Read an emotion-labelled file in any of the shipped layouts; unmapped labels are dropped.

    Layouts: SMP CSV (`text,label`), SMP JSON (list of `{content, label}`), CPED CSV
    (`Utterance,Emotion`), or a plain CSV with `text,emotion` using debtflow's labels.
    """
    if path.suffix == ".json":
        if not path.is_file():
            raise CorpusError(f"{path}: no such file")
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorpusError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(items, list):
            raise CorpusError(f"{path}: expected a JSON list of posts")
        out = []
        for item in items:
            if not isinstance(item, dict):
                raise CorpusError(f"{path}: expected objects with content and label")
            label = SMP_EMOTION_MAP.get(str(item.get("label", "")))
            text = str(item.get("content", item.get("text", "")))
            if label is not None and text:
                out.append(EmotionExample(text, label))
        return out
    rows = _open_rows(path)
    if not rows:
        return []
    columns = set(rows[0])
    if {"Utterance", "Emotion"} <= columns:
        text_key, label_key, mapping = "Utterance", "Emotion", CPED_EMOTION_MAP
    elif {"text", "label"} <= columns:
        text_key, label_key, mapping = "text", "label", SMP_EMOTION_MAP
    elif {"text", "emotion"} <= columns:
        text_key, label_key = "text", "emotion"
        mapping = {e.value: e for e in Emotion}
    else:
        raise CorpusError(
            f"{path}: need columns text,label (SMP), Utterance,Emotion (CPED) or text,emotion"
        )
    out = []
    for row in rows:
        label = mapping.get((row.get(label_key) or "").strip())
        text = (row.get(text_key) or "").strip()
        if label is not None and text:
            out.append(EmotionExample(text, label))
    return out


def read_debtor_set(path: Path) -> list[DebtorExample]:
    rows = _open_rows(path)
    out = []
    for number, row in enumerate(rows, start=2):
        try:
            intent = Intent(row["intent"].strip())
            cause_text = (row.get("cause") or "").strip()
            cause = OverdueCause(cause_text) if cause_text else None
            out.append(DebtorExample(row["text"], intent, cause, row["split"], row["group"]))
        except (KeyError, ValueError, AttributeError) as exc:
            raise CorpusError(f"{path}, line {number}: bad row ({exc})") from exc
    return out


def read_collector_set(path: Path) -> list[CollectorExample]:
    rows = _open_rows(path)
    out = []
    for number, row in enumerate(rows, start=2):
        try:
            labels = frozenset(
                Violation(v.strip()) for v in (row.get("labels") or "").split(";") if v.strip()
            )
            out.append(CollectorExample(row["text"], labels, row["split"], row["group"]))
        except (KeyError, ValueError, AttributeError) as exc:
            raise CorpusError(f"{path}, line {number}: bad row ({exc})") from exc
    return out
