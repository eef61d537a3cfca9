"""Run the same database work in several threads at once, as concurrent requests would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from debtflow.db import immediate


def at_once(
    engine: Engine,
    attempts: int,
    attempt: Callable[[Session], object],
    *,
    hold_seconds: float = 0.0,
    refusals: tuple[type[BaseException], ...] = (),
) -> list[object]:
    """Each thread: its own connection, wait at the barrier, act, hold the transaction open
    ``hold_seconds``, commit. A POST begins as a writer on SQLite
    (``debtflow.web.deps.db_session``), so these do too. An exception of ``refusals`` is
    that thread's outcome (nothing committed); any other fails the test. Outcomes in the
    order the threads finished."""
    barrier = threading.Barrier(attempts)
    outcomes: list[object] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                barrier.wait(timeout=10)
                immediate(session)
                try:
                    outcome = attempt(session)
                except refusals as exc:
                    outcomes.append(exc)
                    return
                time.sleep(hold_seconds)
                session.commit()
                outcomes.append(outcome)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return outcomes
