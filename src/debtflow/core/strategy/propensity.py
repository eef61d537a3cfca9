"""Propensity to pay: the probability that a case pays in the coming month.

A LightGBM gradient-boosted tree model on the engineered features of
:mod:`debtflow.core.strategy.features`, calibrated with Platt scaling fitted on out-of-fold
scores (every training row is scored by a model that never saw it).  Platt scaling is monotone,
so the calibrated probability ranks cases exactly like the booster does.

The saved model is two files: ``PATH`` (a pickle holding only plain strings and floats, read
back with an unpickler that refuses every class) and ``PATH.json`` (metadata: features, training
data hash, metrics, version).  Nothing is downloaded; a model is trained from shipped data.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

from debtflow.core.strategy.features import (
    HISTORY_MONTHS,
    RepaymentHistory,
    build_features,
    feature_names,
)

MODEL_FORMAT_VERSION = 1
MODEL_KIND = "debtflow.propensity.lightgbm-platt"
DEFAULT_SEED = 20_250_501


class ModelFileError(ValueError):
    """A model file that is missing, damaged or of another kind."""


@dataclass(frozen=True)
class BoosterSettings:
    trees: int = 300
    learning_rate: float = 0.03
    leaves: int = 7
    min_cases_per_leaf: int = 100
    row_fraction: float = 0.8
    feature_fraction: float = 0.6
    l2: float = 1.0

    def lightgbm_params(self, seed: int, threads: int) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.leaves,
            "min_data_in_leaf": self.min_cases_per_leaf,
            "bagging_fraction": self.row_fraction,
            "bagging_freq": 1,
            "feature_fraction": self.feature_fraction,
            "lambda_l2": self.l2,
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": threads,
            "verbosity": -1,
        }


@dataclass(frozen=True)
class PropensityMetrics:
    """Quality of probabilities of *paying* against observed outcomes."""

    auc: float
    ks: float
    brier: float
    n: int
    pay_rate: float
    mean_probability: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class ModelMetadata:
    version: int
    kind: str
    features: tuple[str, ...]
    months: int
    seed: int
    training_rows: int
    training_data_sha256: str
    cv_folds: int
    cv_metrics: Mapping[str, float | int]
    """Out-of-fold metrics of the whole procedure (booster + calibration)."""
    cv_fold_auc: tuple[float, ...]
    training_metrics: Mapping[str, float | int]
    booster: Mapping[str, float | int] = field(default_factory=dict)
    source: str = ""

    def to_json(self) -> str:
        payload = asdict(self)
        payload["features"] = list(self.features)
        payload["cv_fold_auc"] = list(self.cv_fold_auc)
        return json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class PropensityModel:
    booster: lgb.Booster
    platt_slope: float
    platt_intercept: float
    metadata: ModelMetadata

    def score_features(
        self, features: npt.NDArray[np.float32], *, threads: int = 0
    ) -> npt.NDArray[np.float64]:
        """Calibrated probability of paying for each row of an engineered feature matrix.

        ``threads`` is the number of CPU threads for the booster (0 = all cores).
        """
        if features.ndim != 2 or features.shape[1] != len(self.metadata.features):
            raise ValueError(
                f"expected a feature matrix with {len(self.metadata.features)} columns, "
                f"got shape {features.shape}"
            )
        raw = np.asarray(
            self.booster.predict(features, raw_score=True, num_threads=threads), dtype=np.float64
        )
        return _platt(raw, self.platt_slope, self.platt_intercept)

    def score(self, history: RepaymentHistory, *, threads: int = 0) -> npt.NDArray[np.float64]:
        """Calibrated probability of paying in the coming month, one per case."""
        if history.months != self.metadata.months:
            raise ValueError(
                f"the model needs {self.metadata.months} months of history, got {history.months}"
            )
        return self.score_features(build_features(history), threads=threads)


def _platt(raw: npt.NDArray[np.float64], slope: float, intercept: float) -> npt.NDArray[np.float64]:
    z = np.clip(slope * raw + intercept, -35.0, 35.0)
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def fit_platt(raw: npt.NDArray[np.float64], outcome: npt.NDArray[np.int8]) -> tuple[float, float]:
    """Logistic fit of outcome on the raw score (Newton steps, deterministic)."""
    y = outcome.astype(np.float64)
    x = np.column_stack([raw, np.ones_like(raw)])
    beta = np.array([1.0, 0.0])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ beta, -35.0, 35.0)))
        gradient = x.T @ (y - p)
        hessian = (x * (p * (1.0 - p))[:, None]).T @ x + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        beta = beta + step
        if float(np.abs(step).max()) < 1e-10:
            break
    return float(beta[0]), float(beta[1])


def roc_auc(outcome: npt.NDArray[np.int8], probability: npt.NDArray[np.float64]) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties averaged)."""
    from scipy.stats import rankdata

    y = outcome.astype(bool)
    positives = int(y.sum())
    negatives = int(y.size - positives)
    if positives == 0 or negatives == 0:
        raise ValueError("AUC needs both paying and non-paying cases")
    ranks = rankdata(probability)
    u = float(ranks[y].sum()) - positives * (positives + 1) / 2.0
    return u / (positives * negatives)


