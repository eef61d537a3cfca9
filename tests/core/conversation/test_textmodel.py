from __future__ import annotations

import numpy as np
import pytest

from debtflow.core.conversation.evaluation import class_report, format_report, multilabel_report
from debtflow.core.conversation.textmodel import fit_text_classifier, normalise

TEXTS = ["我很开心", "太好了哈哈", "开心死了", "气死我了", "烦死了滚", "真让人生气"] * 6
LABELS = ["positive", "positive", "positive", "angry", "angry", "angry"] * 6


def test_normalise_folds_full_width_case_urls_and_mentions() -> None:
    assert normalise("ＯＫ！　http://t.cn/abc @张三:你好") == "ok! U @:你好"


def test_scores_are_probabilities_and_prediction_is_their_argmax() -> None:
    model = fit_text_classifier(TEXTS, LABELS, min_df=1)
    scores = model.scores(["开心", "生气"])
    assert scores.shape == (2, 2)
    assert np.allclose(scores.sum(axis=1), 1.0)
    predicted = model.predict(["开心", "生气"])
    assert predicted == [model.classes[int(i)] for i in scores.argmax(axis=1)]
    assert predicted == ["positive", "angry"]


def test_training_is_deterministic() -> None:
    first = fit_text_classifier(TEXTS, LABELS, min_df=1)
    second = fit_text_classifier(TEXTS, LABELS, min_df=1)
    probe = ["开心得很", "气人", "随便说点什么"]
    assert np.array_equal(first.scores(probe), second.scores(probe))


def test_bad_training_input_is_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        fit_text_classifier(["a", "b"], ["x"])
    with pytest.raises(ValueError, match="two classes"):
        fit_text_classifier(["a", "b"], ["x", "x"])


def test_empty_input_gives_empty_output() -> None:
    model = fit_text_classifier(TEXTS, LABELS, min_df=1)
    assert model.predict([]) == []
    assert model.scores([]).shape == (0, 2)


def test_class_report_counts_precision_recall_f1() -> None:
    report = class_report(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"])
    by = {r.label: r for r in report.rows}
    assert by["a"].precision == 1.0 and by["a"].recall == 0.5
    assert by["b"].precision == pytest.approx(2 / 3) and by["b"].recall == 1.0
    assert report.accuracy == 0.75
    with pytest.raises(ValueError):
        class_report(["a"], [])


def test_multilabel_report_has_micro_row_and_exact_match_accuracy() -> None:
    truth = [frozenset({"x"}), frozenset(), frozenset({"x", "y"})]
    predicted = [frozenset({"x"}), frozenset({"y"}), frozenset({"x"})]
    report = multilabel_report(truth, predicted, ["x", "y"])
    rows = {r.label: r for r in report.rows}
    assert rows["x"].recall == 1.0
    assert rows["y"].recall == 0.0 and rows["y"].precision == 0.0
    assert rows["all"].support == 3
    assert report.accuracy == pytest.approx(1 / 3)


def test_macro_f1_averages_over_classes_in_the_truth_or_the_predictions() -> None:
    labels = ["a", "b", "c", "d"]
    # "c" is only predicted (an error, F1 0, counted); "d" is in neither (left out)
    report = class_report(["a", "a", "b", "b"], ["a", "c", "b", "b"], labels)
    by = {r.label: r for r in report.rows}
    assert report.averaged == ("a", "b", "c")
    assert report.macro_f1 == pytest.approx((by["a"].f1 + by["b"].f1 + 0.0) / 3)
    assert (by["c"].support, by["c"].predicted, by["d"].support, by["d"].predicted) == (0, 1, 0, 0)
    text = format_report("t", report)
    assert "macro-F1 0.556 over the 3 classes in the truth or the predictions" in text
    assert "(left out, in neither: d)" in text
    assert "n=4" in text and "predicted" in text.splitlines()[1]


def test_with_every_class_present_macro_f1_is_the_plain_mean_of_all_rows() -> None:
    """The shipped evaluation files hold every class, so their figures are unchanged."""
    truth = ["a", "b", "c", "a", "b", "c"]
    report = class_report(truth, ["a", "a", "c", "b", "b", "c"], ["a", "b", "c"])
    assert report.macro_f1 == pytest.approx(sum(r.f1 for r in report.rows) / 3)
    multi = multilabel_report(
        [frozenset({"x"}), frozenset({"y"})], [frozenset({"x"}), frozenset()], ["x", "y", "z"]
    )
    assert multi.averaged == ("x", "y")
    assert multi.macro_f1 == pytest.approx(0.5)
