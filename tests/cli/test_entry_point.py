"""The console script loads only the command group it runs (the whole command line costs
seconds of imports), lists every group when asked for help, and commands whose
``--time-limit`` covers the whole run count start-up and imports against it."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from debtflow import cli
from debtflow.cli.main import COMMANDS, GROUPS, build_app

PROBE = """
import sys
from debtflow.cli.main import main
sys.argv = ["debtflow", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print("LOADED", sorted(m for m in sys.modules if m.startswith("debtflow.cli.")))
"""


def _run(*args: str) -> tuple[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    output, _, loaded = done.stdout.rpartition("LOADED ")
    return output, json.loads(loaded.replace("'", '"'))


def test_a_group_loads_only_its_own_modules():
    output, loaded = _run("route", "--help")
    assert "solomon" in output
    assert "debtflow.cli.route" in loaded
    for other in ("conversation", "model", "portfolio", "case", "dispatch"):
        assert f"debtflow.cli.{other}" not in loaded


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_single_command_keeps_its_name(command: str):
    # the root stays a group: "debtflow serve --help" is serve's help, not an error
    output, loaded = _run(command, "--help")
    assert f"debtflow {command}" in output
    assert f"debtflow.cli.{COMMANDS[command][0]}" in loaded
    assert "debtflow.cli.conversation" not in loaded


def test_help_and_an_unknown_name_list_every_group():
    output, loaded = _run("--help")
    for name in [*GROUPS, *COMMANDS]:
        assert name in output
    assert "debtflow.cli.conversation" in loaded
    _, loaded = _run("no-such-command")
    assert "debtflow.cli.conversation" in loaded


def test_the_in_process_app_has_every_command_once():
    app = build_app()
    groups = [group.name for group in app.registered_groups]
    commands = [command.name for command in app.registered_commands]
    assert groups == list(GROUPS)
    assert commands == list(COMMANDS)
    # building twice (the console script after the in-process app) registers nothing twice
    dispatch = build_app("dispatch").registered_groups[0].typer_instance
    assert dispatch is not None
    names = [command.name or command.callback.__name__ for command in dispatch.registered_commands]  # type: ignore[union-attr]
    assert len(names) == len(set(names))
    assert "gap" in names and "explain" in names


def test_the_time_left_counts_from_the_start_of_the_run(monkeypatch: pytest.MonkeyPatch):
    four_seconds_ago = time.monotonic() - 4.0
    assert cli.seconds_left(30.0, four_seconds_ago) == pytest.approx(30.0 - 4.0 - 0.5, abs=0.05)
    # a limit already spent still leaves the solver a tenth of it, never zero or less
    assert cli.seconds_left(2.0, four_seconds_ago) == pytest.approx(0.2)
    # in-process (a test runner) the clock starts at the call; the console script counts
    # from the process's start, interpreter start-up and imports included
    assert abs(cli.run_started() - time.monotonic()) < 0.05
    monkeypatch.setattr(cli, "console_run", True)
    assert cli.run_started() == cli.PROCESS_STARTED
    assert 0.0 <= time.monotonic() - cli._process_started() < 3600.0


def test_the_console_script_keeps_a_solve_within_its_limit(tmp_path):
    problem = tmp_path / "one.txt"
    # one problem, 2 agents x 3 jobs: costs, resources (2 each), capacities 4 and 4
    problem.write_text("1\n2 3\n5 6 7\n4 4 4\n2 2 2\n2 2 2\n4 4\n", encoding="utf-8")
    script = (
        "import sys; from debtflow.cli.main import main; "
        "sys.argv = ['debtflow', *sys.argv[1:]]; main()"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script, "dispatch", "gap", str(problem), "--time-limit", "3"],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.monotonic() - started
    answer = json.loads(done.stdout)
    assert answer["feasible"] is True
    assert answer["objective"] == 5 + 4 + 4  # agent 0 takes job 0, agent 1 jobs 1 and 2
    # "seconds" counts the whole process, imports included, and stays within the limit
    assert 0.0 < answer["seconds"] <= wall
    assert wall < 3.0 + 1.0