def ks_statistic(outcome: npt.NDArray[np.int8], probability: npt.NDArray[np.float64]) -> float:
    """Largest gap between the score distributions of payers and non-payers."""
    y = outcome.astype(bool)
    order = np.argsort(-probability, kind="stable")
    sorted_scores = probability[order]
    sorted_y = y[order]
    cum_pos = np.cumsum(sorted_y) / max(int(sorted_y.sum()), 1)
    cum_neg = np.cumsum(~sorted_y) / max(int((~sorted_y).sum()), 1)
    # only compare at the end of each block of tied scores
    last_of_tie = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    return float(np.abs(cum_pos - cum_neg)[last_of_tie].max())


def measure(
    outcome: npt.NDArray[np.int8], probability: npt.NDArray[np.float64]
) -> PropensityMetrics:
    y = outcome.astype(np.float64)
    return PropensityMetrics(
        auc=round(roc_auc(outcome, probability), 6),
        ks=round(ks_statistic(outcome, probability), 6),
        brier=round(float(np.mean((probability - y) ** 2)), 6),
        n=int(outcome.size),
        pay_rate=round(float(y.mean()), 6),
        mean_probability=round(float(probability.mean()), 6),
    )


def training_data_digest(history: RepaymentHistory, pay: npt.NDArray[np.int8]) -> str:
    digest = hashlib.sha256()
    for array in (
        history.status,
        history.statement_amount,
        history.paid_amount,
        history.credit_limit,
        history.age_years,
        pay,
    ):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _stratified_folds(pay: npt.NDArray[np.int8], folds: int, seed: int) -> npt.NDArray[np.int64]:
    rng = np.random.default_rng(seed)
    fold_of = np.empty(pay.size, dtype=np.int64)
    for label in (0, 1):
        members = np.flatnonzero(pay == label)
        rng.shuffle(members)
        fold_of[members] = np.arange(members.size) % folds
    return fold_of


def _fit_booster(
    features: npt.NDArray[np.float32],
    pay: npt.NDArray[np.int8],
    settings: BoosterSettings,
    seed: int,
    threads: int,
) -> lgb.Booster:
    dataset = lgb.Dataset(features, label=pay.astype(np.float64), free_raw_data=True)
    return lgb.train(
        settings.lightgbm_params(seed, threads), dataset, num_boost_round=settings.trees
    )


def train(
    history: RepaymentHistory,
    pay: npt.NDArray[np.int8],
    *,
    seed: int = DEFAULT_SEED,
    folds: int = 5,
    settings: BoosterSettings | None = None,
    threads: int = 1,
    source: str = "",
) -> PropensityModel:
    """Train the booster on all rows and Platt-calibrate it on out-of-fold scores.

    ``pay`` is 1 where the case paid in the following month.  The out-of-fold pass also gives
    an honest estimate of the procedure's quality (``metadata.cv_metrics``).
    """
    settings = settings or BoosterSettings()
    pay = np.asarray(pay, dtype=np.int8)
    if pay.shape != (history.cases,):
        raise ValueError("pay must hold one outcome per case")
    if not np.isin(pay, (0, 1)).all():
        raise ValueError("pay outcomes must be 0 or 1")
    if folds < 2:
        raise ValueError("calibration needs at least 2 folds")
    if min(int(pay.sum()), int(pay.size - pay.sum())) < folds:
        raise ValueError("too few paying or non-paying cases for the folds asked")
    features = build_features(history)
    fold_of = _stratified_folds(pay, folds, seed)
    out_of_fold = np.empty(pay.size, dtype=np.float64)
    for fold in range(folds):
        held = fold_of == fold
        booster = _fit_booster(features[~held], pay[~held], settings, seed + fold, threads)
        out_of_fold[held] = booster.predict(features[held], raw_score=True)
    slope, intercept = fit_platt(out_of_fold, pay)
    # an honest cross-validated estimate: calibration fitted without the scored fold
    calibrated_oof = np.empty_like(out_of_fold)
    fold_auc: list[float] = []
    for fold in range(folds):
        held = fold_of == fold
        s, i = fit_platt(out_of_fold[~held], pay[~held])
        calibrated_oof[held] = _platt(out_of_fold[held], s, i)
        fold_auc.append(round(roc_auc(pay[held], calibrated_oof[held]), 6))
    final = _fit_booster(features, pay, settings, seed, threads)
    training_probability = _platt(
        np.asarray(final.predict(features, raw_score=True), dtype=np.float64), slope, intercept
    )
    metadata = ModelMetadata(
        version=MODEL_FORMAT_VERSION,
        kind=MODEL_KIND,
        features=feature_names(history.months),
        months=history.months,
        seed=seed,
        training_rows=history.cases,
        training_data_sha256=training_data_digest(history, pay),
        cv_folds=folds,
        cv_metrics=measure(pay, calibrated_oof).as_dict(),
        cv_fold_auc=tuple(fold_auc),
        training_metrics=measure(pay, training_probability).as_dict(),
        booster=asdict(settings),
        source=source,
    )
    return PropensityModel(final, slope, intercept, metadata)


