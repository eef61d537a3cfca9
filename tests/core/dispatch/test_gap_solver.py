"""GAP solver and the `dispatch gap` command on small OR-Library problems."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from debtflow.cli.dispatch import app
from debtflow.core.dispatch.gap import agent_loads, is_feasible, objective_value, solve_gap
from debtflow.core.dispatch.orlib import GapInstance, read_gap_file

DATA = Path(__file__).resolve().parents[3] / "data" / "gap"


def _bounds() -> dict[str, dict[str, str]]:
    with (DATA / "gap_bounds.csv").open(newline="") as handle:
        return {row["instance"]: row for row in csv.DictReader(handle)}


def _instance(name: str) -> GapInstance:
    row = _bounds()[name]
    return read_gap_file(DATA / row["file"])[int(row["index_in_file"])]


@pytest.mark.parametrize("name", ["gap1-0", "gap1-3"])
def test_small_orlibrary_problems_reach_the_published_optimum_both_ways(name: str) -> None:
    row = _bounds()[name]
    instance = _instance(name)
    best_profit = solve_gap(instance, maximize=True, time_limit_s=10)
    least_cost = solve_gap(instance, maximize=False, time_limit_s=10)
    assert best_profit.feasible and least_cost.feasible
    assert best_profit.objective == int(row["max_optimum_orlib"])
    assert least_cost.objective == int(row["min_optimum"])
    assert best_profit.optimal and least_cost.optimal


def test_type_a_problem_is_feasible_and_at_the_known_optimum() -> None:
    row = _bounds()["a05100"]
    solution = solve_gap(_instance("a05100"), time_limit_s=10)
    assert solution.feasible
    assert is_feasible(_instance("a05100"), solution.agent_of_job)
    assert solution.objective == int(row["min_best_known"])
    assert solution.bound is not None and solution.bound <= solution.objective + 1e-6


def test_solution_uses_each_job_once_and_respects_every_capacity() -> None:
    instance = _instance("a10100")
    solution = solve_gap(instance, time_limit_s=5)
    assert solution.agent_of_job.shape == (instance.jobs,)
    assert (agent_loads(instance, solution.agent_of_job) <= instance.capacity).all()
    assert solution.objective == objective_value(instance, solution.agent_of_job)


def test_tight_capacities_force_the_expensive_agent() -> None:
    # Both jobs prefer agent 0, which has room for only one of them.
    instance = GapInstance(
        cost=np.array([[1, 1], [10, 20]]),
        resource=np.array([[5, 5], [5, 5]]),
        capacity=np.array([5, 5]),
    )
    solution = solve_gap(instance, time_limit_s=5)
    assert solution.objective == 11
    assert solution.agent_of_job.tolist() == [1, 0]


def test_infeasible_problem_is_reported_not_faked() -> None:
    instance = GapInstance(
        cost=np.array([[1, 1, 1]]), resource=np.array([[4, 4, 4]]), capacity=np.array([8])
    )
    solution = solve_gap(instance, time_limit_s=2)
    assert not solution.feasible
    assert solution.objective is None
    assert (solution.agent_of_job == -1).all()


def test_time_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="time_limit_s"):
        solve_gap(_instance("gap1-0"), time_limit_s=0)


runner = CliRunner()


def test_cli_prints_one_json_object_for_the_chosen_problem() -> None:
    row = _bounds()["gap1-2"]
    result = runner.invoke(
        app, ["gap", str(DATA / "gap1.txt"), "--index", "2", "--time-limit", "10", "--maximize"]
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert set(answer) == {"objective", "feasible", "seconds"}
    assert answer["feasible"] is True
    assert answer["objective"] == int(row["max_optimum_orlib"])
    assert 0 <= answer["seconds"] <= 10


def test_cli_minimises_by_default() -> None:
    row = _bounds()["gap1-2"]
    result = runner.invoke(
        app, ["gap", str(DATA / "gap1.txt"), "--index", "2", "--time-limit", "10"]
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["objective"] == int(row["min_optimum"])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--index", "5"], "out of range"),
        (["--index", "-1"], "out of range"),
        (["--time-limit", "0"], "must be positive"),
    ],
)
def test_cli_rejects_bad_options_without_a_traceback(arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["gap", str(DATA / "gap1.txt"), *arguments])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_cli_rejects_missing_and_malformed_files(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["gap", str(tmp_path / "none.txt")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    broken = tmp_path / "broken.txt"
    broken.write_text("1\n2 3\n1 2 3\n")
    malformed = runner.invoke(app, ["gap", str(broken)])
    assert malformed.exit_code == 2 and "not an OR-Library GAP file" in malformed.stderr
