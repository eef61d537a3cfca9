import io
import json
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score

from debtflow.cli.model import read_uci_file
from debtflow.core.strategy import propensity
from debtflow.core.strategy.features import RepaymentHistory

DATA = Path(__file__).parents[3] / "data/credit/uci_credit_card_train.csv"
QUICK = propensity.BoosterSettings(trees=60, learning_rate=0.08)


def _rows(history: RepaymentHistory, rows: slice) -> RepaymentHistory:
    return RepaymentHistory(
        history.status[rows],
        history.statement_amount[rows],
        history.paid_amount[rows],
        history.credit_limit[rows],
        history.age_years[rows],
    )


@pytest.fixture(scope="module")
def labelled() -> tuple[RepaymentHistory, np.ndarray]:
    data = read_uci_file(DATA)
    return data.history, data.pay


@pytest.fixture(scope="module")
def model(labelled: tuple[RepaymentHistory, np.ndarray]) -> propensity.PropensityModel:
    history, pay = labelled
    return propensity.train(_rows(history, slice(0, 4_000)), pay[:4_000], folds=3, settings=QUICK)


def test_model_ranks_and_calibrates_unseen_cases(
    model: propensity.PropensityModel, labelled: tuple[RepaymentHistory, np.ndarray]
) -> None:
    history, pay = labelled
    unseen = slice(20_000, 24_000)
    metrics = propensity.evaluate(model, _rows(history, unseen), pay[unseen])
    assert metrics.n == 4_000
    assert metrics.auc > 0.74
    assert abs(metrics.mean_probability - metrics.pay_rate) < 0.03  # calibrated in the large
    assert metrics.brier < 0.16
    assert model.metadata.cv_metrics["n"] == 4_000
    assert len(model.metadata.cv_fold_auc) == 3


def test_metrics_agree_with_reference_implementations() -> None:
    rng = np.random.default_rng(5)
    outcome = rng.integers(0, 2, 2_000).astype(np.int8)
    score = np.round(rng.random(2_000) * 0.5 + outcome * 0.3, 2)  # with ties
    assert propensity.roc_auc(outcome, score) == pytest.approx(roc_auc_score(outcome, score))
    reference = ks_2samp(score[outcome == 1], score[outcome == 0]).statistic
    assert propensity.ks_statistic(outcome, score) == pytest.approx(reference)


def test_training_is_deterministic_under_a_seed(
    model: propensity.PropensityModel, labelled: tuple[RepaymentHistory, np.ndarray]
) -> None:
    history, pay = labelled
    again = propensity.train(_rows(history, slice(0, 4_000)), pay[:4_000], folds=3, settings=QUICK)
    sample = _rows(history, slice(22_000, 22_500))
    np.testing.assert_array_equal(model.score(sample), again.score(sample))
    assert again.metadata == model.metadata


def test_saved_model_scores_the_same_and_has_a_sidecar(
    model: propensity.PropensityModel,
    labelled: tuple[RepaymentHistory, np.ndarray],
    tmp_path: Path,
) -> None:
    path = tmp_path / "propensity.pkl"
    propensity.save(model, path)
    loaded = propensity.load(path)
    sample = _rows(labelled[0], slice(23_000, 23_500))
    np.testing.assert_allclose(loaded.score(sample), model.score(sample), rtol=0, atol=1e-12)
    sidecar = json.loads((tmp_path / "propensity.pkl.json").read_text("utf-8"))
    assert sidecar["features"] == list(model.metadata.features)
    assert sidecar["training_data_sha256"] == model.metadata.training_data_sha256
    assert len(sidecar["training_data_sha256"]) == 64
    assert set(sidecar["cv_metrics"]) >= {"auc", "ks", "brier", "n"}


def test_training_hash_changes_with_the_data(labelled: tuple[RepaymentHistory, np.ndarray]) -> None:
    history, pay = labelled
    part = _rows(history, slice(0, 100))
    flipped = pay[:100].copy()
    flipped[0] = 1 - flipped[0]
    assert propensity.training_data_digest(part, pay[:100]) != propensity.training_data_digest(
        part, flipped
    )


