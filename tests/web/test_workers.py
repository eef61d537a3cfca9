"""``debtflow serve --workers N``: the workers share the connections, least connections
first, so connections opened together spread evenly; a hung worker does not stop the
others from accepting; a worker that dies is replaced; SIGTERM stops all.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import spawned_workers
from debtflow.web.workers import (
    NOT_SERVING,
    STALE_S,
    STARTUP_FAILURE,
    AcceptTurn,
    ServerOptions,
    WorkerPool,
    WorkerSeat,
    bind_listener,
    shares_connections,
    takes_turn,
)

DEBTFLOW = str(Path(sys.executable).parent / "debtflow")

pytestmark = pytest.mark.skipif(
    not shares_connections() or not sys.platform.startswith("linux"),
    reason="the pool runs on POSIX; these tests read Linux /proc",
)


def test_the_turn_goes_to_the_worker_holding_fewest_connections() -> None:
    now = 100.0
    fresh = [now, now, now]
    assert takes_turn(0, [3, 4, 5], fresh, now)
    assert not takes_turn(1, [3, 4, 5], fresh, now)
    assert takes_turn(0, [4, 4, 5], fresh, now) and takes_turn(1, [4, 4, 5], fresh, now)
    # a seat no worker serves in, and a worker whose heartbeat is stale, are left out
    assert takes_turn(1, [NOT_SERVING, 4, 5], fresh, now)
    assert takes_turn(1, [0, 4, 5], [now - STALE_S - 0.1, now, now], now)
    assert not takes_turn(1, [0, 4, 5], [now - STALE_S + 0.1, now, now], now)
    # alone, a worker always takes its turn
    assert takes_turn(0, [9], [now], now)
    assert takes_turn(0, [9, NOT_SERVING], [now, now], now)


class _Worker:
    """An ``AcceptTurn`` on an event loop of its own in a thread, standing for a worker
    process: it keeps every connection it accepts open (``held``)."""

    def __init__(self, seat: WorkerSeat) -> None:
        self.held: list[socket.socket] = []
        self.loop = asyncio.new_event_loop()

        async def serve(connection: socket.socket) -> None:
            self.held.append(connection)

        self.turn = AcceptTurn(seat, open_connections=lambda: len(self.held), serve=serve)
        self.loop.call_soon(self.turn.start)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.turn.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        for connection in self.held:
            connection.close()


@contextlib.contextmanager
def _two_workers(*, second_hangs: bool = False) -> Iterator[tuple[int, list[_Worker]]]:
    listener = bind_listener("127.0.0.1", 0, backlog=256)
    held, beats = [NOT_SERVING, NOT_SERVING], [0.0, 0.0]
    workers = [_Worker(WorkerSeat(listener=listener, index=0, held=held, beats=beats))]
    if second_hangs:
        # a worker that beat once, holding nothing, and whose event loop then stopped
        held[1], beats[1] = 0, time.monotonic()
    else:
        workers.append(_Worker(WorkerSeat(listener=listener, index=1, held=held, beats=beats)))
    try:
        yield listener.getsockname()[1], workers
    finally:
        for worker in workers:
            worker.close()
        listener.close()


def _connect(port: int, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]


def _settle(workers: list[_Worker], total: int, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while sum(len(w.held) for w in workers) < total and time.monotonic() < deadline:
        time.sleep(0.02)
    return [len(w.held) for w in workers]


def test_connections_opened_at_once_are_shared_evenly() -> None:
    with _two_workers() as (port, workers):
        time.sleep(0.1)  # both beat
        # the second worker is busy while the connections arrive: the first takes its turn
        # and leaves the rest waiting for the second, rather than taking them all
        workers[1].loop.call_soon_threadsafe(time.sleep, 0.3)
        clients = _connect(port, 32)
        try:
            counts = _settle(workers, 32)
            assert sum(counts) == 32
            assert abs(counts[0] - counts[1]) <= 2, counts
            # the fuller worker's clients leave: the next connections go to it
            fuller = 0 if counts[0] >= counts[1] else 1
            for connection in workers[fuller].held[:8]:
                connection.close()
            del workers[fuller].held[:8]
            time.sleep(0.1)  # a few heartbeats
            before = [len(w.held) for w in workers]
            clients += _connect(port, 6)
            after = _settle(workers, sum(before) + 6)
            assert after[fuller] - before[fuller] >= 5, (before, after)
        finally:
            for client in clients:
                client.close()


def test_a_hung_worker_does_not_stop_the_others_accepting() -> None:
    with _two_workers(second_hangs=True) as (port, workers):
        clients = _connect(port, 3)
        try:
            # a tie takes one; then the hung worker holds fewer, so the turn is its own
            # until its heartbeat goes stale
            assert _settle(workers, 3, timeout=0.5) == [1]
            assert _settle(workers, 3, timeout=STALE_S + 5) == [3]
        finally:
            for client in clients:
                client.close()


def test_an_address_held_by_another_program_is_refused() -> None:
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen()
    try:
        with pytest.raises(OSError):
            bind_listener("127.0.0.1", other.getsockname()[1])
    finally:
        other.close()


def test_a_worker_that_cannot_start_stops_the_server() -> None:
    pool = WorkerPool(
        ServerOptions(host="127.0.0.1", port=0), workers=2, worker=spawned_workers.cannot_start
    )
    started = time.monotonic()
    assert pool.run() == STARTUP_FAILURE
    assert time.monotonic() - started < 30
    assert pool.pids() == []


def test_workers_that_keep_dying_as_they_start_stop_the_server() -> None:
    pool = WorkerPool(
        ServerOptions(host="127.0.0.1", port=0), workers=2, worker=spawned_workers.crash
    )
    started = time.monotonic()
    assert pool.run() == 1
    # five deaths in a row, each restart after a one-second pause
    assert time.monotonic() - started < 60
    assert pool.pids() == []


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError):
        WorkerPool(ServerOptions(host="127.0.0.1", port=0), workers=0)


# --- the command ------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _server_sockets(port: int, *, client_port: int | None = None) -> set[str]:
    """The established TCP sockets on local ``port`` (only the one whose peer is
    ``client_port``, if given), as ``socket:[inode]`` — what /proc/PID/fd links name."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(f.rsplit(":", 1)[1], 16) for f in fields[1:3])
            if local == port and fields[3] == "01" and client_port in (None, remote):
                found.add(f"socket:[{fields[9]}]")
    return found


