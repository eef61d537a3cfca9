"""A double-tapped check-in: two requests for the same stop at the same moment, on two real
connections (SQLite and PostgreSQL). Exactly one visit is opened, and the compliance gate
is asked once — a second decision would count against the debtor's daily contact limits."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from debtflow.db import get_engine, immediate, unit_of_work
from debtflow.field import service
from debtflow.field.errors import VisitStillOpen
from debtflow.migrate import upgrade
from debtflow.models import ContactDecision, FieldCheckin, User
from field.world import HOME, at, make_field_world

HOLD_SECONDS = 0.3  # the first check-in keeps its transaction open this long


def test_two_simultaneous_check_ins_open_one_visit(database_url: str) -> None:
    engine = get_engine()
    upgrade(engine)
    with unit_of_work(engine) as session:
        world = make_field_world(session)
        world.route(session, collector=world.field, case_ids=[world.case.id])
        user_id, case_id = world.field_user.id, world.case.id

    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def tap() -> None:
        try:
            barrier.wait(timeout=10)
            with Session(engine, expire_on_commit=False) as session:
                immediate(session)  # what the request's session does for a POST
                user = session.get(User, user_id)  # as the request's sign-in check reads it
                assert user is not None
                try:
                    result = service.check_in(
                        session,
                        user=user,
                        case_id=case_id,
                        latitude=HOME[0],
                        longitude=HOME[1],
                        accuracy_m=10,
                        now=at(10),
                    )
                except VisitStillOpen:
                    session.rollback()
                    outcomes.append("still open")
                    return
                time.sleep(HOLD_SECONDS)
                session.commit()
                outcomes.append("checked in" if result.checkin is not None else "denied")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(outcomes) == ["checked in", "still open"]
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(FieldCheckin)) == 1
        assert session.scalar(select(func.count()).select_from(ContactDecision)) == 1
