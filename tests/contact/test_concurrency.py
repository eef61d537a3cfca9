"""Two agents ask for the last allowed connected call of the day at the same moment: on
SQLite and on PostgreSQL, with two real connections in two threads, exactly one is allowed.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from compliance.world import make_world
from debtflow.contact import service
from debtflow.db import make_engine
from debtflow.migrate import upgrade
from debtflow.models import ContactDecision

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOLD_SECONDS = 0.3  # each transaction stays open this long after deciding


def _race(engine, case_id: int, planned: list[datetime]) -> list[tuple[bool, float, float]]:
    """Each thread: own connection, wait at the barrier, ask the gate, keep the transaction
    open a moment, commit. Returns (allowed, decided_at_monotonic, committed_at)."""
    barrier = threading.Barrier(len(planned))
    results: list[tuple[bool, float, float]] = [(False, 0.0, 0.0)] * len(planned)
    errors: list[BaseException] = []

    def agent(index: int) -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                barrier.wait(timeout=10)
                decision = service.request_contact(
                    session,
                    case_id=case_id,
                    channel="call",
                    planned_at=planned[index],
                    collecting_party=f"agency-{index}",
                    requested_by=f"agent-{index}",
                    now=planned[0],
                )
                decided = time.monotonic()
                time.sleep(HOLD_SECONDS)
                session.commit()
                results[index] = (decision.allowed, decided, time.monotonic())
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=agent, args=(i,)) for i in range(len(planned))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_last_connected_call_is_given_to_exactly_one_of_two_concurrent_agents(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        with Session(engine, expire_on_commit=False) as session:
            world = make_world(session)
            for hour in (9, 10):  # two connected calls already made today, by two parties
                at = datetime(2026, 11, 20, hour, tzinfo=SHANGHAI)
                decision = service.request_contact(
                    session,
                    case_id=world.case.id,
                    channel="ai_voice" if hour == 9 else "call",
                    planned_at=at,
                    collecting_party="ai-voice" if hour == 9 else "in-house",
                    requested_by="bot" if hour == 9 else "agent-x",
                    now=at,
                )
                service.log_contact(
                    session, decision_id=decision.id, attempted_at=at, connected=True, now=at
                )
            session.commit()
            case_id = world.case.id

        planned = [
            datetime(2026, 11, 20, 15, 0, tzinfo=SHANGHAI),
            datetime(2026, 11, 20, 15, 1, tzinfo=SHANGHAI),
        ]
        results = _race(engine, case_id, planned)

        assert sorted(allowed for allowed, _, _ in results) == [False, True]
        winner = next(r for r in results if r[0])
        loser = next(r for r in results if not r[0])
        # the loser's decision was taken only after the winner's transaction committed
        assert loser[1] >= winner[2] - 0.05
        with Session(engine) as session:
            rows = session.scalars(
                select(ContactDecision).where(ContactDecision.case_id == case_id)
            ).all()
            denied = [row for row in rows if not row.allowed]
            assert len(rows) == 4
            assert [row.reasons for row in denied] == [["daily_connected_call_limit"]]
            assert (
                session.scalar(
                    select(func.count()).select_from(ContactDecision).where(ContactDecision.allowed)
                )
                == 3
            )
    finally:
        engine.dispose()


def test_concurrent_requests_for_different_debtors_do_not_block_each_other(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        with Session(engine, expire_on_commit=False) as session:
            first = make_world(session, tag="P")
            second = make_world(session, tag="Q")
            session.commit()
        planned = datetime(2026, 11, 20, 15, 0, tzinfo=SHANGHAI)
        barrier = threading.Barrier(2)
        outcomes: list[bool] = []

        def agent(case_id: int) -> None:
            with Session(engine) as session:
                barrier.wait(timeout=10)
                decision = service.request_contact(
                    session,
                    case_id=case_id,
                    channel="call",
                    planned_at=planned,
                    collecting_party="in-house",
                    requested_by=f"agent-{case_id}",
                    now=planned,
                )
                outcomes.append(decision.allowed)
                session.commit()

        threads = [
            threading.Thread(target=agent, args=(world.case.id,)) for world in (first, second)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert outcomes == [True, True]
    finally:
        engine.dispose()
