"""Experiment files: what an operations manager writes, and what is refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from debtflow.core.strategy.experiment_file import (
    ExperimentFileError,
    load_experiment,
    shipped_experiment,
)
from debtflow.core.strategy.treatment import Segment, shipped_treatment_rules

CHALLENGER_RULES = """
version = "generous-1"
[potential]
kind = "instalments"
terms = [6, 12]
interest_relief_bp = 9000
penalty_relief_bp = 10000
[hardship]
kind = "restructuring"
terms = [24, 36]
monthly_rate = "0.002"
[risk]
kind = "legal"
actions = ["legal_referral"]
"""

GOOD = """
key = "relief-test"
starts_on = 2026-11-01
control = "control"

[[variants]]
name = "control"
weight_bp = 3000

[[variants]]
name = "generous"
weight_bp = 7000
treatment = "generous.toml"
"""


def write(tmp_path: Path, text: str, *, rules: bool = True) -> Path:
    if rules:
        (tmp_path / "generous.toml").write_text(CHALLENGER_RULES, encoding="utf-8")
    path = tmp_path / "experiment.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_gives_the_experiment_and_each_variants_rules(tmp_path: Path) -> None:
    plan = load_experiment(write(tmp_path, GOOD))
    assert plan.key == "relief-test"
    assert plan.starts_on == date(2026, 11, 1)
    assert plan.experiment.control == "control"
    assert [(v.name, v.weight_bp) for v in plan.experiment.variants] == [
        ("control", 3000),
        ("generous", 7000),
    ]
    assert plan.treatments["control"] is None
    generous = plan.treatments["generous"]
    assert generous is not None and generous.version == "generous-1"
    assert generous.by_segment[Segment.POTENTIAL].interest_relief_bp == 9000
    assert not plan.running_on(date(2026, 10, 31)) and plan.running_on(date(2026, 11, 1))


def test_the_shipped_example_loads() -> None:
    plan = shipped_experiment("experiment-relief-v1.toml")
    challenger = plan.treatments["more-relief"]
    assert challenger is not None
    shipped = shipped_treatment_rules()
    potential = Segment.POTENTIAL
    assert (
        challenger.by_segment[potential].interest_relief_bp
        > shipped.by_segment[potential].interest_relief_bp
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('control = "control"', 'control = "control"\nowner = "ops"'), "unknown keys: owner"),
        (
            ("weight_bp = 7000", "weight_bp = 6000"),
            "sum to 9000 basis points; they must sum to 10000",
        ),
        (('control = "control"', 'control = "champion"'), "control 'champion' is not one of"),
        (("generous.toml", "missing.toml"), "variant 2 (generous): treatment file"),
        (
            ("weight_bp = 3000", "weight_bp = 3000\ncolour = 1"),
            "variant 1 (control): unknown keys: colour",
        ),
        (("weight_bp = 3000", "weight_bp = 3000.5"), "weight_bp must be a whole number"),
        (("starts_on = 2026-11-01", 'starts_on = "soon"'), "'starts_on' must be a day"),
        (('name = "generous"', 'name = "control"'), "the name is used twice"),
        (
            ("weight_bp = 3000", 'weight_bp = 3000\ntreatment = "generous.toml"'),
            "the control keeps the treatment rules in force",
        ),
    ],
)
def test_bad_files_are_refused_with_where_and_why(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change, 1))
    with pytest.raises(ExperimentFileError, match="experiment.toml") as caught:
        load_experiment(path)
    assert message in str(caught.value)


def test_a_missing_treatment_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ExperimentFileError, match=r"generous\.toml") as caught:
        load_experiment(write(tmp_path, GOOD, rules=False))
    assert "not found" in str(caught.value)


def test_a_broken_treatment_file_says_what_is_wrong(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    (tmp_path / "generous.toml").write_text(
        CHALLENGER_RULES.replace("interest_relief_bp = 9000", "interest_relief_bp = 20000"),
        encoding="utf-8",
    )
    with pytest.raises(ExperimentFileError, match="interest_relief_bp must be whole basis points"):
        load_experiment(path)


def test_a_missing_or_unreadable_experiment_file(tmp_path: Path) -> None:
    with pytest.raises(ExperimentFileError, match="experiment file not found"):
        load_experiment(tmp_path / "nope.toml")
    with pytest.raises(ExperimentFileError, match="not valid TOML"):
        load_experiment(write(tmp_path, "key = "))


def test_an_experiment_file_that_is_not_utf8_or_a_folder_is_refused_a_bom_is_not(
    tmp_path: Path,
) -> None:
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe x")
    with pytest.raises(ExperimentFileError, match=r"bin.toml: not UTF-8 \(invalid start byte"):
        load_experiment(binary)
    with pytest.raises(ExperimentFileError, match="cannot be read"):
        load_experiment(tmp_path)
    path = write(tmp_path, GOOD)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_experiment(path).key == "relief-test"


def test_one_variant_is_not_an_experiment(tmp_path: Path) -> None:
    text = (
        'key = "k"\nstarts_on = 2026-11-01\ncontrol = "c"\n'
        '[[variants]]\nname = "c"\nweight_bp = 10000\n'
    )
    with pytest.raises(ExperimentFileError, match="at least two"):
        load_experiment(write(tmp_path, text))
