"""`debtflow dispatch ...`: case-to-collector dispatch commands.

`gap` is a thin wrapper over `debtflow.core.dispatch.gap`, the same capacity-constrained
assignment core the platform uses; it solves one problem of an OR-Library GAP file.
Further commands (e.g. `explain`) are added to the same `app`. Errors for bad input go to
stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from debtflow.cli import run_started, seconds_left
from debtflow.core.dispatch.gap import solve_gap
from debtflow.core.dispatch.orlib import GapFormatError, read_gap_file

app = typer.Typer(help="Dispatch cases to collectors; GAP benchmark entry point.")


@app.callback()
def dispatch() -> None:
    """Dispatch cases to collectors (a command group, also with a single command)."""


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@app.command()
def gap(
    file: Annotated[Path, typer.Argument(help="OR-Library GAP file (e.g. gapd.txt, c10400)")],
    index: Annotated[int, typer.Option("--index", help="which problem of the file, 0-based")] = 0,
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="seconds for the whole solve, all included")
    ] = 30.0,
    maximize: Annotated[
        bool, typer.Option("--maximize", help="the matrix holds profits to maximise")
    ] = False,
) -> None:
    """Solve problem K of a GAP file; print {"objective", "feasible", "seconds"}."""
    started = run_started()
    if time_limit <= 0:
        _fail("--time-limit must be positive")
    if not file.is_file():
        _fail(f"no such file: {file}")
    try:
        problems = read_gap_file(file)
    except GapFormatError as exc:
        _fail(f"{file} is not an OR-Library GAP file: {exc}")
    if not 0 <= index < len(problems):
        _fail(f"--index {index} is out of range: {file} holds {len(problems)} problem(s)")
    # the limit covers the whole run: start-up, imports and reading the file included
    solution = solve_gap(
        problems[index], maximize=maximize, time_limit_s=seconds_left(time_limit, started)
    )
    typer.echo(
        json.dumps(
            {
                "objective": solution.objective,
                "feasible": solution.feasible,
                "seconds": round(time.monotonic() - started, 3),
            }
        )
    )