def evaluate(
    model: PropensityModel, history: RepaymentHistory, pay: npt.NDArray[np.int8]
) -> PropensityMetrics:
    return measure(np.asarray(pay, dtype=np.int8), model.score(history))


def metadata_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + ".json")


def save(model: PropensityModel, path: Path) -> None:
    """Write the model (``path``) and its JSON metadata sidecar (``path.json``)."""
    payload = {
        "kind": MODEL_KIND,
        "version": MODEL_FORMAT_VERSION,
        "booster": (booster_text := model.booster.model_to_string()),
        # checked before LightGBM parses the text: a damaged booster can abort the process
        "booster_sha256": hashlib.sha256(booster_text.encode("utf-8")).hexdigest(),
        "platt_slope": model.platt_slope,
        "platt_intercept": model.platt_intercept,
        "metadata": model.metadata.to_json(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
    metadata_path(path).write_text(model.metadata.to_json() + "\n", encoding="utf-8")


class _PlainUnpickler(pickle.Unpickler):
    """Reads only plain containers, strings and numbers; a model file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        raise ModelFileError(f"model file refers to {module}.{name}; refusing to load it")


def load(path: Path) -> PropensityModel:
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path}")
    try:
        with path.open("rb") as handle:
            payload = _PlainUnpickler(handle).load()
    except ModelFileError:
        raise
    except Exception as error:  # any unpickling failure means the file is not a model
        raise ModelFileError(f"{path} is not a debtflow propensity model ({error})") from error
    if not isinstance(payload, dict) or payload.get("kind") != MODEL_KIND:
        raise ModelFileError(f"{path} is not a debtflow propensity model")
    if payload.get("version") != MODEL_FORMAT_VERSION:
        raise ModelFileError(f"{path} has model format {payload.get('version')!r}, need 1")
    try:
        return _from_payload(payload)
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None
    except (KeyError, TypeError, ValueError, lgb.basic.LightGBMError) as error:
        raise ModelFileError(f"{path} is damaged or from another version ({error!r})") from None


def _from_payload(payload: dict[str, Any]) -> PropensityModel:
    booster_text = payload["booster"]
    digest = payload.get("booster_sha256")
    if not isinstance(booster_text, str) or (
        digest is not None and hashlib.sha256(booster_text.encode("utf-8")).hexdigest() != digest
    ):
        raise ModelFileError("the booster text is damaged (its SHA-256 does not match)")
    raw_metadata = json.loads(payload["metadata"])
    if not isinstance(raw_metadata, dict):
        raise ModelFileError("the metadata is not a JSON object")
    metadata = ModelMetadata(
        **{
            **raw_metadata,
            "features": tuple(raw_metadata["features"]),
            "cv_fold_auc": tuple(raw_metadata["cv_fold_auc"]),
        }
    )
    expected = feature_names(metadata.months)
    if metadata.features != expected:
        raise ModelFileError(
            "the model's features are not this version's (names or order differ); "
            "train it again with 'debtflow model train'"
        )
    booster = lgb.Booster(model_str=booster_text)
    if booster.num_feature() != len(metadata.features):
        raise ModelFileError("booster and metadata disagree on the features")
    slope, intercept = float(payload["platt_slope"]), float(payload["platt_intercept"])
    if not (math.isfinite(slope) and math.isfinite(intercept)):
        raise ModelFileError("the calibration is not a pair of finite numbers")
    return PropensityModel(booster, slope, intercept, metadata)


__all__ = [
    "HISTORY_MONTHS",
    "BoosterSettings",
    "ModelFileError",
    "ModelMetadata",
    "PropensityMetrics",
    "PropensityModel",
    "evaluate",
    "load",
    "measure",
    "save",
    "train",
]
