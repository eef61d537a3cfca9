"""`debtflow route ...`: field-route and VRPTW benchmark commands.

Thin wrappers over `debtflow.core.dispatch` (the same routing core the field-route
planner uses). Errors for bad input go to stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from debtflow.cli import run_started, seconds_left
from debtflow.core.dispatch.solomon import SolomonFormatError, read_solomon, solve_solomon
from debtflow.core.dispatch.vrptw import RoutingInputError

app = typer.Typer(help="Visit routes for field agents and the Solomon VRPTW benchmark.")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@app.command()
def solomon(
    file: Annotated[Path, typer.Argument(help="Solomon VRPTW instance (e.g. R101.txt)")],
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="seconds for the whole solve, all included")
    ] = 60.0,
) -> None:
    """Solve a Solomon instance; print {"vehicles", "distance", "feasible", "seconds"}."""
    started = run_started()
    if time_limit <= 0:
        _fail("--time-limit must be positive")
    try:
        instance = read_solomon(file)
    except FileNotFoundError:
        _fail(f"no such file: {file}")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {file}: {exc}")
    except SolomonFormatError as exc:
        _fail(f"{file} is not a Solomon instance: {exc}")
    try:
        # the limit covers the whole run: start-up, imports and reading the file included
        result = solve_solomon(instance, time_limit_s=seconds_left(time_limit, started))
    except RoutingInputError as exc:
        _fail(f"cannot route {file}: {exc}")
    typer.echo(
        json.dumps(
            {
                "vehicles": result.vehicles,
                "distance": result.distance,
                "feasible": result.feasible,
                "seconds": round(time.monotonic() - started, 3),
            }
        )
    )
    if not result.feasible:
        for violation in result.violations[:20]:
            typer.echo(f"infeasible: {violation}", err=True)
        raise typer.Exit(code=1)


@app.callback()
def main() -> None:
    """Keep `solomon` a sub-command even while it is the only one."""
