from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from debtflow.core.conversation.trained import (
    ConversationModels,
    ModelFileError,
    load_models,
    save_models,
)


def test_save_and_load_round_trip(small_models: ConversationModels, tmp_path: Path) -> None:
    save_models(small_models, tmp_path)
    loaded = load_models(tmp_path)
    probe = ["气死我了", "明天还"]
    assert np.array_equal(loaded.emotion.scores(probe), small_models.emotion.scores(probe))
    assert loaded.intent.predict(probe) == small_models.intent.predict(probe)
    assert loaded.emotion_holdout_excluded is True


def test_missing_or_foreign_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no trained model"):
        load_models(tmp_path)
    import pickle

    (tmp_path / "conversation-models.pkl").write_bytes(pickle.dumps({"format": 99}))
    with pytest.raises(ModelFileError, match="retrain"):
        load_models(tmp_path)


def test_operator_can_retrain_on_own_text_emotion_csv(small_data: Path, tmp_path: Path) -> None:
    import shutil

    from debtflow.core.conversation.trained import train_models

    root = tmp_path / "data"
    shutil.copytree(small_data / "conversation", root / "conversation")
    weibo = root / "zh_text" / "smp2020_ewect"
    weibo.mkdir(parents=True)
    rows = ["text,emotion"] + [
        f"{t}{i},{e}"
        for i in range(20)
        for t, e in (("你们凭什么催我", "angry"), ("好的谢谢你", "positive"), ("嗯", "neutral"))
    ]
    (weibo / "usual_fit.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (weibo / "usual_holdout.csv").write_text("text,emotion\n", encoding="utf-8")
    (weibo / "virus_train.csv").write_text("id,text,label\n", encoding="utf-8")
    (weibo / "virus_eval_labeled.json").write_text("[]", encoding="utf-8")
    (root / "zh_text" / "cped").mkdir()
    (root / "zh_text" / "cped" / "valid_split.csv").write_text("Utterance,Emotion\n")
    models = train_models(root)
    assert models.emotion.classes == ("angry", "neutral", "positive")
    assert models.emotion.predict(["你们凭什么催我"]) == ["angry"]


def test_speech_threshold_keeps_dev_precision(
    small_models: ConversationModels, small_data: Path
) -> None:
    from debtflow.core.conversation.corpus import read_collector_set
    from debtflow.core.conversation.speech import check_utterances, load_rules
    from debtflow.core.conversation.trained import collector_set_path

    model = small_models.speech
    assert 0.2 <= model.threshold <= 0.95
    dev = [r for r in read_collector_set(collector_set_path(small_data)) if r.split == "dev"]
    flags = check_utterances([r.text for r in dev], load_rules(), model)
    tp = sum(
        len({f.violation for f in fl} & r.violations) for fl, r in zip(flags, dev, strict=True)
    )
    fp = sum(
        len({f.violation for f in fl} - r.violations) for fl, r in zip(flags, dev, strict=True)
    )
    assert tp / (tp + fp) >= 0.9


def test_two_writers_at_once_leave_one_whole_model_and_no_temporary_file(
    small_models: ConversationModels, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first requests may train and save at the same moment (two worker processes):
    each writes a temporary file of its own, so the file left is always a whole model.
    Here both writers are held half-way through their bytes until the other gets there."""
    import io
    import pickle
    from threading import Barrier, Thread

    from debtflow.core.conversation import trained

    halfway = Barrier(2, timeout=10)
    real_dump = pickle.dump

    def dump_in_two_halves(obj, handle, protocol=None):  # type: ignore[no-untyped-def]
        buffer = io.BytesIO()
        real_dump(obj, buffer, protocol=protocol)
        data = buffer.getvalue()
        handle.write(data[: len(data) // 2])
        handle.flush()
        halfway.wait()
        handle.write(data[len(data) // 2 :])

    monkeypatch.setattr(trained.pickle, "dump", dump_in_two_halves)
    failures: list[BaseException] = []

    def write() -> None:
        try:
            save_models(small_models, tmp_path)
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    writers = [Thread(target=write) for _ in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert failures == []
    assert load_models(tmp_path).intent.predict(["明天还"]) == small_models.intent.predict(
        ["明天还"]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conversation-models.pkl"]
