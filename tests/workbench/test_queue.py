"""The queue's *next contact* comes from the gate's decisions about contacting the debtor:
a refused third-party contact does not mark the case as blocked."""

from __future__ import annotations

from datetime import timedelta

from debtflow.compliance import service as compliance_service
from debtflow.models import ContactPoint
from debtflow.models.enums import ContactKind, ContactParty
from debtflow.workbench import service as workbench
from portal.conftest import NOW, make_world


def entry(session, world, case_id, *, now):
    queue = workbench.queue(session, user=world.manager, limit=500, now=now)
    return next(e for e in queue.entries if e.case.id == case_id)


def ask(session, case_id, *, at, **target):
    return compliance_service.decide(
        session,
        case_id=case_id,
        channel="call",
        planned_at=at,
        collecting_party="in-house",
        requested_by="agent-1",
        now=at,
        **target,
    )


def test_a_refused_third_party_contact_does_not_block_the_debtor(session):
    world = make_world(session)
    case_id = world.mine.case.id
    colleague = ContactPoint(
        debtor_id=world.mine.debtor.id,
        kind=ContactKind.PHONE,
        value="13900002222",
        party=ContactParty.THIRD_PARTY,
        contact_name="李四",
        relation="colleague",
    )
    session.add(colleague)
    session.flush()
    at = NOW + timedelta(hours=1)
    debtor_first = ask(session, case_id, at=at)
    assert debtor_first.allowed
    refused = ask(
        session,
        case_id,
        at=at + timedelta(minutes=1),
        target="third_party",
        contact_point_id=colleague.id,
    )
    assert not refused.allowed  # the debtor is reachable: no third party
    shown = entry(session, world, case_id, now=at + timedelta(minutes=2))
    assert not shown.blocked and shown.next_allowed_at is None
    # a dispute denies contacting the debtor: that does block the case
    compliance_service.set_restriction(
        session,
        debtor_id=world.mine.debtor.id,
        flag="dispute",
        reason="debtor disputes",
        set_by="officer",
        case_id=case_id,
        now=at,
    )
    denied = ask(session, case_id, at=at + timedelta(minutes=3))
    assert not denied.allowed
    shown = entry(session, world, case_id, now=at + timedelta(minutes=4))
    assert shown.blocked and "dispute" in shown.blocked_reasons
