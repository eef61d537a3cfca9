"""Per-class precision, recall and F1 for the conversation models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ClassReport:
    rows: tuple[ClassScore, ...]
    accuracy: float
    macro_f1: float
    total: int


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
    macro = sum(r.f1 for r in rows) / len(rows) if rows else 0.0
    return ClassReport(tuple(rows), accuracy, macro, len(truth))


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
    rows.append(_score("all", total_tp, total_fp, total_fn))
    exact = sum(1 for t, p in zip(truth, predicted, strict=True) if t == p)
    accuracy = exact / len(truth) if truth else 0.0
    macro = sum(r.f1 for r in rows[:-1]) / max(1, len(rows) - 1)
    return ClassReport(tuple(rows), accuracy, macro, len(truth))


def _score(name: str, tp: int, fp: int, fn: int) -> ClassScore:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ClassScore(name, precision, recall, f1, tp + fn)


def format_report(title: str, report: ClassReport) -> str:
    lines = [title, f"{'class':<24}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for row in report.rows:
        lines.append(
            f"{row.label:<24}{row.precision:>10.3f}{row.recall:>10.3f}{row.f1:>10.3f}{row.support:>10d}"
        )
    lines.append(
        f"accuracy {report.accuracy:.3f}   macro-F1 {report.macro_f1:.3f}   n={report.total}"
    )
    return "\n".join(lines)
