"""Loopback load test of the web app on PostgreSQL with 2 worker processes:
requests/s and p50/p99 latency of logging a contact (gate decision + contact log, two
POSTs) and of the case page (HTML, cookie session), beside a same-run baseline — the
health endpoint (one ``SELECT 1``) through the same server, client and connections.

A fresh database (``debtflow_bench_…`` on the test server, or ``--database-url``) gets the
demo (``debtflow demo --cases N``) and its users; every open case is given to ``agent1``
so the contacts spread over many debtors. Then ``debtflow serve --workers 2
--no-access-log`` starts on a free loopback port and ``--connections`` client coroutines
drive each scenario for ``--seconds`` after a warm-up, each over its own keep-alive HTTP/1.1
connection. ``debtflow serve`` shares the connections between its workers, least connections first
(``debtflow.web.workers``; the ``split`` column shows each worker's share of a scenario's
connections): with uvicorn's shared socket the connections a scenario opens together could
all land on one worker (16/0 in some runs), which halved throughput, and with one
SO_REUSEPORT socket per worker 10/6 or worse by the odds of a hash in nearly half the runs. The
client is a few lines of asyncio streams (``LoopbackConnection``), not httpx: on a 2-core
machine the load generator shares the cores with the server, and httpx's per-request CPU
(about 1 ms) took a third of them — the figures measured the client as much as the server.

Every response is checked: 200 (pages, health) or 201 (decision, contact log), and every
gate decision must allow the contact — a deny counts as a failure, not as a fast request.
So that the gate allows every contact without loosening any rule:

- the contacts are logged as not connected (``no_answer``), so the pack's cap on connected
  calls per debtor and day is never reached, however many requests a run makes;
- when it is not day time (09:00–20:59) for every debtor of the bench database — the demo's
  live in Shanghai and Urumqi — they are all moved to a fixed-offset time zone
  (``Etc/GMT…``) where it is early afternoon, so the debtor-local quiet hours
  (22:00–08:00) do not deny; the zone used is printed.

Targets: ≥ 300 requests/s and p99 ≤ 100 ms for each scenario. The client, the two workers
and PostgreSQL share this machine's cores, so the wall figures are a floor; read them beside
the baseline, and beside the CPU the two workers spent per request (from ``/proc``), which
depends less on what else the machine is running (the client's CPU is not in it;
PostgreSQL's, when the server runs on this machine, is the "PG ms/req" column, and the load
generator's own the "client" column).
``--connections`` is the number of requests in flight: latency ≈ connections /
throughput, so 16 in flight leave a mean of about 53 ms at the 300 requests/s target (room
for a p99 of 100 ms); more only add queueing, fewer leave the workers idle while a loaded
machine schedules the client.

    nice .venv/bin/python benchmarks/bench_web_load.py [--cases 300] [--seconds 10]
        [--connections 16] [--database-url postgresql+psycopg://…] [--keep]
        [--only contact|page]   # the baseline and one scenario, e.g. to profile the server
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ADMIN_URL = os.environ.get(
    "DEBTFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BIN = Path(sys.executable).parent
PASSWORD = "debtflow-demo"

PREPARE = """
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo
from sqlalchemy import select, update
from debtflow.auth import service
from debtflow.auth.demo_users import create_demo_users
from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.db import unit_of_work
from debtflow.models import Case, Debtor, User
password, afternoon, first_hour, last_hour = sys.argv[1:5]
with unit_of_work() as session:
    if session.scalars(select(User).where(User.username == "agent1")).first() is None:
        create_demo_users(session, password=password)
    agent = service.get_user(session, username="agent1")
    session.execute(
        update(Case)
        .where(Case.status.in_(list(OPEN_STATUSES)))
        .values(assigned_collector_id=agent.collector_id)
    )
    now = datetime.now(UTC)
    zones = session.scalars(select(Debtor.timezone).distinct()).all()
    if any(
        not int(first_hour) <= now.astimezone(ZoneInfo(zone)).hour <= int(last_hour)
        for zone in zones
    ):
        session.execute(update(Debtor).values(timezone=afternoon))
        print("moved", ",".join(sorted(zones)))
    token, _web = service.start_session(session, user=agent)
    print(token)
