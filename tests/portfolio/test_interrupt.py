"""Ctrl-C (SIGINT to the terminal's process group) or SIGTERM during a large import run by
the console script: a prompt, quiet stop — one line, exit 128 + the signal, the worker
processes gone, nothing written (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from debtflow.cli.main import app
from debtflow.db import get_engine
from debtflow.models import Account, Debtor
from debtflow.portfolio import preparation
from factories import portfolio_rows, write_portfolio

# enough chunks of 1,000 rows that the workers are still busy when the signal comes, on
# a fast machine too (the rows repeat, under new account numbers, so the file is quick
# to write: one debtor holds several accounts)
DISTINCT_ROWS = 1_000
COPIES = 80
STOP_WITHIN_SECONDS = 30.0
WORKERS_WITHIN_SECONDS = 120.0


def large_portfolio(path: Path) -> Path:
    rows = portfolio_rows(count=DISTINCT_ROWS, seed=11)
    copies = [
        {**row, "account_number": f"{row['account_number']}-{k}"}
        for k in range(COPIES)
        for row in rows
    ]
    return write_portfolio(path, copies)


def children(pid: int) -> dict[int, str]:
    """{pid: start time} of the live child processes of ``pid``, read from /proc."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        state, ppid, started = fields[0], int(fields[1]), fields[19]
        if ppid == pid and state != "Z":
            found[int(entry.name)] = started
    return found


def still_running(processes: dict[int, str]) -> list[int]:
    """Those of ``processes`` ({pid: start time}) still alive (a zombie is not: it has ended,
    and a pid taken again by another process is not the same process)."""
    alive = []
    for pid, started in processes.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and fields[19] == started:
            alive.append(pid)
    return alive


def stored(model: type) -> int:
    with get_engine().connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.skipif(preparation._usable_cores() < 2, reason="workers need two cores")
@pytest.mark.parametrize(
    ("signum", "whole_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c", "sigterm"],
)
def test_a_signal_stops_a_large_import_at_once_and_writes_nothing(
    database_url, tmp_path, signum, whole_group
):
    created = CliRunner().invoke(app, ["creditor", "add", "TESTBANK", "测试银行"])
    assert created.exit_code == 0, created.output
    path = large_portfolio(tmp_path / "big.csv")
    command = [sys.executable, "-m", "debtflow.cli.main", "portfolio", "import", str(path)]
    process = subprocess.Popen(
        [*command, "--creditor", "TESTBANK"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a command run from a terminal
    )
    workers: dict[int, str] = {}
    left: list[int] = []
    try:
        # the marker: the worker processes have been forked (the file is read, chunks are
        # being prepared and written)
        deadline = time.monotonic() + WORKERS_WITHIN_SECONDS
        while not workers and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            workers = children(process.pid)
        if not workers:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"no worker processes started (exit {process.returncode}): {out}{err}")
        time.sleep(0.2)  # into the work (its length does not matter)
        if whole_group:
            os.killpg(process.pid, signum)  # Ctrl-C reaches every process of the group
        else:
            os.kill(process.pid, signum)
        sent = time.monotonic()
        try:
            out, err = process.communicate(timeout=STOP_WITHIN_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {STOP_WITHIN_SECONDS:.0f} s after {signum.name}")
        took = time.monotonic() - sent
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        left = still_running(workers)
        for pid in left:  # never left behind by the test either
            os.kill(pid, signal.SIGKILL)

    assert process.returncode == 128 + signum, (process.returncode, out, err)
    assert took < STOP_WITHIN_SECONDS
    assert "Traceback" not in err and "Error" not in err, err
    assert err.strip() == "interrupted: nothing was imported"
    assert left == [], f"worker processes left running: {left}"
    assert (stored(Account), stored(Debtor)) == (0, 0)
