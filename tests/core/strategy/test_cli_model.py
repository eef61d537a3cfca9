import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from debtflow.cli.model import app

DATA = Path(__file__).parents[3] / "data/credit/uci_credit_card_train.csv"
runner = CliRunner()


def _write_rows(path: Path, rows: slice, drop: str | None = None) -> Path:
    with DATA.open(newline="") as source:
        lines = list(csv.reader(source))
    header, body = lines[0], lines[1:][rows]
    keep = [i for i, name in enumerate(header) if name != drop]
    with path.open("w", newline="") as target:
        writer = csv.writer(target)
        writer.writerow([header[i] for i in keep])
        writer.writerows([[row[i] for i in keep] for row in body])
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("model")
    train_file = _write_rows(folder / "train.csv", slice(0, 3_000))
    held_out = _write_rows(folder / "held_out.csv", slice(21_000, 24_000))
    out = folder / "model.pkl"
    result = runner.invoke(
        app,
        [
            "train",
            "--data",
            str(train_file),
            "--format",
            "uci",
            "--out",
            str(out),
            "--trees",
            "50",
            "--folds",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["training_rows"] == 3_000
    assert (folder / "model.pkl.json").is_file()
    return out, held_out


def test_evaluate_prints_one_json_object_with_the_metrics(trained: tuple[Path, Path]) -> None:
    model, held_out = trained
    result = runner.invoke(
        app, ["evaluate", "--model", str(model), "--data", str(held_out), "--format", "uci"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 3_000
    assert 0.7 < metrics["auc"] <= 1.0
    assert 0.3 < metrics["ks"] <= 1.0
    assert 0.0 < metrics["brier"] < 0.2


def test_missing_data_file_is_a_clear_error(trained: tuple[Path, Path], tmp_path: Path) -> None:
    model, _ = trained
    result = runner.invoke(
        app, ["evaluate", "--model", str(model), "--data", str(tmp_path / "none.csv")]
    )
    assert result.exit_code == 2
    assert "data file not found" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_format_is_a_clear_error(trained: tuple[Path, Path]) -> None:
    model, held_out = trained
    result = runner.invoke(
        app, ["evaluate", "--model", str(model), "--data", str(held_out), "--format", "xlsx"]
    )
    assert result.exit_code == 2
    assert "unknown format 'xlsx'" in result.stderr and "uci" in result.stderr


def test_missing_columns_are_named(trained: tuple[Path, Path], tmp_path: Path) -> None:
    model, _ = trained
    partial = _write_rows(tmp_path / "partial.csv", slice(0, 100), drop="PAY_AMT3")
    result = runner.invoke(app, ["evaluate", "--model", str(model), "--data", str(partial)])
    assert result.exit_code == 2
    assert "missing columns: PAY_AMT3" in result.stderr


def test_non_numeric_values_are_reported(trained: tuple[Path, Path], tmp_path: Path) -> None:
    model, _ = trained
    bad = _write_rows(tmp_path / "bad.csv", slice(0, 20))
    text = bad.read_text().splitlines()
    fields = text[3].split(",")
    fields[1] = "lots"
    text[3] = ",".join(fields)
    bad.write_text("\n".join(text) + "\n")
    result = runner.invoke(app, ["evaluate", "--model", str(model), "--data", str(bad)])
    assert result.exit_code == 2
    assert "non-numeric" in result.stderr


def test_bad_model_file_is_a_clear_error(trained: tuple[Path, Path], tmp_path: Path) -> None:
    _, held_out = trained
    fake = tmp_path / "fake.pkl"
    fake.write_text("hello")
    result = runner.invoke(app, ["evaluate", "--model", str(fake), "--data", str(held_out)])
    assert result.exit_code == 2
    assert "not a debtflow propensity model" in result.stderr


def test_original_uci_spellings_are_accepted(trained: tuple[Path, Path], tmp_path: Path) -> None:
    model, held_out = trained
    text = held_out.read_text().splitlines()
    text[0] = (
        text[0]
        .replace("PAY_0", "PAY_1")
        .replace("default.payment.next.month", "default payment next month")
    )
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("\n".join(text) + "\n")
    plain = runner.invoke(app, ["evaluate", "--model", str(model), "--data", str(held_out)])
    result = runner.invoke(app, ["evaluate", "--model", str(model), "--data", str(renamed)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(plain.stdout)


def test_an_out_that_cannot_take_the_model_is_refused_before_training(tmp_path: Path) -> None:
    data = _write_rows(tmp_path / "train.csv", slice(0, 200))
    (tmp_path / "taken.pkl.json").mkdir()
    (tmp_path / "plain-file").write_text("x")
    for out, at, problem in (
        (tmp_path, tmp_path, "it is a folder"),
        (tmp_path / "taken.pkl", tmp_path / "taken.pkl.json", "it is a folder"),
        (tmp_path / "plain-file" / "m.pkl", tmp_path / "plain-file" / "m.pkl", "is not a folder"),
    ):
        result = runner.invoke(app, ["train", "--data", str(data), "--out", str(out)])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"error: cannot write the model to {at}: ")
        assert problem in result.stderr and result.stdout == ""
    assert not (tmp_path / "taken.pkl").exists()
