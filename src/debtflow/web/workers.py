"""Serving the app from several worker processes that share the connections evenly.

uvicorn's ``--workers`` shares one listening socket, and the worker whose event loop wakes
first accepts *every* connection pending at that moment. A client that opens its keep-alive
connections together — a reverse proxy's upstream pool, an integration's connection pool,
the load benchmark — can so find all of them on one worker while the others idle. Measured
with 2 workers and 16 connections opened at once: splits of 16/0 in some runs, with up to
half the throughput of an even split (docs/web.md). One ``SO_REUSEPORT`` socket per worker
(Linux) spreads connections by a hash of their addresses instead: no 16/0, but 10/6 or
worse in about half of the runs, and a worker holding 10 of 16 busy connections answers
each about a quarter slower than an even split would.

Here the workers share one listening socket, but each accepts by itself, one connection at
a time, and only while it holds no more open connections than any other worker
(*least connections*; ``AcceptTurn``). The workers publish how many connections they hold
in shared memory, with a heartbeat: a worker whose event loop has not beaten for
``STALE_S`` (hung, or gone) is left out of the comparison, so it never stops the others from
accepting. Connections are spread evenly whatever their timing — 8/8 for 16 opened together.

The supervisor binds and listens (an address in use is reported at once; port 0 picks a free
port), starts the workers, starts a new one for any that dies, and on SIGINT or SIGTERM stops
listening (new connections are refused) and asks each worker to finish its requests and stop.
A worker that fails before it serves (the app cannot be imported or built) stops the whole
server: it would fail the same way on every restart. So do workers that keep dying within
seconds of their start.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.context import SpawnProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE  # a worker's exit status when it failed to start

APP = "debtflow.app:create_app"
#: how long a stopping worker may take to finish its requests before it is killed
STOP_GRACE_S = 30.0
#: a worker that dies sooner than this after its start died starting: it is restarted after
#: a pause, and after ``STARTS_FAILED_TO_STOP`` such deaths in a row the server stops
STARTING_S = 10.0
RESTART_PAUSE_S = 1.0
STARTS_FAILED_TO_STOP = 5
#: how often a worker publishes its connection count and heartbeat, and looks again whether
#: it is its turn to accept
BEAT_S = 0.02
#: a worker whose last heartbeat is older than this is left out of the turn
STALE_S = 1.0
#: after an accept fails for want of resources (no file descriptors left), the pause before
#: the worker tries again; meanwhile its seat reads as not serving, so the others accept
ACCEPT_PAUSE_S = 1.0
#: accept errors of this worker's own making (out of descriptors or memory): it pauses
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: a seat's count while no worker serves in it
NOT_SERVING = -1

logger = logging.getLogger("uvicorn.error")


def shares_connections() -> bool:
    """Whether ``WorkerPool`` can serve here: worker processes inherit the listening socket
    (POSIX; on Windows uvicorn's own workers are used)."""
    return os.name == "posix"


def bind_listener(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A listening, non-blocking TCP socket on ``host:port`` (port 0: any free port).
    Raises OSError when the address is in use."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class CannotListen(Exception):
    """The pool's address could not be bound or listened on (taken, not ours to use)."""


@dataclass(frozen=True)
class ServerOptions:
    """What every worker serves with (pickled into each spawned worker process)."""

    host: str
    port: int
    log_level: str = "info"
    access_log: bool = True


def takes_turn(index: int, held: Sequence[int], beats: Sequence[float], now: float) -> bool:
    """Whether the worker in seat ``index`` may accept the next connection: it holds no
    more than any other serving worker whose heartbeat is fresh (``now`` and the beats are
    ``time.monotonic()`` values, one clock for every process on the machine)."""
    others = [
        count
        for seat, (count, beat) in enumerate(zip(held, beats, strict=True))
        if seat != index and count != NOT_SERVING and now - beat < STALE_S
    ]
    return not others or held[index] <= min(others)


@dataclass(frozen=True)
class WorkerSeat:
    """A worker's place in the pool: the shared listening socket, its index, and the shared
    arrays where every worker publishes the connections it holds and its heartbeat."""

    listener: socket.socket
    index: int
    held: Any  # multiprocessing RawArray("i"): connections per seat, NOT_SERVING when empty
    beats: Any  # multiprocessing RawArray("d"): each seat's last heartbeat (time.monotonic)


class AcceptTurn:
    """Accepts connections on the shared socket while it is this worker's turn
    (``takes_turn``) and hands each to ``serve``. Runs on the worker's event loop: a timer
    publishes the count every ``BEAT_S`` and watches the socket only during a turn; every
    accept takes one connection and looks again."""

    def __init__(
        self,
        seat: WorkerSeat,
        *,
        open_connections: Callable[[], int],
        serve: Callable[[socket.socket], Any],
    ) -> None:
        """``open_connections`` counts the connections the worker serves; ``serve`` is a
        coroutine function taking an accepted socket (counted by ``open_connections`` once
        it returns)."""
        self.seat = seat
        self._open_connections = open_connections
        self._serve = serve
        self._handing_over: set[asyncio.Task[None]] = set()  # held until done
        self._not_yet_served = 0  # accepted, not yet counted by ``open_connections``
        self._watching = False
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def held(self) -> int:
        return self._open_connections() + self._not_yet_served

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.seat.listener.setblocking(False)
        self._beat()

    def stop(self) -> None:
        """Accept no more; the seat reads as not serving."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._watch(False)
        self.seat.held[self.seat.index] = NOT_SERVING

    async def handed_over(self) -> None:
        """Wait until every accepted connection is served (or given up)."""
        if self._handing_over:
            await asyncio.gather(*self._handing_over, return_exceptions=True)

    def _publish(self) -> bool:
        now = time.monotonic()
        self.seat.held[self.seat.index] = self.held()
        self.seat.beats[self.seat.index] = now
        return takes_turn(self.seat.index, self.seat.held, self.seat.beats, now)

    def _beat(self) -> None:
        assert self._loop is not None
        self._watch(self._publish())
        self._timer = self._loop.call_later(BEAT_S, self._beat)

    def _watch(self, turn: bool) -> None:
        if turn == self._watching or self._loop is None:
            return
        if turn:
            self._loop.add_reader(self.seat.listener.fileno(), self._accept)
        else:
            self._loop.remove_reader(self.seat.listener.fileno())
        self._watching = turn

    def _accept(self) -> None:
        assert self._loop is not None
        if not self._publish():  # another worker's connections closed since this turn began
            self._watch(False)
            return
        try:
            connection, _ = self.seat.listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another worker took it, or the client gave up while it waited
        except OSError as exc:
            if exc.errno in (errno.EINVAL, errno.EBADF):
                self.stop()  # the socket no longer listens: the server is stopping
            elif exc.errno in OUT_OF_RESOURCES:
                # the connection waits in the backlog for another worker meanwhile
                logger.error(
                    "cannot accept a connection (%s); trying again in %.0f s", exc, ACCEPT_PAUSE_S
                )
                self.stop()
                self._timer = self._loop.call_later(ACCEPT_PAUSE_S, self._beat)
            # else an error pending on that connection (accept(2): treat as EAGAIN)
            return
        connection.setblocking(False)
        self._not_yet_served += 1
        task = self._loop.create_task(self._hand_over(connection))
        self._handing_over.add(task)
        task.add_done_callback(self._handing_over.discard)
        self._watch(self._publish())

    async def _hand_over(self, connection: socket.socket) -> None:
        try:
            await self._serve(connection)
        except Exception:
            logger.exception("a connection could not be set up")
            connection.close()
        finally:
            # counted by ``open_connections`` from about here (uvicorn counts it when the
            # connection is made, a loop pass before): twice for a moment at most, never missed
            self._not_yet_served -= 1


class PoolWorkerServer(uvicorn.Server):
    """uvicorn's server without a listening socket of its own: it takes the connections
    ``AcceptTurn`` accepts on the pool's shared socket."""

    def __init__(self, config: uvicorn.Config, seat: WorkerSeat) -> None:
        super().__init__(config)
        self.seat = seat
        self.turn: AcceptTurn | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])  # the app's lifespan; no asyncio server
        loop = asyncio.get_running_loop()

        def protocol() -> asyncio.Protocol:
            return self.config.http_protocol_class(  # type: ignore[call-arg]
                config=self.config, server_state=self.server_state, app_state=self.lifespan.state
            )

        async def serve(connection: socket.socket) -> None:
            await loop.connect_accepted_socket(protocol, connection)

        self.turn = AcceptTurn(
            self.seat, open_connections=lambda: len(self.server_state.connections), serve=serve
        )
        self.turn.start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.turn is not None:
            self.turn.stop()
            # connections accepted a moment ago are asked to finish like the others
            await self.turn.handed_over()
        self.seat.listener.close()  # this process's copy; the supervisor stops listening
        await super().shutdown(sockets=[])


