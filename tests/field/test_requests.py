"""request_visit: who may ask, what a request must say, one open request per case, and the
nightly route step putting open requests on the route of the agent serving the region."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from debtflow.auth.scoping import NotPermitted
from debtflow.case.service import CaseNotFound
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.field.visits import VisitStatus
from debtflow.field import service
from debtflow.field.errors import CaseClosed, DuplicateVisitRequest, InvalidVisitRequest
from debtflow.models import FieldVisitRequest
from field.world import at


def test_agent_requests_a_visit_on_own_case(session, world):
    row = service.request_visit(
        session,
        case_id=world.case.id,
        user=world.agent_user,
        reason=" 电话失联，需上门 ",
        now=at(9),
    )
    assert row.id is not None
    assert row.status == VisitStatus.REQUESTED
    assert row.reason == "电话失联，需上门"
    assert row.requested_by_id == world.agent_user.id
    assert row.created_at == at(9)
    stored = session.scalars(select(FieldVisitRequest)).all()
    assert [r.id for r in stored] == [row.id]


def test_second_open_request_for_the_same_case_is_a_conflict(session, world):
    service.request_visit(
        session, case_id=world.case.id, user=world.agent_user, reason="失联", now=at(9)
    )
    with pytest.raises(DuplicateVisitRequest) as caught:
        service.request_visit(
            session, case_id=world.case.id, user=world.manager, reason="再次申请", now=at(10)
        )
    assert caught.value.status_code == 409


def test_a_cancelled_request_does_not_block_a_new_one(session, world):
    first = service.request_visit(
        session, case_id=world.case.id, user=world.agent_user, reason="失联", now=at(9)
    )
    service.cancel_request(session, request_id=first.id, user=world.agent_user, now=at(9, 30))
    assert first.status == VisitStatus.CANCELLED
    second = service.request_visit(
        session, case_id=world.case.id, user=world.agent_user, reason="仍失联", now=at(10)
    )
    assert second.id != first.id


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_reason_must_say_why_and_not_too_long(session, world, reason):
    with pytest.raises(InvalidVisitRequest) as caught:
        service.request_visit(
            session, case_id=world.case.id, user=world.agent_user, reason=reason, now=at(9)
        )
    assert caught.value.status_code == 422
    assert session.scalars(select(FieldVisitRequest)).all() == []


def test_case_out_of_reach_or_missing_is_not_found(session, world):
    with pytest.raises(CaseNotFound):
        service.request_visit(
            session, case_id=world.case.id, user=world.other_field_user, reason="上门", now=at(9)
        )
    with pytest.raises(CaseNotFound):
        service.request_visit(
            session, case_id=world.case.id + 999, user=world.manager, reason="上门", now=at(9)
        )


def test_auditor_may_not_request_visits(session, world):
    with pytest.raises(NotPermitted) as caught:
        service.request_visit(
            session, case_id=world.case.id, user=world.auditor, reason="上门", now=at(9)
        )
    assert caught.value.status_code == 403


def test_closed_case_cannot_get_a_visit(session, world):
    world.case.status = CaseStatus.SETTLED
    session.flush()
    with pytest.raises(CaseClosed):
        service.request_visit(
            session, case_id=world.case.id, user=world.manager, reason="上门", now=at(9)
        )


def test_naive_time_is_refused(session, world):
    with pytest.raises(Exception, match="time zone"):
        service.request_visit(
            session,
            case_id=world.case.id,
            user=world.manager,
            reason="上门",
            now=at(9).replace(tzinfo=None),
        )


def test_open_request_is_scheduled_with_the_agent_serving_the_region(session, world):
    row = service.request_visit(
        session, case_id=world.case.id, user=world.agent_user, reason="失联", now=at(9)
    )
    agents = [world.field.id, world.other_field.id]
    planned = service.schedule_requested_visits(session, agent_ids=agents, as_of=at(9).date())
    assert [(s.id, s.assigned_collector_id) for s in planned.stops] == [
        (world.case.id, world.field.id)
    ]
    assert row.status == VisitStatus.SCHEDULED
    assert row.scheduled_collector_id == world.field.id
    assert row.scheduled_day == at(9).date()
    # a second run for the same day gives the same answer and changes nothing
    again = service.schedule_requested_visits(session, agent_ids=agents, as_of=at(9).date())
    assert again == planned
    assert not session.dirty


def test_request_nobody_serves_stays_requested(session, world):
    row = service.request_visit(
        session, case_id=world.case.id, user=world.agent_user, reason="失联", now=at(9)
    )
    planned = service.schedule_requested_visits(
        session, agent_ids=[world.other_field.id], as_of=(at(9) + timedelta(days=1)).date()
    )
    assert planned.stops == ()
    assert row.status == VisitStatus.REQUESTED


def test_nightly_route_step_puts_the_requested_case_on_the_serving_agents_route(session, world):
    from debtflow.dispatch.field_routes import plan_routes
    from debtflow.models import FieldRoute

    service.request_visit(
        session, case_id=world.case.id, user=world.agent_user, reason="失联", now=at(9)
    )
    counts = plan_routes(session, at(9).date())
    routes = {r.collector_id: r for r in session.scalars(select(FieldRoute)).all()}
    assert [s["case_id"] for s in routes[world.field.id].stops] == [world.case.id]
    assert world.other_field.id not in routes or not routes[world.other_field.id].stops
    assert counts["route_stops"] >= 1
    again = plan_routes(session, at(9).date())
    assert again["routes_planned"] == 0 and again["routes_kept"] >= 1
