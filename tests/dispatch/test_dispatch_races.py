"""Dispatch writes that arrive at the same moment: on SQLite and on PostgreSQL, with real
connections in threads, two outcomes recorded at once both reach the learner (also the
very first two)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from debtflow.collector import service as collector_service
from debtflow.core.dispatch.learner import OutcomeLearner
from debtflow.db import immediate, make_engine
from debtflow.demo.collectors import generate_collectors
from debtflow.dispatch import learning, realtime
from debtflow.dispatch.errors import AlreadyAssigned
from debtflow.dispatch.scoring import MODEL
from debtflow.migrate import upgrade
from debtflow.models import Case, DispatchModelState, DispatchOutcome
from debtflow.portfolio import service as portfolio_service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio

HOLD_SECONDS = 0.3  # each transaction stays open this long after its work, before commit


def _at_once(engine, attempts: int, attempt: Callable[[Session], object]) -> list[object]:
    """Each thread: its own connection, wait at the barrier, act, hold the transaction open
    a moment, commit. A POST begins as a writer on SQLite (``debtflow.web.deps``), so these
    do too. A domain error is returned as the outcome; anything else fails the test."""
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
                except AlreadyAssigned as exc:
                    outcomes.append(exc)
                    return
                time.sleep(HOLD_SECONDS)
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


@pytest.fixture
def engine_with_portfolio(database_url, tmp_path):
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine) as session:
        make_creditor(session)
        path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=6, seed=5))
        portfolio_service.import_portfolio(
            session, path=path, creditor_code="TESTBANK", today=TODAY
        )
        collector_service.save_many(session, specs=generate_collectors(cases=240, seed=3))
        session.commit()
    try:
        yield engine
    finally:
        engine.dispose()


def _open_case(engine) -> int:
    with Session(engine) as session:
        return session.scalars(
            select(Case.id).where(Case.assigned_collector_id.is_(None)).order_by(Case.id)
        ).first()


def test_outcomes_recorded_at_once_all_reach_the_learner(engine_with_portfolio):
    engine = engine_with_portfolio
    case_id = _open_case(engine)
    with Session(engine) as session:
        collector_id = realtime.assign_now(session, case_id=case_id).collector_id
        session.commit()

    def record(session: Session) -> object:
        return learning.record_outcome(session, case_id=case_id, recovered_fen=100, contacted=True)

    assert len(_at_once(engine, 2, record)) == 2  # the first two: no state row yet
    assert len(_at_once(engine, 2, record)) == 2  # and two more on the stored state
    with Session(engine) as session:
        state = session.get(DispatchModelState, MODEL)
        assert state is not None
        assert (state.outcomes, state.revision) == (4, 4)
        assert OutcomeLearner.from_json(state.state).outcomes_seen(collector_id) == 4
        assert session.scalar(select(func.count()).select_from(DispatchOutcome)) == 4
