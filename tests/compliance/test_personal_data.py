"""Full phone and ID numbers only for the collector assigned to the open case; every full
view logged with who, what, when and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from compliance.world import make_world
from debtflow.compliance import personal_data
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.errors import InvalidInput, NotFound

WHEN = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def show(session, world, **overrides):
    kwargs = dict(
        case_id=world.case.id,
        kind="phone",
        viewer="agent-1",
        role="collector",
        purpose="calling the debtor about the March instalment",
        collector_id=world.agent.id,
        contact_point_id=world.debtor_phone.id,
        now=WHEN,
    )
    kwargs.update(overrides)
    return personal_data.show(session, **kwargs)


def test_assigned_collector_sees_the_full_number_and_the_view_is_logged(session):
    world = make_world(session)
    shown = show(session, world)
    assert shown.text == "13812345678" and shown.level == "full"
    ident = show(session, world, kind="id_number", contact_point_id=None, purpose="identity check")
    assert ident.text == world.debtor.id_number
    views = personal_data.views_of_debtor(session, debtor_id=world.debtor.id)
    assert [(v.field, v.viewer, v.viewer_role, v.purpose, v.viewed_at) for v in views] == [
        ("phone", "agent-1", "collector", "calling the debtor about the March instalment", WHEN),
        ("id_number", "agent-1", "collector", "identity check", WHEN),
    ]
    assert views[0].contact_point_id == world.debtor_phone.id


@pytest.mark.parametrize(
    ("role", "collector", "text"),
    [
        ("collector", "other", "138****5678"),  # not the assigned collector
        ("supervisor", None, "138****5678"),
        ("compliance_officer", None, "138****5678"),
        ("qa_reviewer", None, "138****5678"),
        ("partner", None, "138****5678"),
        ("creditor", None, None),
    ],
)
def test_everyone_else_sees_a_masked_number_and_nothing_is_logged(session, role, collector, text):
    world = make_world(session)
    collector_id = world.other_agent.id if collector == "other" else None
    shown = show(session, world, role=role, collector_id=collector_id, purpose="")
    assert shown.text == text and shown.view_id is None
    assert personal_data.views_of_debtor(session, debtor_id=world.debtor.id) == []


def test_id_number_is_hidden_from_partners_and_masked_for_supervisors(session):
    world = make_world(session)
    partner = show(session, world, role="partner", kind="id_number", collector_id=None)
    assert partner.text is None and partner.level == "hidden"
    supervisor = show(session, world, role="supervisor", kind="id_number", collector_id=None)
    assert supervisor.text == world.debtor.id_number[:4] + "*" * 10 + world.debtor.id_number[-4:]


def test_full_view_ends_when_the_assignment_ends_or_the_case_closes(session):
    world = make_world(session)
    world.case.assigned_collector_id = world.other_agent.id
    session.flush()
    assert show(session, world).text == "138****5678"
    assert show(session, world, collector_id=world.other_agent.id).text == "13812345678"
    world.case.status = CaseStatus.SETTLED
    session.flush()
    assert show(session, world, collector_id=world.other_agent.id).text == "138****5678"


def test_a_full_view_needs_a_purpose_and_valid_input(session):
    world = make_world(session)
    with pytest.raises(InvalidInput, match="needs a purpose"):
        show(session, world, purpose="  ")
    with pytest.raises(InvalidInput):
        show(session, world, role="janitor")
    with pytest.raises(InvalidInput, match="name the contact point"):
        show(session, world, contact_point_id=None)
    other = make_world(session, tag="B")
    with pytest.raises(NotFound):
        show(session, world, contact_point_id=other.debtor_phone.id)
    assert personal_data.views_of_debtor(session, debtor_id=world.debtor.id) == []
