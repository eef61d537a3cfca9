"""Per-class precision, recall and F1 for the conversation models.

Macro-F1 is the mean F1 over the classes present in the truth or the predictions: a class
the evaluated data never holds and the model never predicts has no F1 to speak of, and
counting it as 0 would lower the figure for the data's sake, not the model's. Every row
states its class's n (true items) and how many items were predicted as it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int  # items truly of the class (n)
    predicted: int = 0  # items predicted as the class

    @property
    def present(self) -> bool:
        """In the truth or the predictions, so counted in macro-F1."""
        return self.support > 0 or self.predicted > 0


@dataclass(frozen=True)
class ClassReport:
    rows: tuple[ClassScore, ...]
    accuracy: float
    macro_f1: float
    total: int
    #: the classes macro-F1 averages over (present in the truth or the predictions)
    averaged: tuple[str, ...] = ()


def _macro(rows: Sequence[ClassScore]) -> tuple[float, tuple[str, ...]]:
    present = [row for row in rows if row.present]
    macro = sum(r.f1 for r in present) / len(present) if present else 0.0
    return macro, tuple(row.label for row in present)


def class_report(
    truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str] | None = None
) -> ClassReport:
    """Single-label report; `labels` fixes the rows (default: labels seen in truth)."""
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} true labels but {len(predicted)} predictions")
    names = list(labels) if labels is not None else sorted(set(truth))
    rows = []
    for name in names:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t == name and p == name)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if t != name and p == name)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t == name and p != name)
        rows.append(_score(name, tp, fp, fn))
    correct = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p)
    accuracy = correct / len(truth) if truth else 0.0
    macro, averaged = _macro(rows)
    return ClassReport(tuple(rows), accuracy, macro, len(truth), averaged)


def multilabel_report(
    truth: Sequence[frozenset[str]], predicted: Sequence[frozenset[str]], labels: Sequence[str]
) -> ClassReport:
    """One row per label (present / absent per item) plus a micro row `all`.

    `accuracy` is the share of items whose predicted label set equals the true one.
    """
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} true label sets but {len(predicted)} predictions")
    rows = []
    total_tp = total_fp = total_fn = 0
    for name in labels:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if name in t and name in p)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if name not in t and name in p)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if name in t and name not in p)
        total_tp, total_fp, total_fn = total_tp + tp, total_fp + fp, total_fn + fn
        rows.append(_score(name, tp, fp, fn))
    macro, averaged = _macro(rows)
    rows.append(_score("all", total_tp, total_fp, total_fn))
    exact = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p)
    accuracy = exact / len(truth) if truth else 0.0
    return ClassReport(tuple(rows), accuracy, macro, len(truth), averaged)


def _score(name: str, tp: int, fp: int, fn: int) -> ClassScore:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ClassScore(name, precision, recall, f1, tp + fn, tp + fp)


def format_report(title: str, report: ClassReport) -> str:
    lines = [
        title,
        f"{'class':<24}{'precision':>10}{'recall':>10}{'f1':>10}{'n':>10}{'predicted':>10}",
    ]
    for row in report.rows:
        lines.append(
            f"{row.label:<24}{row.precision:>10.3f}{row.recall:>10.3f}{row.f1:>10.3f}"
            f"{row.support:>10d}{row.predicted:>10d}"
        )
    absent = [r.label for r in report.rows if r.label not in report.averaged and r.label != "all"]
    over = f"over the {len(report.averaged)} classes in the truth or the predictions"
    if absent:
        over += f" (left out, in neither: {', '.join(absent)})"
    lines.append(
        f"accuracy {report.accuracy:.3f}   macro-F1 {report.macro_f1:.3f} {over}   n={report.total}"
    )
    return "\n".join(lines)