"""

#: debtor-local hours in which the gate allows contacts (the shipped pack: 08:00-22:00),
#: with an hour's margin for the length of a run
DAY_HOURS = range(9, 21)


def _afternoon_zone(now: datetime) -> str:
    """A fixed-offset zone where it is early afternoon now."""
    offset = (13 - now.astimezone(UTC).hour + 12) % 24 - 12  # hours east of UTC, -12..11
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


def _admin(statement: str) -> None:
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (Linux ``/proc``; 0 where unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in listed]


def _tree_cpu(pid: int) -> float:
    """CPU seconds of the ``debtflow serve`` supervisor and its worker processes."""
    return _process_cpu(pid) + sum(_tree_cpu(child) for child in _children(pid))


def _connections_per_worker(root: int, port: int) -> list[int]:
    """Established client connections held by each worker of the server (Linux ``/proc``),
    most first — a worker is a child process holding a listening socket on ``port``; empty
    where ``/proc`` cannot tell."""
    listening: set[str] = set()
    established: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) != port:
                continue
            if fields[3] == "0A":
                listening.add(f"socket:[{fields[9]}]")
            elif fields[3] == "01":
                established.add(f"socket:[{fields[9]}]")
    counts = []
    for child in _children(root):
        try:
            held = {os.readlink(fd) for fd in Path(f"/proc/{child}/fd").iterdir()}
        except OSError:
            continue
        if held & listening:
            counts.append(len(held & established))
    return sorted(counts, reverse=True)


def _postgres_cpu() -> float:
    """CPU seconds of every local ``postgres`` process (server, backends, WAL writer,
    checkpointer); 0 when the server is on another machine or its processes are unreadable."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() != "postgres":
                    continue
            except OSError:
                continue
            total += _process_cpu(int(entry.name))
    return total


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, one per HTTP request
    errors: int = 0
    denied: int = 0
    operations: int = 0
    #: CPU seconds the server's workers spent while the scenario ran
    server_cpu: float = 0.0
    #: CPU seconds of the local PostgreSQL processes in the same time (0 if not local)
    postgres_cpu: float = 0.0
    #: CPU seconds of this process, the load generator, in the same time
    client_cpu: float = 0.0
    #: the scenario's connections held by each worker, most first
    split: list[int] = field(default_factory=list)


