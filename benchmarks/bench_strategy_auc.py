"""Repeated stratified cross-validation of the propensity model on the shipped UCI training
file: the figure behind "AUC on rows the model never saw" (docs/model-card.md).

    python benchmarks/bench_strategy_auc.py [--repeats 3] [--variants shipped,best] [--threads 2]

Every variant is scored on the same folds (stratified 5-fold, fold seeds 101, 202, 303, …), so
differences between variants are paired; AUCs are of raw booster scores (Platt scaling is
monotone and does not change a ranking). Prints, per variant, the mean ± standard deviation of
the fold AUCs and the pooled out-of-fold AUC, next to the shipped settings' figure.
Variants: shipped, more_features, best (more features, 30 % features per tree, lr 0.015,
600 trees), seeds5 (average of 5 seeds), all.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

from debtflow.core.strategy.features import RepaymentHistory, build_features
from debtflow.core.strategy.propensity import BoosterSettings, roc_auc
from debtflow.strategy.training import read_uci_file

ROOT = Path(__file__).resolve().parents[1]
FOLDS = 5
Matrix = npt.NDArray[np.float32]


def more_features(history: RepaymentHistory) -> Matrix:
    """The 29 extra columns tried on top of build_features (model-card.md, "Variants")."""
    statement = history.statement_amount.astype(np.float64)
    paid = history.paid_amount.astype(np.float64)
    limit = np.maximum(history.credit_limit.astype(np.float64), 1.0)
    status = history.status
    months = status.shape[1]
    paid_off = np.c_[
        (paid[:, :-1] >= np.maximum(statement[:, 1:], 0)) & (statement[:, 1:] > 0),
        np.zeros(len(status), dtype=bool),
    ]
    since_paid_off = np.where(paid_off.any(axis=1), np.argmax(paid_off, axis=1), months)
    extra = np.c_[
        np.sign(statement) * np.log1p(np.abs(statement)),
        paid / limit[:, None],
        (statement - paid) / limit[:, None],
        since_paid_off,
        status[:, 0] - status[:, 1],
        status[:, :3].max(axis=1),
        status[:, :3].sum(axis=1),
        (status[:, :3] > 0).sum(axis=1),
        statement[:, 0] / limit - statement.max(axis=1) / limit,
        statement.max(axis=1) / limit,
        np.minimum(paid[:, 0] / np.maximum(statement[:, 0], 1.0), 5.0),
        paid[:, :3].sum(axis=1) / limit,
        np.log1p(paid.max(axis=1)),
        (paid[:, 0] == 0) & (statement[:, 1] > 0),
    ]
    return np.hstack([build_features(history), extra.astype(np.float32)])


def booster(params: dict[str, Any], trees: int, seeds: tuple[int, ...], threads: int) -> Callable:
    def fit_predict(x_train: Matrix, y_train: np.ndarray, x_test: Matrix) -> np.ndarray:
        total = np.zeros(x_test.shape[0])
        for seed in seeds:
            settings = {**BoosterSettings().lightgbm_params(seed, threads), **params}
            model = lgb.train(settings, lgb.Dataset(x_train, label=y_train), num_boost_round=trees)
            total += model.predict(x_test, raw_score=True)
        return total / len(seeds)

    return fit_predict


def stratified_folds(pay: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    fold_of = np.empty(pay.size, dtype=np.int64)
    for label in (0, 1):
        members = np.flatnonzero(pay == label)
        rng.shuffle(members)
        fold_of[members] = np.arange(members.size) % FOLDS
    return fold_of


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT / "data/credit/uci_credit_card_train.csv")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", default="shipped,best")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    labelled = read_uci_file(args.data)
    pay = labelled.pay.astype(np.float64)
    shipped_x, more_x = build_features(labelled.history), more_features(labelled.history)
    t = args.threads
    variants = {
        "shipped": ("shipped settings", shipped_x, booster({}, 300, (1,), t)),
        "more_features": ("+ 29 more features", more_x, booster({}, 300, (1,), t)),
        "best": (
            "more features, 30 % features, lr 0.015, 600 trees",
            more_x,
            booster({"feature_fraction": 0.3, "learning_rate": 0.015}, 600, (1,), t),
        ),
        "seeds5": ("average of 5 seeds", shipped_x, booster({}, 300, (1, 2, 3, 4, 5), t)),
    }
    chosen = list(variants) if args.variants == "all" else args.variants.split(",")
    folds = [stratified_folds(labelled.pay, 101 * (r + 1)) for r in range(args.repeats)]
    print(f"{labelled.history.cases:,} rows, {args.repeats} × stratified {FOLDS}-fold")
    baseline = None
    for key in chosen:
        name, x, fit_predict = variants[key]
        start = time.perf_counter()
        fold_auc, pooled = [], []
        for fold_of in folds:
            scores = np.empty(pay.size)
            for k in range(FOLDS):
                held = fold_of == k
                scores[held] = fit_predict(x[~held], pay[~held], x[held])
                fold_auc.append(roc_auc(labelled.pay[held], scores[held]))
            pooled.append(roc_auc(labelled.pay, scores))
        mean = float(np.mean(fold_auc))
        baseline = mean if baseline is None else baseline
        print(
            f"{name:52s} fold AUC {mean:.4f} ± {np.std(fold_auc):.4f}  pooled "
            f"{np.mean(pooled):.4f}  ({mean - baseline:+.4f} vs first; "
            f"{time.perf_counter() - start:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
