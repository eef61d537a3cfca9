"""Character n-gram linear text classifier with calibrated scores.

TF-IDF over character 1–3-grams of normalised text, a linear SVM (one-vs-rest), a per-class
bias tuned for macro-F1 on cross-validated decision values, and a softmax temperature fitted
on the same values so the scores read as probabilities.  Deterministic: no random state
other than the fold assignment, which is seeded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from debtflow.core.conversation.simplified import to_simplified

_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"@[^\s:：@/]+")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFKC (full-width to half-width), traditional characters read as simplified, lower
    case, URLs and @mentions replaced, spaces folded."""
    text = to_simplified(unicodedata.normalize("NFKC", text)).lower()
    text = _URL.sub("U", text)
    text = _MENTION.sub("@", text)
    return _SPACE.sub(" ", text).strip()


def softmax(values: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = values - values.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
    return result


def macro_f1(truth: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> float:
    scores = []
    for label in classes:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == label and p != label)
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else 0.0


def _macro_f1_codes(truth: NDArray[np.int64], predicted: NDArray[np.int64], k: int) -> float:
    total = 0.0
    for c in range(k):
        tp = int(np.sum((truth == c) & (predicted == c)))
        fp = int(np.sum((truth != c) & (predicted == c)))
        fn = int(np.sum((truth == c) & (predicted != c)))
        total += 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    return total / k


@dataclass
class TextClassifier:
    """A fitted classifier; `scores` returns one probability row per text."""

    classes: tuple[str, ...]
    vectorizer: Any
    model: Any
    bias: NDArray[np.float64]
    temperature: float

    def features(self, texts: Sequence[str]) -> Any:
        return self.vectorizer.transform([normalise(t) for t in texts])

    def decision(self, texts: Sequence[str], features: Any = None) -> NDArray[np.float64]:
        """Decision values; `features` from a classifier sharing this vectorizer are reused."""
        matrix = self.features(texts) if features is None else features
        raw = np.asarray(self.model.decision_function(matrix), dtype=np.float64)
        if raw.ndim == 1:  # binary problem: sklearn returns one column for classes[1]
            raw = np.column_stack([-raw, raw])
        result: NDArray[np.float64] = raw + self.bias
        return result

    def scores(self, texts: Sequence[str], features: Any = None) -> NDArray[np.float64]:
        if not texts:
            return np.zeros((0, len(self.classes)))
        return softmax(self.decision(texts, features) / self.temperature)

    def predict(self, texts: Sequence[str]) -> list[str]:
        if not texts:
            return []
        codes = self.decision(texts).argmax(axis=1)
        return [self.classes[int(c)] for c in codes]


def _vectorizer(ngram_max: int, min_df: int) -> Any:
    return TfidfVectorizer(
        analyzer="char", ngram_range=(1, ngram_max), min_df=min_df, sublinear_tf=True
    )


def fit_text_classifier(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    weights: Sequence[float] | None = None,
    cv_mask: Sequence[bool] | None = None,
    ngram_max: int = 3,
    min_df: int = 2,
    c: float = 0.3,
    tune_bias: bool = True,
    folds: int = 3,
    seed: int = 0,
    vectorizer: Any = None,
) -> TextClassifier:
    """Fit on `texts`/`labels`.

    `cv_mask` marks the rows whose cross-validated decision values tune the bias and the
    temperature (default: all rows); rows outside it (e.g. out-of-domain extra data) are
    always in the training folds.  A fitted `vectorizer` may be passed to share one feature
    space between several classifiers (it is then not refitted).
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    classes = tuple(sorted(set(labels)))
    if len(classes) < 2:
        raise ValueError("need at least two classes to train a classifier")
    clean = [normalise(t) for t in texts]
    y = np.array([classes.index(label) for label in labels], dtype=np.int64)
    w = np.ones(len(clean)) if weights is None else np.asarray(weights, dtype=np.float64)
    mask = np.ones(len(clean), dtype=bool) if cv_mask is None else np.asarray(cv_mask, dtype=bool)

    if vectorizer is None:
        vectorizer = _vectorizer(ngram_max, min_df if len(clean) > 200 else 1)
        matrix = vectorizer.fit_transform(clean)
    else:
        matrix = vectorizer.transform(clean)

    def new_model() -> Any:
        return LinearSVC(C=c, class_weight="balanced", random_state=seed)

    bias = np.zeros(len(classes))
    temperature = 1.0
    if folds >= 2 and mask.sum() >= folds * len(classes):
        rng = np.random.default_rng(seed)
        fold_of = np.full(len(clean), -1)
        cv_rows = np.flatnonzero(mask)
        fold_of[cv_rows] = rng.permutation(len(cv_rows)) % folds
        oof = np.zeros((len(cv_rows), len(classes)))
        position = {row: i for i, row in enumerate(cv_rows)}
        for f in range(folds):
            held = np.flatnonzero(fold_of == f)
            kept = np.flatnonzero(fold_of != f)
            if len(set(y[kept].tolist())) < len(classes):
                continue
            model = new_model().fit(matrix[kept], y[kept], sample_weight=w[kept])
            values = np.asarray(model.decision_function(matrix[held]), dtype=np.float64)
            if values.ndim == 1:
                values = np.column_stack([-values, values])
            oof[[position[r] for r in held]] = values
        truth = y[cv_rows]
        if tune_bias:
            bias = _tune_bias(oof, truth, len(classes))
        temperature = _fit_temperature(oof + bias, truth)

    model = new_model().fit(matrix, y, sample_weight=w)
    return TextClassifier(classes, vectorizer, model, bias, temperature)


def _tune_bias(
    values: NDArray[np.float64], truth: NDArray[np.int64], k: int
) -> NDArray[np.float64]:
    bias = np.zeros(k)
    best = _macro_f1_codes(truth, (values + bias).argmax(axis=1), k)
    for _round in range(2):
        for c in range(k):
            for step in np.linspace(-0.4, 0.4, 17):
                trial = bias.copy()
                trial[c] = step
                score = _macro_f1_codes(truth, (values + trial).argmax(axis=1), k)
                if score > best + 1e-9:
                    best, bias = score, trial
    return bias


def _fit_temperature(values: NDArray[np.float64], truth: NDArray[np.int64]) -> float:
    best_t, best_loss = 1.0, float("inf")
    rows = np.arange(len(truth))
    for t in (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5):
        p = softmax(values / t)
        loss = float(-np.mean(np.log(np.clip(p[rows, truth], 1e-12, None))))
        if loss < best_loss:
            best_t, best_loss = t, loss
    return best_t