def _held_by(pid: int, sockets: set[str]) -> int:
    """How many of ``sockets`` process ``pid`` holds."""
    held = 0
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            held += os.readlink(descriptor) in sockets
    return held


def _connections_by_process(pids: list[int], port: int) -> dict[int, int]:
    """Established TCP connections on local ``port`` held by each of ``pids``."""
    sockets = _server_sockets(port)
    return {pid: _held_by(pid, sockets) for pid in pids}


def _wait_for(condition, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``debtflow serve --workers 2 --port 0`` on a fresh database; (process, port)."""
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [DEBTFLOW, "serve", "--workers", "2", "--port", "0"],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ.copy(),
    )
    try:
        found: list[int] = []

        def announced() -> bool:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            match = re.search(
                r"Serving on http://127\.0\.0\.1:(\d+)", (tmp_path / "serve.log").read_text()
            )
            if match:
                found.append(int(match.group(1)))
            return bool(found)

        _wait_for(announced)
        port = found[0]

        _wait_for(
            lambda: "All 2 worker processes are serving" in (tmp_path / "serve.log").read_text()
        )
        assert _answers(port)
        yield server, port
    finally:
        if server.poll() is None:
            workers = _children_or_none(server.pid)  # before the supervisor is gone
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                for child in workers:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, signal.SIGKILL)
                server.wait()
        log.close()


def _children_or_none(pid: int) -> list[int]:
    try:
        return _children(pid)
    except OSError:
        return []


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _workers(server: subprocess.Popen[str]) -> list[int]:
    """The uvicorn workers among the supervisor's children (multiprocessing may add a
    helper process of its own)."""
    return [
        pid
        for pid in _children(server.pid)
        if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
    ]


def _burst(port: int, count: int) -> list[socket.socket]:
    """``count`` connections begun at once (non-blocking connects in a tight loop, as an
    asynchronous client or a proxy's pool opens them), each then answered once."""
    burst = []
    for _ in range(count):
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))  # EINPROGRESS: completes below
        burst.append(client)
    time.sleep(0.3)
    for client in burst:
        client.setblocking(True)
        client.settimeout(30)
        client.sendall(b"GET /api/health HTTP/1.1\r\nHost: test\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
    return burst


def test_connections_opened_together_spread_over_the_workers(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    """Four bursts of 32, each shared evenly. uvicorn's shared socket (the first worker to
    wake accepts all that are pending) put 94/34 and 35/93 of the 128 on the two workers;
    one SO_REUSEPORT socket per worker 57/71 to 68/60, with bursts as uneven as 11/21."""
    server, port = served
    workers = _workers(server)
    assert len(workers) == 2
    held = dict.fromkeys(workers, 0)
    for _ in range(4):
        burst = _burst(port, 32)
        try:
            counted = _connections_by_process(workers, port)
        finally:
            for client in burst:
                client.close()
        assert sum(counted.values()) == 32
        assert max(counted.values()) - min(counted.values()) <= 2, counted
        for pid, count in counted.items():
            held[pid] += count
        time.sleep(0.2)
    assert min(held.values()) >= 60, held


def _idle(port: int, count: int) -> list[socket.socket]:
    """``count`` keep-alive connections opened one after another, each answered once."""
    opened = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", port), timeout=30)
        client.sendall(b"GET /api/health HTTP/1.1\r\nHost: test\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
        opened.append(client)
    return opened


def _owner(pids: list[int], client: socket.socket) -> int:
    """The worker holding the server side of ``client``."""
    server_port, client_port = client.getpeername()[1], client.getsockname()[1]
    sockets = _server_sockets(server_port, client_port=client_port)
    for pid in pids:
        if _held_by(pid, sockets):
            return pid
    raise AssertionError(f"no worker holds the connection from port {client_port}")


def test_new_connections_go_to_the_worker_whose_clients_left(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    """The counts the workers compare are their real connections: after one worker's six
    clients leave, the next six connections all go to it."""
    server, port = served
    workers = _workers(server)
    clients = _idle(port, 12)
    try:
        owners = {client: _owner(workers, client) for client in clients}
        emptied = workers[0]
        leaving = [client for client, pid in owners.items() if pid == emptied]
        assert len(leaving) == 6, owners.values()
        for client in leaving:
            client.close()
            clients.remove(client)
        time.sleep(0.5)  # the worker sees them close and publishes its count
        arriving = _idle(port, 6)
        clients += arriving
        assert [_owner(workers, client) for client in arriving] == [emptied] * 6
    finally:
        for client in clients:
            client.close()


def test_the_others_accept_at_once_when_a_worker_dies(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    """The supervisor clears a dead worker's seat when it sees it die (within 0.2 s), so a
    worker holding more connections than the dead one had does not wait for its heartbeat
    to go stale (1 s)."""
    server, port = served
    workers = _workers(server)
    clients = _idle(port, 3)  # 2 on one worker, 1 on the other
    try:
        held = {pid: sum(_owner(workers, c) == pid for c in clients) for pid in workers}
        victim = min(held, key=held.__getitem__)
        assert held[victim] == 1, held
        os.kill(victim, signal.SIGKILL)
        started = time.monotonic()
        clients += _idle(port, 1)  # the survivor holds 2 against the dead one's 1
        assert time.monotonic() - started < 0.8
    finally:
        for client in clients:
            client.close()


def test_a_dead_worker_is_replaced_and_sigterm_stops_everything(
    served: tuple[subprocess.Popen[str], int],
) -> None:
    server, port = served
    victim, survivor = _workers(server)
    os.kill(victim, signal.SIGKILL)
    _wait_for(lambda: len(_workers(server)) == 2 and victim not in _workers(server))
    assert survivor in _workers(server)
    _wait_for(lambda: _answers(port))
    workers = _workers(server)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0
    for pid in workers:  # joined by the supervisor before it exited
        assert not Path(f"/proc/{pid}").exists()
    assert not _answers(port)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_address_in_use_is_a_clear_error(database_url: str, workers: str) -> None:
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen()
    try:
        done = subprocess.run(
            [DEBTFLOW, "serve", "--workers", workers, "--port",
             str(other.getsockname()[1])],
            capture_output=True,
            text=True,
            timeout=120,
            env=os.environ.copy(),
        )  # fmt: skip
    finally:
        other.close()
    assert done.returncode == 1
    assert "cannot listen on 127.0.0.1" in done.stderr
    assert "Address already in use" in done.stderr
