"""The ``debtflow`` command line (``main.py`` registers one module per domain)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _process_started() -> float:
    """When this process started, on the ``time.monotonic`` clock: from ``/proc`` on Linux
    (so the interpreter's own start-up counts too), else the moment this module loaded."""
    now = time.monotonic()
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started_ticks = int(fields[19])  # starttime, clock ticks after boot
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return now
    age = uptime - started_ticks / os.sysconf("SC_CLK_TCK")
    return now - max(0.0, min(age, 60.0))


#: the process's start on the monotonic clock
PROCESS_STARTED = _process_started()
#: set by the console script (``main.main``): the run began when the process did
console_run = False


def run_started() -> float:
    """When the current run began, for commands whose ``--time-limit`` covers "the whole
    solve, all included": the process's start under the console script (interpreter
    start-up and imports count), else now — a command invoked in-process, e.g. by a test
    runner, starts its clock when it is called."""
    return PROCESS_STARTED if console_run else time.monotonic()


def seconds_left(time_limit: float, started: float, *, reserve: float = 0.5) -> float:
    """Of ``time_limit`` seconds counted from ``started``, what is left for the solver after
    ``reserve`` seconds for printing and exit (never less than a tenth of the limit)."""
    elapsed = time.monotonic() - started
    return max(0.1 * time_limit, time_limit - elapsed - reserve)
