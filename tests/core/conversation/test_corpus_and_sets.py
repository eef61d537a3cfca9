from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from debtflow.core.conversation.corpus import (
    CorpusError,
    read_collector_set,
    read_debtor_set,
    read_emotion_file,
    read_emotion_rows,
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


def test_rows_left_out_are_counted_with_their_reason(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("text,emotion\n好,positive\n开心,joy\n高兴,joy\n,angry\n嗯,\n", "utf-8")
    read = read_emotion_rows(path)
    assert [e.emotion for e in read.examples] == [Emotion.POSITIVE]
    assert (read.rows, read.skipped, read.unmapped, read.no_text) == (5, 4, {"joy": 2, "": 1}, 1)
    assert read.skipped_note() == (
        "skipped 4 of 5 rows: a label that maps to no debtflow emotion ('joy' ×2, no label ×1); "
        "no text ×1"
    )
    posts = tmp_path / "smp.json"
    posts.write_bytes(
        b"\xef\xbb\xbf"
        + json.dumps(
            [{"content": "好", "label": "happy"}, {"content": "啊", "label": "surprise"}]
        ).encode()
    )
    read = read_emotion_rows(posts)
    assert len(read.examples) == 1 and read.unmapped == {"surprise": 1}


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


def test_second_blind_block_alternates_tune_and_final_blocks_of_five() -> None:
    for rows, kinds in (
        (
            read_collector_set(DATA / "conversation" / "collector_utterances.csv"),
            lambda r: set(r.violations) or {"compliant"},
        ),
        (
            read_debtor_set(DATA / "conversation" / "debtor_utterances.csv"),
            lambda r: {r.intent},
        ),
    ):
        tune = [r for r in rows if r.group.startswith("blind2-tune-")]
        final = [r for r in rows if r.group.startswith("blind2-final-")]
        assert {r.split for r in tune} == {"dev"} and {r.split for r in final} == {"test"}
        assert abs(len(tune) - len(final)) <= 5
        for part in (tune, final):
            sizes = Counter(r.group for r in part)
            assert max(sizes.values()) == 5
            blocks = {int(g.rsplit("-", 1)[1]) for g in sizes}
            assert all(b % 2 == (0 if part is tune else 1) for b in blocks)
        # every label reaches both halves
        assert set().union(*map(kinds, tune)) == set().union(*map(kinds, final))


def test_second_blind_block_size_and_coverage() -> None:
    collector = [
        r
        for r in read_collector_set(DATA / "conversation" / "collector_utterances.csv")
        if r.group.startswith("blind2-")
    ]
    debtor = [
        r
        for r in read_debtor_set(DATA / "conversation" / "debtor_utterances.csv")
        if r.group.startswith("blind2-")
    ]
    assert len(collector) >= 150 and len(debtor) >= 120
    assert sum(1 for r in collector if r.violations) >= 90
    assert sum(1 for r in collector if not r.violations) >= 60
    assert {v for r in collector for v in r.violations} == set(Violation)
    assert {r.intent for r in debtor} == set(Intent)


def test_third_round_blocks_sit_in_their_splits_and_share_no_text_with_training() -> None:
    for rows in (
        read_collector_set(DATA / "conversation" / "collector_utterances.csv"),
        read_debtor_set(DATA / "conversation" / "debtor_utterances.csv"),
    ):
        blind = [r for r in rows if r.group.startswith("blind3-")]
        hand = [r for r in rows if r.group.startswith("hand3-")]
        assert len(blind) >= 120 and len(hand) >= 250
        assert {r.split for r in blind} == {"test"} and {r.split for r in hand} == {"train"}
        trained_on = {r.text for r in rows if r.split in ("train", "dev")}
        assert not trained_on & {r.text for r in blind}
    collector = read_collector_set(DATA / "conversation" / "collector_utterances.csv")
    blind_flags = Counter(
        v for r in collector if r.group.startswith("blind3-") for v in r.violations
    )
    assert set(blind_flags) == set(Violation) and min(blind_flags.values()) >= 10
