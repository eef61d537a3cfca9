"""Requests that wait for a lock never starve the one holding it of a thread
(``debtflow.web.slots.RequestSlots``), on SQLite and PostgreSQL.

Without the slots, FastAPI validates a synchronous endpoint's result in a second pool thread
before the request's transaction commits: with the pool full of requests waiting for the
holder's row lock, the holder never commits and the worker hangs (this test then times out
instead of passing)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from debtflow.db import session_factory
from debtflow.web import deps
from debtflow.web.deps import DbSession
from debtflow.web.slots import RequestSlots

THREADS = 2
CLIENTS = 8


@pytest.fixture
def lock_app(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE slot_probe (id INTEGER PRIMARY KEY, hits INTEGER)"))
        connection.execute(text("INSERT INTO slot_probe (id, hits) VALUES (1, 0)"))
    monkeypatch.setattr(deps, "session_factory", lambda: session_factory(engine))
    app = FastAPI()
    locking = "" if engine.dialect.name == "sqlite" else " FOR UPDATE"

    @app.post("/hit")
    def hit(session: DbSession) -> dict[str, int]:
        # one row every request locks until its transaction ends, like the debtor row that
        # contact decisions and logs for one debtor take
        hits = session.execute(text(f"SELECT hits FROM slot_probe WHERE id = 1{locking}")).scalar()
        time.sleep(0.02)  # hold it long enough for the others to pile up behind it
        session.execute(text("UPDATE slot_probe SET hits = :hits WHERE id = 1"), {"hits": hits + 1})
        return {"hits": hits + 1}

    app.add_middleware(RequestSlots, slots=THREADS)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE slot_probe"))


def test_concurrent_writers_of_one_locked_row_all_finish_on_a_small_pool(lock_app: TestClient):
    statuses: list[int] = []

    def client() -> None:
        for _ in range(3):
            statuses.append(lock_app.post("/hit").status_code)

    workers = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers), "requests hung on the row lock"
    assert statuses == [200] * (CLIENTS * 3)
    # every increment was made under the lock: none lost
    assert lock_app.post("/hit").json() == {"hits": CLIENTS * 3 + 1}


def test_a_worker_needs_at_least_one_slot():
    with pytest.raises(ValueError, match="at least one"):
        RequestSlots(FastAPI(), slots=0)
