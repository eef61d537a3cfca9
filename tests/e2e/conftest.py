"""A real server for browser tests: a temporary SQLite database built with
``debtflow demo --no-serve`` (plus the demo users), served by uvicorn on a free loopback
port, and Debian's Chromium driven by Playwright (never ``playwright install``)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BIN = Path(sys.executable).parent

ENSURE_DEMO_USERS = """
from sqlalchemy import select
from debtflow.auth.demo_users import create_demo_users
from debtflow.db import unit_of_work
from debtflow.models import User
with unit_of_work() as session:
    if session.scalars(select(User).where(User.username == "agent1")).first() is None:
        create_demo_users(session)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium fonts-noto-cjk)")
    pytest.importorskip("playwright.sync_api")
    workdir = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "DEBTFLOW_DATABASE_URL": f"sqlite:///{workdir}/e2e.db",
        "DEBTFLOW_DATA_DIR": str(workdir),
        # the development-only simulated payment provider (off unless enabled)
        "DEBTFLOW_PAYMENT_PROVIDER": "simulated",
    }
    debtflow = shutil.which("debtflow", path=str(BIN)) or str(BIN / "debtflow")
    subprocess.run(
        [debtflow, "demo", "--cases", "120", "--no-serve"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    subprocess.run([sys.executable, "-c", ENSURE_DEMO_USERS], env=env, check=True, timeout=120)
    port = _free_port()
    log = (workdir / "uvicorn.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "debtflow.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "uvicorn did not start: " + (workdir / "uvicorn.log").read_text()
                    ) from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
