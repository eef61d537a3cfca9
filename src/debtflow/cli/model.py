"""`debtflow model …`: train and evaluate the propensity-to-pay model."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import NoReturn

import typer

from debtflow.cli.outputs import file_problem
from debtflow.core.strategy import propensity
from debtflow.strategy import training
from debtflow.strategy.training import LabelledHistory

app = typer.Typer(help="Propensity-to-pay model: train on repayment histories and evaluate it.")


class HistoryFormat(enum.StrEnum):
    UCI = "uci"


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
    try:
        return training.read_uci_file(path)
    except training.TrainingDataError as error:
        _fail(error.message)


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
    for target in (out, propensity.metadata_path(out)):
        problem = file_problem(target, creates_folders=True)
        if problem is not None:
            _fail(
                f"cannot write the model to {target}: {problem}; give --out a file name "
                "such as var/models/propensity.pkl"
            )
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
