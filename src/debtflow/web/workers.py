"""Serving the app from several worker processes, each accepting connections on a
listening socket of its own.

uvicorn's ``--workers`` binds one socket and shares it: every worker waits on it, and the
worker whose event loop wakes first accepts *every* connection pending at that moment. A
client that opens its keep-alive connections together — a reverse proxy's upstream pool, an
integration's connection pool, the load benchmark — can so find all of them on one worker
while the others idle. Measured with 2 workers and 16 connections opened at once: splits of
16/0 in some runs, with up to half the throughput of an even split (docs/web.md).

On Linux, ``SO_REUSEPORT`` lets each worker bind a socket of its own on the same address;
the kernel then hands every new connection to one of the listening sockets by a hash of the
connection's addresses, so connections spread evenly whatever their timing. The supervisor
binds the address first (without listening: it accepts nothing), which reports an address
in use at once and fixes the port when port 0 asks for any free one. Elsewhere, uvicorn's
shared socket is used.

The supervisor starts the workers, starts a new one for any that dies, and on SIGINT or
SIGTERM asks each to finish its requests and stop. A worker that fails before it serves
(the app cannot be imported or built, its socket cannot be bound) stops the whole server: it
would fail the same way on every restart. So do workers that keep dying within seconds of their
start.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

from uvicorn.config import STARTUP_FAILURE  # a worker's exit status when it failed to start

APP = "debtflow.app:create_app"
#: how long a stopping worker may take to finish its requests before it is killed
STOP_GRACE_S = 30.0
#: a worker that dies sooner than this after its start died starting: it is restarted after
#: a pause, and after ``STARTS_FAILED_TO_STOP`` such deaths in a row the server stops
STARTING_S = 10.0
RESTART_PAUSE_S = 1.0
STARTS_FAILED_TO_STOP = 5

logger = logging.getLogger("uvicorn.error")


def reuse_port_balances() -> bool:
    """Whether this platform spreads connections over sockets bound with SO_REUSEPORT.
    Linux does (since 3.9); elsewhere the option is missing or means something else (on
    BSD and macOS it lets sockets share an address without balancing between them)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bind_shared_port(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` with SO_REUSEPORT, not yet listening. Raises
    OSError when the address is taken by a socket without the option (another program)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


@dataclass(frozen=True)
class ServerOptions:
    """What every worker serves with (pickled into each spawned worker process)."""

    host: str
    port: int
    log_level: str = "info"
    access_log: bool = True


def run_worker(options: ServerOptions) -> None:
    """One worker process: its own socket on the shared address, one uvicorn server.

    The socket listens before the app loads (a second or two), so connections that arrive
    while the workers start are spread over all of them — each waits in its worker's queue
    until the app is up — rather than all going to the worker that happened to be first."""
    import uvicorn

    config = uvicorn.Config(
        APP,
        factory=True,
        host=options.host,
        port=options.port,
        log_level=options.log_level,
        access_log=options.access_log,
    )
    try:
        sock = bind_shared_port(options.host, options.port)
        sock.listen(config.backlog)
    except OSError as exc:
        logger.error("cannot listen on %s:%d: %s", options.host, options.port, exc)
        sys.exit(STARTUP_FAILURE)
    uvicorn.Server(config).run(sockets=[sock])


class WorkerPool:
    """The supervisor: ``run()`` serves until SIGINT or SIGTERM and returns the exit
    status: 0; STARTUP_FAILURE when a worker could not start; 1 when workers kept dying
    as they started."""

    def __init__(
        self,
        options: ServerOptions,
        *,
        workers: int,
        worker: Callable[[ServerOptions], None] = run_worker,
    ) -> None:
        """``worker`` is what each process runs (a module-level function: the processes
        are spawned, not forked, and import it by name)."""
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.options = options
        self.workers = workers
        self._worker = worker
        self._stop = threading.Event()
        self._context = multiprocessing.get_context("spawn")
        self._running: list[tuple[SpawnProcess, float]] = []

    def _start(self) -> tuple[SpawnProcess, float]:
        process = self._context.Process(target=self._worker, args=(self.options,))
        process.start()
        logger.info("Started worker process [%s]", process.pid)
        return process, time.monotonic()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("Received %s, stopping the workers.", signal.Signals(signum).name)
        self._stop.set()

    def stop(self) -> None:
        """Ask ``run()`` to stop the workers and return (for a caller in another thread)."""
        self._stop.set()

    def pids(self) -> list[int]:
        """The worker processes running now."""
        return [p.pid for p, _ in self._running if p.pid is not None and p.is_alive()]

    def run(self) -> int:
        # held open, never listening: the port stays ours while workers come and go
        reservation = bind_shared_port(self.options.host, self.options.port)
        self.options = replace(self.options, port=reservation.getsockname()[1])
        handlers: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            handlers = {
                s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)
            }
        logger.info(
            "Serving on http://%s:%d with %d worker processes, one listening socket each "
            "(Press CTRL+C to quit)",
            self.options.host,
            self.options.port,
            self.workers,
        )
        status = 0
        failed_starts = 0  # workers in a row that died starting
        running = self._running = [self._start() for _ in range(self.workers)]
        try:
            while not self._stop.wait(0.2):
                for index, (process, started) in enumerate(running):
                    if process.is_alive():
                        continue
                    process.join()
                    lived = time.monotonic() - started
                    failed_starts = failed_starts + 1 if lived < STARTING_S else 0
                    if process.exitcode == STARTUP_FAILURE:
                        logger.error(
                            "Worker process [%s] could not start; stopping the server.",
                            process.pid,
                        )
                        status = STARTUP_FAILURE
                    elif failed_starts >= STARTS_FAILED_TO_STOP:
                        logger.error(
                            "%d worker processes in a row died within %.0f s of their start "
                            "(the last with exit status %s); stopping the server.",
                            failed_starts,
                            STARTING_S,
                            process.exitcode,
                        )
                        status = 1
                    if status:
                        self._stop.set()
                        break
                    logger.warning(
                        "Worker process [%s] died (exit status %s); starting another.",
                        process.pid,
                        process.exitcode,
                    )
                    if lived < STARTING_S:
                        time.sleep(RESTART_PAUSE_S)
                    running[index] = self._start()
        finally:
            self._shut_down([process for process, _ in running])
            reservation.close()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        return status

    def _shut_down(self, processes: list[SpawnProcess]) -> None:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: uvicorn finishes in-flight requests first
        deadline = time.monotonic() + STOP_GRACE_S
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.warning("Worker process [%s] did not stop in time; killed.", process.pid)
                process.kill()
                process.join()
        logger.info("Stopped %d worker processes.", len(processes))