def test_loading_refuses_missing_damaged_and_code_carrying_files(tmp_path: Path) -> None:
    with pytest.raises(propensity.ModelFileError, match="not found"):
        propensity.load(tmp_path / "absent.pkl")
    damaged = tmp_path / "damaged.pkl"
    damaged.write_bytes(b"not a pickle")
    with pytest.raises(propensity.ModelFileError, match="not a debtflow propensity model"):
        propensity.load(damaged)
    hostile = tmp_path / "hostile.pkl"
    buffer = io.BytesIO()
    pickle.dump(io.BytesIO(b"x"), buffer)  # refers to a class: must never be instantiated
    hostile.write_bytes(buffer.getvalue())
    with pytest.raises(propensity.ModelFileError, match="refusing"):
        propensity.load(hostile)
    other = tmp_path / "other.pkl"
    other.write_bytes(pickle.dumps({"kind": "something else"}))
    with pytest.raises(propensity.ModelFileError, match="not a debtflow"):
        propensity.load(other)


def test_scoring_refuses_a_history_of_another_length(model: propensity.PropensityModel) -> None:
    short = RepaymentHistory(
        np.zeros((1, 3), dtype=np.int64),
        np.zeros((1, 3), dtype=np.int64),
        np.zeros((1, 3), dtype=np.int64),
        np.ones(1, dtype=np.int64),
        np.zeros(1),
    )
    with pytest.raises(ValueError, match="6 months"):
        model.score(short)
    with pytest.raises(ValueError, match="columns"):
        model.score_features(np.zeros((2, 3), dtype=np.float32))


def test_training_refuses_bad_outcomes(labelled: tuple[RepaymentHistory, np.ndarray]) -> None:
    history, pay = labelled
    part = _rows(history, slice(0, 50))
    with pytest.raises(ValueError, match="0 or 1"):
        propensity.train(part, np.full(50, 2, dtype=np.int8), settings=QUICK)
    with pytest.raises(ValueError, match="one outcome per case"):
        propensity.train(part, pay[:10], settings=QUICK)
    with pytest.raises(ValueError, match="too few"):
        propensity.train(part, np.ones(50, dtype=np.int8), settings=QUICK)


def test_metadata_round_trips_through_json(model: propensity.PropensityModel) -> None:
    payload = json.loads(model.metadata.to_json())
    assert replace(model.metadata).to_json() == json.dumps(
        payload, indent=2, sort_keys=True, ensure_ascii=False
    )


def _edited(model: propensity.PropensityModel, tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    """The model saved, its payload changed by ``edit`` and written back as a plain pickle."""
    path = tmp_path / "model.pkl"
    propensity.save(model, path)
    payload = pickle.loads(path.read_bytes())
    edit(payload)
    path.write_bytes(pickle.dumps(payload))
    return path


def _metadata(payload: dict, change) -> None:  # type: ignore[no-untyped-def, type-arg]
    raw = json.loads(payload["metadata"])
    change(raw)
    payload["metadata"] = json.dumps(raw)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # a booster cut short: LightGBM would abort the process parsing it
        (lambda p: p.update(booster=p["booster"][: len(p["booster"]) // 2]), "SHA-256"),
        # features of another version (same count, other order): silently wrong scores
        (
            lambda p: _metadata(
                p, lambda m: m.update(features=m["features"][1:] + m["features"][:1])
            ),
            "names or order differ",
        ),
        (lambda p: _metadata(p, lambda m: m.update(calibration="isotonic")), "another version"),
        (lambda p: _metadata(p, lambda m: m.pop("cv_fold_auc")), "another version"),
        (lambda p: p.pop("metadata"), "another version"),
        (lambda p: p.update(metadata="{not json"), "another version"),
        (lambda p: p.update(platt_slope="steep"), "another version"),
        (lambda p: p.update(platt_slope=float("nan")), "finite"),
    ],
)
def test_a_damaged_or_foreign_model_file_is_refused_not_used(
    model: propensity.PropensityModel,
    tmp_path: Path,
    edit,
    message: str,  # type: ignore[no-untyped-def]
) -> None:
    path = _edited(model, tmp_path, edit)
    with pytest.raises(propensity.ModelFileError, match=message):
        propensity.load(path)
    assert propensity.load(_edited(model, tmp_path, lambda p: None)).metadata == model.metadata
