"""Readers for the labelled text the conversation models learn from (stdlib only).

Emotion: SMP2020-EWECT Weibo posts (`id,text,label` CSV or the organisers' JSON list) and CPED
dialogue utterances, each mapped onto the five debtflow emotions.  Collection: the project's
own labelled debtor and collector utterance sets (`data/conversation/*.csv`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class EmotionFile:
    """What an emotion-labelled file held: the usable examples and the rows left out."""

    examples: list[EmotionExample]
    rows: int
    #: rows left out because their label maps to no debtflow emotion, by label
    unmapped: dict[str, int] = field(default_factory=dict)
    #: rows left out because they have no text
    no_text: int = 0

    @property
    def skipped(self) -> int:
        return self.rows - len(self.examples)

    def skipped_note(self) -> str | None:
        """One line saying how many rows were left out and why (None when none were)."""
        if not self.skipped:
            return None
        reasons = []
        if self.unmapped:
            labels = ", ".join(
                f"{label!r} ×{count}" if label else f"no label ×{count}"
                for label, count in sorted(self.unmapped.items(), key=lambda kv: (-kv[1], kv[0]))
            )
            reasons.append(f"a label that maps to no debtflow emotion ({labels})")
        if self.no_text:
            reasons.append(f"no text ×{self.no_text}")
        return f"skipped {self.skipped} of {self.rows} rows: " + "; ".join(reasons)


def read_emotion_file(path: Path) -> list[EmotionExample]:
    """The usable examples of an emotion-labelled file (:func:`read_emotion_rows`)."""
    return read_emotion_rows(path).examples


def read_emotion_rows(path: Path) -> EmotionFile:
    """Read an emotion-labelled file in any of the shipped layouts; rows whose label maps to
    no debtflow emotion (SMP's surprise, CPED's astonished, a misspelt label) or that have
    no text are left out and counted.

    Layouts: SMP CSV (`text,label`), SMP JSON (list of `{content, label}`), CPED CSV
    (`Utterance,Emotion`), or a plain CSV with `text,emotion` using debtflow's labels.
    """
    if path.suffix == ".json":
        if not path.is_file():
            raise CorpusError(f"{path}: no such file")
        try:
            items = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorpusError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(items, list):
            raise CorpusError(f"{path}: expected a JSON list of posts")
        pairs = []
        for item in items:
            if not isinstance(item, dict):
                raise CorpusError(f"{path}: expected objects with content and label")
            pairs.append(
                (str(item.get("label", "")), str(item.get("content", item.get("text", ""))))
            )
        return _emotion_examples(pairs, SMP_EMOTION_MAP)
    rows = _open_rows(path)
    if not rows:
        return EmotionFile([], 0)
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
    pairs = [
        ((row.get(label_key) or "").strip(), (row.get(text_key) or "").strip()) for row in rows
    ]
    return _emotion_examples(pairs, mapping)


def _emotion_examples(pairs: list[tuple[str, str]], mapping: dict[str, Emotion]) -> EmotionFile:
    out = []
    unmapped: dict[str, int] = {}
    no_text = 0
    for raw_label, text in pairs:
        label = mapping.get(raw_label)
        if label is None:
            unmapped[raw_label] = unmapped.get(raw_label, 0) + 1
        elif not text:
            no_text += 1
        else:
            out.append(EmotionExample(text, label))
    return EmotionFile(out, len(pairs), unmapped, no_text)


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
