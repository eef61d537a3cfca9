"""Reading labelled repayment histories to train the propensity model, and the platform's
current model: trained from the shipped UCI data the first time it is needed."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from debtflow.config import get_settings
from debtflow.core.errors import InvalidInput
from debtflow.core.strategy import propensity
from debtflow.core.strategy.features import (
    UCI_REQUIRED_COLUMNS,
    UCI_TARGET_COLUMN,
    RepaymentHistory,
    history_from_uci_columns,
)

# spellings of the same columns in other copies of the UCI file
UCI_ALIASES = {
    "default payment next month": UCI_TARGET_COLUMN,
    "PAY_1": "PAY_0",
}


class TrainingDataError(InvalidInput):
    code = "training_data"


@dataclass(frozen=True)
class LabelledHistory:
    history: RepaymentHistory
    pay: npt.NDArray[np.int8]


def read_uci_file(path: Path) -> LabelledHistory:
    """Read a CSV in the UCI layout; pay = 1 - default.payment.next.month."""
    if not path.is_file():
        raise TrainingDataError(f"data file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise TrainingDataError(f"{path} is empty")
            names = [h.strip() for h in header]
            names = [
                UCI_ALIASES[n] if n in UCI_ALIASES and UCI_ALIASES[n] not in names else n
                for n in names
            ]
            required = (*UCI_REQUIRED_COLUMNS, UCI_TARGET_COLUMN)
            missing = [c for c in required if c not in names]
            if missing:
                raise TrainingDataError(
                    f"{path} is not in the uci layout; missing columns: {', '.join(missing)}"
                )
            index = {name: names.index(name) for name in required}
            values: dict[str, list[str]] = {name: [] for name in required}
            for line_number, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(names):
                    raise TrainingDataError(
                        f"{path}:{line_number}: expected {len(names)} fields, got {len(row)}"
                    )
                for name, position in index.items():
                    values[name].append(row[position])
    except UnicodeDecodeError as error:
        raise TrainingDataError(f"{path} is not a UTF-8 CSV file") from error
    if not values[UCI_TARGET_COLUMN]:
        raise TrainingDataError(f"{path} has no data rows")
    try:
        history = history_from_uci_columns(values)
        target = np.asarray(values[UCI_TARGET_COLUMN], dtype=np.float64)
    except ValueError as error:
        raise TrainingDataError(f"{path}: non-numeric value ({error})") from error
    if not np.isin(target, (0.0, 1.0)).all():
        raise TrainingDataError(f"{path}: {UCI_TARGET_COLUMN} must be 0 or 1")
    return LabelledHistory(history=history, pay=(1 - target).astype(np.int8))


def model_path() -> Path:
    settings = get_settings()
    return settings.propensity_model or Path(settings.data_dir) / "models" / "propensity.pkl"


_LOADED: dict[Path, tuple[float, propensity.PropensityModel]] = {}


def current_model(*, train_if_missing: bool = True) -> propensity.PropensityModel:
    """The model the nightly cycle scores with (``DEBTFLOW_PROPENSITY_MODEL``).

    When no model file exists yet it is trained from the shipped UCI data
    (``DEBTFLOW_TRAINING_DATA``) and saved there; nothing is downloaded.
    """
    path = model_path()
    if not path.exists():
        if not train_if_missing:
            raise TrainingDataError(f"no propensity model at {path}; run `debtflow model train`")
        data = get_settings().training_data
        labelled = read_uci_file(data)
        model = propensity.train(labelled.history, labelled.pay, source=data.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        propensity.save(model, path)
    stamp = path.stat().st_mtime
    cached = _LOADED.get(path)
    if cached is None or cached[0] != stamp:
        cached = (stamp, propensity.load(path))
        _LOADED[path] = cached
    return cached[1]


def model_label(model: propensity.PropensityModel) -> str:
    meta = model.metadata
    return f"{meta.kind}-v{meta.version}-{meta.training_data_sha256[:8]}"