def run_worker(options: ServerOptions, seat: WorkerSeat) -> None:
    """One worker process: uvicorn serving the connections it accepts in its turns."""
    config = uvicorn.Config(
        APP,
        factory=True,
        host=options.host,
        port=options.port,
        log_level=options.log_level,
        access_log=options.access_log,
    )
    PoolWorkerServer(config, seat).run()


class WorkerPool:
    """The supervisor: ``run()`` serves until SIGINT or SIGTERM and returns the exit
    status: 0; STARTUP_FAILURE when a worker could not start; 1 when workers kept dying
    as they started."""

    def __init__(
        self,
        options: ServerOptions,
        *,
        workers: int,
        worker: Callable[[ServerOptions, WorkerSeat], None] = run_worker,
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
        self._held = self._context.RawArray("i", [NOT_SERVING] * workers)
        self._beats = self._context.RawArray("d", [0.0] * workers)

    def _start(self, listener: socket.socket, index: int) -> tuple[SpawnProcess, float]:
        seat = WorkerSeat(listener=listener, index=index, held=self._held, beats=self._beats)
        process = self._context.Process(target=self._worker, args=(self.options, seat))
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
        # the supervisor listens (connections wait in the backlog while workers start or
        # restart) and accepts nothing itself
        try:
            listener = bind_listener(self.options.host, self.options.port)
        except OSError as exc:
            raise CannotListen(str(exc)) from exc
        self.options = replace(self.options, port=listener.getsockname()[1])
        handlers: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            handlers = {
                s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)
            }
        logger.info(
            "Serving on http://%s:%d with %d worker processes, least connections first "
            "(Press CTRL+C to quit)",
            f"[{self.options.host}]" if ":" in self.options.host else self.options.host,
            self.options.port,
            self.workers,
        )
        status = 0
        failed_starts = 0  # workers in a row that died starting
        running = self._running = [self._start(listener, i) for i in range(self.workers)]
        announced = False
        try:
            while not self._stop.wait(0.2):
                if not announced and NOT_SERVING not in self._held[:]:
                    # until now the workers already serving took every connection
                    logger.info("All %d worker processes are serving.", self.workers)
                    announced = True
                for index, (process, started) in enumerate(running):
                    if process.is_alive():
                        continue
                    process.join()
                    self._held[index] = NOT_SERVING  # the others stop waiting for its turn
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
                    running[index] = self._start(listener, index)
        finally:
            # new connections are refused at once (a proxy retries elsewhere), not left in
            # the backlog while the workers finish (the workers hold copies of the socket)
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
            self._shut_down([process for process, _ in running])
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
