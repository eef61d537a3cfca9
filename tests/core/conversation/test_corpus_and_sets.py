from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from debtflow.core.conversation.corpus import (
    CorpusError,
    read_collector_set,
    read_debtor_set,
    read_emotion_file,
)
from debtflow.core.conversation.labels import Emotion, Intent, Violation

DATA = Path(__file__).resolve().parents[3] / "data"


def test_debtor_set_is_large_and_covers_every_intent_in_train_and_test() -> None:
    rows = read_debtor_set(DATA / "conversation" / "debtor_utterances.csv")
    assert len(rows) >= 1500
    for split in ("train", "test"):
        assert {r.intent for r in rows if r.split == split} == set(Intent)


def test_no_template_group_is_shared_between_splits() -> None:
    for rows in (
        read_debtor_set(DATA / "conversation" / "debtor_utterances.csv"),
        read_collector_set(DATA / "conversation" / "collector_utterances.csv"),
    ):
        splits_of: dict[str, set[str]] = {}
        for row in rows:
            splits_of.setdefault(row.group, set()).add(row.split)
        assert all(len(s) == 1 for s in splits_of.values())
        texts = Counter(r.text for r in rows)
        assert texts.most_common(1)[0][1] == 1 or len(texts) > 0.95 * len(rows)


def test_collector_test_split_has_every_violation_and_clean_speech() -> None:
    rows = [
        r
        for r in read_collector_set(DATA / "conversation" / "collector_utterances.csv")
        if r.split == "test"
    ]
    seen = {v for r in rows for v in r.violations}
    assert seen == set(Violation)
    assert any(not r.violations for r in rows)


def test_smp_labels_map_onto_five_emotions_without_surprise(tmp_path: Path) -> None:
    path = tmp_path / "smp.csv"
    path.write_text("id,text,label\n1,好开心,happy\n2,吓死了,fear\n3,啊？,surprise\n4,嗯,neural\n")
    examples = read_emotion_file(path)
    assert [e.emotion for e in examples] == [Emotion.POSITIVE, Emotion.ANXIOUS, Emotion.NEUTRAL]


def test_cped_labels_are_mapped(tmp_path: Path) -> None:
    path = tmp_path / "cped.csv"
    path.write_text("Utterance,Emotion\n烦死了,anger\n担心,worried\n哇,astonished\n")
    assert [e.emotion for e in read_emotion_file(path)] == [Emotion.ANGRY, Emotion.ANXIOUS]


def test_unknown_layout_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CorpusError, match="need columns"):
        read_emotion_file(path)
    with pytest.raises(CorpusError, match="no such file"):
        read_emotion_file(tmp_path / "none.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,split,group,intent,cause,text\n1,train,g,pay,,x\n")
    with pytest.raises(CorpusError, match="line 2"):
        read_debtor_set(bad)
