"""Batched gate decisions (a dialer's next numbers): a large batch is stored by COPY on
PostgreSQL and must decide exactly as single asks do, keep the caps across the batch, and
keep them between two batches racing for the same debtor."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from compliance.world import make_world
from debtflow.compliance import repository
from debtflow.compliance.service import ContactAsk
from debtflow.contact import service
from debtflow.db import make_engine
from debtflow.migrate import upgrade
from debtflow.models import ContactDecision

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 20, 11, 0, tzinfo=SHANGHAI)


def _asks(worlds, *, per_world, start=START, party="dialer"):
    """Interleaved asks: one per world per minute, each a call."""
    return [
        ContactAsk(
            case_id=world.case.id,
            channel="call" if minute % 5 else "sms",
            planned_at=start + timedelta(minutes=minute),
            collecting_party=party,
            requested_by=f"{party}-1",
        )
        for minute in range(per_world)
        for world in worlds
    ]


def _verdicts(decisions):
    return [(d.allowed, d.reasons, d.next_allowed_at, d.channel) for d in decisions]


def test_a_copied_batch_decides_like_single_asks_and_is_stored(session):
    batch_worlds = [make_world(session, tag=tag) for tag in "CDEF"]
    single_worlds = [make_world(session, tag=tag) for tag in "GHIJ"]
    asks = _asks(batch_worlds, per_world=10)
    assert len(asks) >= repository.COPY_FROM  # the COPY path on PostgreSQL

    decisions = service.request_contacts(session, asks=asks, now=START)

    twin = {b.case.id: s.case.id for b, s in zip(batch_worlds, single_worlds, strict=True)}
    singles = [
        service.request_contact(
            session,
            case_id=twin[a.case_id],
            channel=a.channel,
            planned_at=a.planned_at,
            collecting_party=a.collecting_party,
            requested_by=a.requested_by,
            now=START,
        )
        for a in asks
    ]
    assert _verdicts(decisions) == _verdicts(singles)
    assert [d.case_id for d in decisions] == [a.case_id for a in asks]
    # the caps held inside the batch: at most 3 connected calls a day per debtor
    for world in batch_worlds:
        allowed_calls = [
            d for d in decisions if d.case_id == world.case.id and d.allowed and d.channel == "call"
        ]
        assert len(allowed_calls) == 3
    denied = [d for d in decisions if not d.allowed]
    assert denied and all("daily_connected_call_limit" in d.reasons for d in denied)
    # stored, with ids, as the session's own objects, and the reasons as JSON lists
    ids = [d.id for d in decisions]
    assert len(set(ids)) == len(ids) and all(isinstance(i, int) for i in ids)
    assert all(session.get(ContactDecision, d.id) is d for d in decisions)
    stored = dict(
        session.execute(
            select(ContactDecision.id, ContactDecision.reasons).where(ContactDecision.id.in_(ids))
        ).all()
    )
    assert stored == {d.id: d.reasons for d in decisions}
    [(raw_reasons,)] = session.execute(
        text("SELECT reasons FROM contact_decision WHERE id = :id"), {"id": denied[0].id}
    ).all()
    parsed = raw_reasons if isinstance(raw_reasons, list) else json.loads(raw_reasons)
    assert parsed == denied[0].reasons
    # a later batch sees the stored reservations: nothing more for these debtors today
    later = service.request_contacts(
        session, asks=_asks(batch_worlds, per_world=8, start=START + timedelta(hours=2)), now=START
    )
    assert not any(d.allowed and d.channel == "call" for d in later)


def test_two_large_batches_racing_for_the_same_debtors_keep_the_caps(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        with Session(engine, expire_on_commit=False) as session:
            worlds = [make_world(session, tag=tag) for tag in "KLMN"]
            session.commit()
        # the same debtors in opposite orders: the lock order (debtor id) prevents deadlock
        first = _asks(worlds, per_world=10, party="dialer-a")
        second = _asks(list(reversed(worlds)), per_world=10, party="dialer-b")
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def dial(asks):
            try:
                with Session(engine) as session:
                    barrier.wait(timeout=10)
                    service.request_contacts(session, asks=asks, now=START)
                    session.commit()
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=dial, args=(asks,)) for asks in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        with Session(engine) as session:
            for world in worlds:
                calls = session.scalar(
                    select(func.count())
                    .select_from(ContactDecision)
                    .where(
                        ContactDecision.case_id == world.case.id,
                        ContactDecision.allowed,
                        ContactDecision.channel == "call",
                    )
                )
                assert calls == 3  # across both dialers, never more than the daily cap
            total = session.scalar(select(func.count()).select_from(ContactDecision))
            assert total == len(first) + len(second)
    finally:
        engine.dispose()
