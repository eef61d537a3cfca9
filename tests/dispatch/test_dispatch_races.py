"""Dispatch writes that arrive at the same moment: on SQLite and on PostgreSQL, with real
connections in threads, two outcomes recorded at once both reach the learner (also the
very first two), two real-time placements of one case place it once, and two placements
that want a collector's last free place do not both get it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from debtflow.collector import service as collector_service
from debtflow.core.dispatch.learner import OutcomeLearner
from debtflow.core.errors import Conflict
from debtflow.db import make_engine
from debtflow.demo.collectors import generate_collectors
from debtflow.dispatch import learning, overrides, realtime
from debtflow.dispatch.errors import AlreadyAssigned, NoCollectorFree
from debtflow.dispatch.scoring import MODEL
from debtflow.migrate import upgrade
from debtflow.models import (
    Case,
    Collector,
    DispatchAssignment,
    DispatchModelState,
    DispatchOutcome,
    DispatchOverride,
)
from debtflow.portfolio import service as portfolio_service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio
from threads import at_once

HOLD_SECONDS = 0.3  # each transaction stays open this long after its work, before commit


def _at_once(engine, attempts: int, attempt: Callable[[Session], object]) -> list[object]:
    """At once, each transaction held open a moment; a conflict (a domain error) is an
    outcome."""
    return at_once(engine, attempts, attempt, hold_seconds=HOLD_SECONDS, refusals=(Conflict,))


@pytest.fixture
def engine_with_portfolio(database_url, tmp_path):
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine) as session:
        make_creditor(session)
        path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=8, seed=5))
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


def test_two_placements_of_one_case_at_once_place_it_once(engine_with_portfolio):
    engine = engine_with_portfolio
    case_id = _open_case(engine)
    outcomes = _at_once(engine, 2, lambda session: realtime.assign_now(session, case_id=case_id))
    placed = [o for o in outcomes if isinstance(o, realtime.RealtimeAssignment)]
    refused = [o for o in outcomes if isinstance(o, AlreadyAssigned)]
    assert len(placed) == 1 and len(refused) == 1
    assert f"already with collector {placed[0].collector_code};" in str(refused[0])
    with Session(engine) as session:
        history = session.scalars(
            select(DispatchAssignment).where(DispatchAssignment.case_id == case_id)
        ).all()
        assert [h.collector_id for h in history] == [placed[0].collector_id]
        case = session.get(Case, case_id)
        assert case is not None and case.assigned_collector_id == placed[0].collector_id


def test_two_placements_at_once_do_not_both_take_a_collectors_last_place(engine_with_portfolio):
    engine = engine_with_portfolio
    with Session(engine) as session:
        agent = session.scalars(
            select(Collector).where(Collector.kind == "online_agent").order_by(Collector.id)
        ).first()
        assert agent is not None
        session.execute(update(Collector).where(Collector.id != agent.id).values(active=False))
        agent.capacity_hours_week = 1  # 4 online cases of 0.25 h
        cases = session.scalars(select(Case.id).order_by(Case.id)).all()
        held, waiting = cases[:3], cases[3:5]
        session.execute(
            update(Case).where(Case.id.in_(held)).values(assigned_collector_id=agent.id)
        )
        session.commit()
        agent_id = agent.id
    queue = iter(waiting)
    lock = threading.Lock()

    def place(session: Session) -> object:
        with lock:
            case_id = next(queue)
        return realtime.assign_now(session, case_id=case_id)

    outcomes = _at_once(engine, 2, place)
    placed = [o for o in outcomes if isinstance(o, realtime.RealtimeAssignment)]
    refused = [o for o in outcomes if isinstance(o, NoCollectorFree)]
    assert len(placed) == 1 and len(refused) == 1
    assert placed[0].collector_id == agent_id
    with Session(engine) as session:
        load = session.scalar(
            select(func.count()).select_from(Case).where(Case.assigned_collector_id == agent_id)
        )
        assert load == 4
        assert session.scalar(select(func.count()).select_from(DispatchAssignment)) == 1


def test_an_override_and_a_placement_of_one_case_at_once_do_not_lose_either(
    engine_with_portfolio,
):
    """The override locks the case as a placement does: either the placement comes first
    and the override moves the case on from the collector it got, or the override comes
    first and the placement is refused. Either way the case ends with the override's
    collector and the override names the collector it really took the case from."""
    engine = engine_with_portfolio
    case_id = _open_case(engine)
    with Session(engine) as session:
        target = session.scalars(
            select(Collector.id)
            .where(Collector.kind == "online_agent")
            .order_by(Collector.id.desc())
        ).first()
    lock = threading.Lock()
    turns = iter(["place", "override"])

    def act(session: Session) -> object:
        with lock:
            turn = next(turns)
        if turn == "place":
            return realtime.assign_now(session, case_id=case_id)
        return overrides.override(
            session, case_id=case_id, collector_id=target, reason="race", by="test"
        )

    _at_once(engine, 2, act)
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.assigned_collector_id == target
        history = session.scalars(
            select(DispatchAssignment)
            .where(DispatchAssignment.case_id == case_id)
            .order_by(DispatchAssignment.assigned_at, DispatchAssignment.id)
        ).all()
        assert history[-1].how == "override" and history[-1].collector_id == target
        before = history[-2].collector_id if len(history) > 1 else None
        assert history[-1].previous_collector_id == before
        record = session.scalars(select(DispatchOverride)).one()
        assert record.from_collector_id == before


def test_the_night_leaves_cases_the_day_changed_while_it_planned(
    engine_with_portfolio, monkeypatch
):
    """While the night solves, real-time placements commit (PostgreSQL; on SQLite the night
    holds the writer lock from its first step, so nothing commits in between). Its plan
    read those cases as queued: it must not undo the placements, nor record hand-overs it
    did not make."""
    from datetime import timedelta

    from debtflow.dispatch import service as dispatch_service

    engine = engine_with_portfolio
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite writers are serial: no write commits while the night runs")
    with Session(engine) as session:
        dispatch_service.dispatch_cases(session, TODAY)
        session.execute(update(Case).values(assigned_collector_id=None, assigned_at=None))
        session.commit()
        online = session.scalar(
            select(Collector.id).where(Collector.kind == "online_agent").order_by(Collector.id)
        )
    planned = dispatch_service.solve_assignment

    def placements_commit_meanwhile(*args, **kwargs):
        plan = planned(*args, **kwargs)
        with Session(engine) as day:  # the day's real-time placements, committed
            day.execute(update(Case).values(assigned_collector_id=online))
            day.commit()
        return plan

    monkeypatch.setattr(dispatch_service, "solve_assignment", placements_commit_meanwhile)
    night = TODAY + timedelta(days=1)
    with Session(engine) as session:
        counts = dispatch_service.dispatch_cases(session, night)
        session.commit()
    with Session(engine) as session:
        holders = set(session.scalars(select(Case.assigned_collector_id)).all())
        written = session.scalar(
            select(func.count())
            .select_from(DispatchAssignment)
            .where(DispatchAssignment.dispatch_day == night)
        )
    assert holders == {online}, "the placements made during the night stand"
    assert written == 0 and counts["dispatch_assigned"] == 0
    assert counts["dispatch_changed_meanwhile"] == 8
