"""`debtflow model …`: train and evaluate the propensity-to-pay model."""

from __future__ import annotations

import csv
import enum
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import numpy.typing as npt
import typer

from debtflow.core.strategy import propensity
from debtflow.core.strategy.features import (
    UCI_REQUIRED_COLUMNS,
    UCI_TARGET_COLUMN,
    RepaymentHistory,
    history_from_uci_columns,
)

app = typer.Typer(help="Propensity-to-pay model: train on repayment histories and evaluate it.")


class HistoryFormat(enum.StrEnum):
    UCI = "uci"


@dataclass(frozen=True)
class LabelledHistory:
    history: RepaymentHistory
    pay: npt.NDArray[np.int8]


# spellings of the same columns in other copies of the UCI file
UCI_ALIASES = {
    "default payment next month": UCI_TARGET_COLUMN,
    "PAY_1": "PAY_0",
}


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _parse_format(value: str) -> HistoryFormat:
    try:
        return HistoryFormat(value.lower())
    except ValueError:
        known = ", ".join(f.value for f in HistoryFormat)
        _fail(f"unknown format {value!r}; known formats: {known}")


def read_uci_file(path: Path) -> LabelledHistory:
    """Read a CSV in the UCI layout; pay = 1 - default.payment.next.month."""
    if not path.is_file():
        _fail(f"data file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                _fail(f"{path} is empty")
            names = [h.strip() for h in header]
            names = [
                UCI_ALIASES[n] if n in UCI_ALIASES and UCI_ALIASES[n] not in names else n
                for n in names
            ]
            required = (*UCI_REQUIRED_COLUMNS, UCI_TARGET_COLUMN)
            missing = [c for c in required if c not in names]
            if missing:
                _fail(f"{path} is not in the uci layout; missing columns: {', '.join(missing)}")
            index = {name: names.index(name) for name in required}
            values: dict[str, list[str]] = {name: [] for name in required}
            for line_number, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(names):
                    _fail(f"{path}:{line_number}: expected {len(names)} fields, got {len(row)}")
                for name, position in index.items():
                    values[name].append(row[position])
    except UnicodeDecodeError:
        _fail(f"{path} is not a UTF-8 CSV file")
    if not values[UCI_TARGET_COLUMN]:
        _fail(f"{path} has no data rows")
    try:
        history = history_from_uci_columns(values)
        target = np.asarray(values[UCI_TARGET_COLUMN], dtype=np.float64)
    except ValueError as error:
        _fail(f"{path}: non-numeric value ({error})")
    if not np.isin(target, (0.0, 1.0)).all():
        _fail(f"{path}: {UCI_TARGET_COLUMN} must be 0 or 1")
    return LabelledHistory(history=history, pay=(1 - target).astype(np.int8))


def _read(path: Path, data_format: str) -> LabelledHistory:
    match _parse_format(data_format):
        case HistoryFormat.UCI:
            return read_uci_file(path)


@app.command("train")
def train_command(
    data: Path = typer.Option(..., "--data", help="CSV of repayment histories with outcomes."),
    data_format: str = typer.Option("uci", "--format", help="Layout of the file: uci."),
    out: Path = typer.Option(..., "--out", help="Where to write the model (plus OUT.json)."),
    seed: int = typer.Option(propensity.DEFAULT_SEED, help="Seed for folds and boosting."),
    folds: int = typer.Option(5, help="Folds for out-of-fold calibration and the CV estimate."),
    trees: int = typer.Option(propensity.BoosterSettings.trees, help="Boosting rounds.", min=1),
) -> None:
    """Train the calibrated propensity-to-pay model and print its metadata as JSON."""
    labelled = _read(data, data_format)
    try:
        model = propensity.train(
            labelled.history,
            labelled.pay,
            seed=seed,
            folds=folds,
            settings=propensity.BoosterSettings(trees=trees),
            source=data.name,
        )
    except ValueError as error:
        _fail(str(error))
    propensity.save(model, out)
    summary = {
        "model": str(out),
        "metadata": str(propensity.metadata_path(out)),
        "training_rows": model.metadata.training_rows,
        "cv_metrics": dict(model.metadata.cv_metrics),
        "cv_fold_auc": list(model.metadata.cv_fold_auc),
        "training_data_sha256": model.metadata.training_data_sha256,
    }
    typer.echo(json.dumps(summary, sort_keys=True))


@app.command("evaluate")
def evaluate_command(
    model_path: Path = typer.Option(..., "--model", help="Model file written by `model train`."),
    data: Path = typer.Option(..., "--data", help="CSV of repayment histories with outcomes."),
    data_format: str = typer.Option("uci", "--format", help="Layout of the file: uci."),
) -> None:
    """Print one JSON object: auc, ks, brier, n (for predicting payment) and more."""
    try:
        model = propensity.load(model_path)
    except propensity.ModelFileError as error:
        _fail(str(error))
    labelled = _read(data, data_format)
    try:
        metrics = propensity.evaluate(model, labelled.history, labelled.pay)
    except ValueError as error:
        _fail(str(error))
    typer.echo(json.dumps(metrics.as_dict(), sort_keys=True))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