@dataclass
class Reply:
    status_code: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LoopbackConnection:
    """One keep-alive HTTP/1.1 connection to the server under test: sends a request, reads
    the status line, the headers and a Content-Length or chunked body. Enough for this
    app's responses, and far cheaper per request than a general-purpose client."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _stream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> Reply:
        reader, writer = await self._stream()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        status_line = await reader.readline()
        if not status_line:
            await self.close()
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length = None
        chunked = closing = False
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                closing = True
        if chunked:
            parts = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                parts.append(await reader.readexactly(size))
                await reader.readline()
            await reader.readline()
            content = b"".join(parts)
        elif length is not None:
            content = await reader.readexactly(length)
        else:
            content = await reader.read()
            closing = True
        if closing:
            await self.close()
        return Reply(status, content)

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return await self.request("GET", path, headers or {})

    async def post(
        self, path: str, *, json_body: object, headers: dict[str, str] | None = None
    ) -> Reply:
        content = json.dumps(json_body).encode()
        return await self.request(
            "POST", path, {**(headers or {}), "Content-Type": "application/json"}, content
        )


async def _drive(
    port: int,
    operation: Callable[[LoopbackConnection, int, Tally], Awaitable[None]],
    *,
    connections: int,
    seconds: float,
    server_cpu: Callable[[], float],
    postgres_cpu: Callable[[], float],
    split: Callable[[], list[int]],
    warmup: float = 2.0,
) -> tuple[Tally, float]:
    pool = [LoopbackConnection("127.0.0.1", port) for _ in range(connections)]
    counter = itertools.count()
    stop_warmup = time.perf_counter() + warmup

    async def warm(connection: LoopbackConnection) -> None:
        scratch = Tally()
        while time.perf_counter() < stop_warmup:
            await operation(connection, next(counter), scratch)

    await asyncio.gather(*(warm(connection) for connection in pool))
    tally = Tally(split=split())
    cpu_before = server_cpu()
    postgres_before = postgres_cpu()
    client_before = time.process_time()
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(connection: LoopbackConnection) -> None:
        while time.perf_counter() < deadline:
            await operation(connection, next(counter), tally)

    await asyncio.gather(*(worker(connection) for connection in pool))
    elapsed = time.perf_counter() - started
    tally.client_cpu = time.process_time() - client_before
    tally.server_cpu = server_cpu() - cpu_before
    tally.postgres_cpu = postgres_cpu() - postgres_before
    for connection in pool:
        await connection.close()
    # let the server see them close before the next scenario opens its own: a worker still
    # holding closed connections would be counted as busier than it is
    await asyncio.sleep(0.5)
    return tally, elapsed


async def _timed(tally: Tally, call: Awaitable[Reply], ok: int) -> Reply:
    start = time.perf_counter()
    response = await call
    tally.latencies.append(time.perf_counter() - start)
    if response.status_code != ok:
        tally.errors += 1
    return response


def _scenarios(
    bearer: str, cookie: str, case_ids: list[int]
) -> dict[str, Callable[[LoopbackConnection, int, Tally], Awaitable[None]]]:
    api = {"Authorization": f"Bearer {bearer}"}
    page = {"Cookie": f"debtflow_session={cookie}"}

    async def health(client: LoopbackConnection, _n: int, tally: Tally) -> None:
        await _timed(tally, client.get("/api/health"), 200)
        tally.operations += 1

    async def log_contact(client: LoopbackConnection, n: int, tally: Tally) -> None:
        case_id = case_ids[n % len(case_ids)]
        now = datetime.now(UTC).isoformat()
        decision = await _timed(
            tally,
            client.post(
                f"/api/cases/{case_id}/contact-decisions",
                json_body={"channel": "call", "planned_at": now},
                headers=api,
            ),
            201,
        )
        tally.operations += 1
        if decision.status_code != 201:
            return
        if not decision.json()["allowed"]:
            tally.denied += 1
            return
        # not connected: a call nobody answered counts against no per-day cap
        await _timed(
            tally,
            client.post(
                f"/api/contact-decisions/{decision.json()['id']}/contacts",
                json_body={"attempted_at": now, "connected": False, "outcome": "no_answer"},
                headers=api,
            ),
            201,
        )

    async def case_page(client: LoopbackConnection, n: int, tally: Tally) -> None:
        await _timed(tally, client.get(f"/cases/{case_ids[n % len(case_ids)]}", headers=page), 200)
        tally.operations += 1

    return {
        "baseline: GET /api/health": health,
        "log a contact (decision + log POSTs)": log_contact,
        "case page GET /cases/{id} (HTML)": case_page,
    }


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--only",
        choices=("contact", "page"),
        help="run the baseline and this one scenario (e.g. to profile the server during it)",
    )
    args = parser.parse_args()
    # killed (e.g. by ``timeout``): still stop the server and drop the database below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    name = None
    url = args.database_url
    if url is None:
        name = f"debtflow_bench_{uuid.uuid4().hex[:8]}"
        _admin(f'CREATE DATABASE "{name}"')
        url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    workdir = Path(tempfile.mkdtemp(prefix="debtflow-web-load-"))
    env = {**os.environ, "DEBTFLOW_DATABASE_URL": url, "DEBTFLOW_DATA_DIR": str(workdir)}
    server = None
    try:
        started = time.perf_counter()
        debtflow = shutil.which("debtflow", path=str(BIN)) or str(BIN / "debtflow")
        subprocess.run(
            [debtflow, "demo", "--cases", str(args.cases), "--no-serve"],
            env=env,
            check=True,
            capture_output=True,
        )
        zone = _afternoon_zone(datetime.now(UTC))
        prepared = subprocess.run(
            [sys.executable, "-c", PREPARE, PASSWORD, zone, str(DAY_HOURS[0]), str(DAY_HOURS[-1])],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        cookie = prepared[-1]
        print(f"demo with {args.cases} cases built in {time.perf_counter() - started:.0f} s")
        if prepared[0] == "moved":
            print(
                f"night for some debtors ({prepared[1]}): the bench debtors live in {zone} "
                "(early afternoon there)"
            )
        port = _free_port()
        log = (workdir / "serve.log").open("w")
        server = subprocess.Popen(
            [debtflow, "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(args.workers), "--log-level", "info", "--no-access-log"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        serving = "are serving" if args.workers > 1 else "Application startup complete"
        while True:
            # every worker serving: one that starts late would find the connections taken
            if serving in (workdir / "serve.log").read_text():
                try:
                    if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            if server.poll() is not None or time.monotonic() > deadline:
                print((workdir / "serve.log").read_text(), file=sys.stderr)
                raise SystemExit("debtflow serve did not start")
            time.sleep(0.3)
        token = httpx.post(
            f"{base}/api/auth/token", data={"username": "agent1", "password": PASSWORD}
        ).json()["access_token"]
        listing = httpx.get(
            f"{base}/api/cases",
            params={"limit": 500},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        case_ids = [item["id"] for item in listing["items"]]
        print(
            f"debtflow serve --workers {args.workers} on {base}; "
            f"agent1 works {len(case_ids)} cases; "
            f"{args.connections} connections, {args.seconds:.0f} s per scenario"
        )
        rows = []
        for label, operation in _scenarios(token, cookie, case_ids).items():
            if args.only and not label.startswith("baseline") and args.only not in label:
                continue
            print(f"running: {label} (server pid {server.pid})", flush=True)
            tally, elapsed = asyncio.run(
                _drive(
                    port,
                    operation,
                    connections=args.connections,
                    seconds=args.seconds,
                    server_cpu=lambda: _tree_cpu(server.pid),
                    postgres_cpu=_postgres_cpu,
                    split=lambda: _connections_per_worker(server.pid, port),
                )
            )
            rows.append((label, tally, elapsed))
        baseline = len(rows[0][1].latencies) / rows[0][2]
        print(
            f"{'scenario':40} {'requests':>9} {'req/s':>8} {'vs base':>8} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'CPU ms/req':>10} {'PG ms/req':>9} {'client':>6} {'split':>6} "
            f"{'errors':>6} {'denied':>7}"
        )
        met = True
        failed = 0
        for label, tally, elapsed in rows:
            rate = len(tally.latencies) / elapsed
            p50 = _percentile(tally.latencies, 0.5) * 1000
            p99 = _percentile(tally.latencies, 0.99) * 1000
            cpu = tally.server_cpu / max(1, len(tally.latencies)) * 1000
            postgres = tally.postgres_cpu / max(1, len(tally.latencies)) * 1000
            client = tally.client_cpu / max(1, len(tally.latencies)) * 1000
            denied = f"{tally.denied:,}" if "contact" in label else ""
            print(
                f"{label:40} {len(tally.latencies):>9,} {rate:>8,.0f} {rate / baseline:>7.2f}x "
                f"{p50:>7.1f} {p99:>7.1f} {cpu:>10.2f} {postgres:>9.2f} {client:>6.2f} "
                f"{'/'.join(map(str, tally.split)):>6} {tally.errors:>6} {denied:>7}"
            )
            failed += tally.errors + tally.denied
            if not label.startswith("baseline"):
                met = met and rate >= 300 and p99 <= 100
        print(f"load average {' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1/5/15 min)")
        if failed:
            print(f"{failed:,} responses failed their check (wrong status or a gate deny)")
            return 1
        print(
            "target >= 300 req/s and p99 <= 100 ms per scenario: "
            + ("met" if met else "NOT met on this machine")
        )
        return 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(workdir, ignore_errors=True)
        if name is not None and not args.keep:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        elif name is not None:
            print(f"kept database {url}")


if __name__ == "__main__":
    sys.exit(main())
