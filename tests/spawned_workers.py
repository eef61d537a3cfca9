"""Worker functions for ``debtflow.web.workers.WorkerPool`` tests. The pool spawns its
processes, which import the function by module name — a test module, imported by pytest's
importlib mode, cannot be imported that way; this module, on ``pythonpath``, can."""

from __future__ import annotations

import sys

from debtflow.web.workers import STARTUP_FAILURE, ServerOptions, WorkerSeat


def cannot_start(options: ServerOptions, seat: WorkerSeat) -> None:
    """A worker whose app fails before serving (uvicorn's exit status for that)."""
    sys.exit(STARTUP_FAILURE)


def crash(options: ServerOptions, seat: WorkerSeat) -> None:
    """A worker that dies at once with an ordinary error status."""
    sys.exit(1)
