"""QA sampling of calls, retention with legal hold, restrictions and the compliance report
per collector, party and rule — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from compliance.world import make_world
from debtflow.compliance import qa, retention
from debtflow.compliance import service as compliance_service
from debtflow.compliance.report import compliance_report
from debtflow.contact import service
from debtflow.core.compliance.qa_sampling import QaPolicy
from debtflow.core.compliance.retention import DeletionVerdict
from debtflow.core.errors import Conflict, InvalidInput
from debtflow.models import ContactAttempt, ContactDecision, QaSample

SHANGHAI = ZoneInfo("Asia/Shanghai")
REASON = "Debtor asked to be called back tonight to agree a repayment plan"


def at(hour: int, minute: int = 0, *, day: int = 20) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def contact(session, world, when, *, party="in-house", by="agent-1", channel="call", log=True):
    decision = service.request_contact(
        session,
        case_id=world.case.id,
        channel=channel,
        planned_at=when,
        collecting_party=party,
        requested_by=by,
        now=when,
    )
    if log and decision.allowed:
        service.log_contact(
            session, decision_id=decision.id, attempted_at=when, connected=True, now=when
        )
    return decision


def test_qa_sampling_is_stable_risk_weighted_and_never_samples_twice(session):
    world = make_world(session)
    for day in range(1, 13):  # 12 days × 3 connected calls
        for hour in (9, 11, 15):
            contact(session, world, at(hour, day=day))
    contact(session, world, at(16, day=13), channel="sms")  # not a call: never sampled
    calls = session.scalars(select(ContactAttempt).where(ContactAttempt.channel == "call")).all()
    ids = [c.id for c in calls]
    window = dict(since=at(0, day=1), until=at(0, day=14), salt=b"qa-salt")
    everything = qa.sample_calls(
        session,
        **window,
        policy=QaPolicy(random_share=0.0, risk_extra_share=1.0),
        risk_by_contact={ids[0]: 1.0, ids[1]: 1.0},
        forced={ids[2]},
        now=at(23, day=13),
    )
    assert {(s.contact_attempt_id, s.reason) for s in everything} == {
        (ids[0], "risk"),
        (ids[1], "risk"),
        (ids[2], "forced"),
    }
    again = qa.sample_calls(
        session, **window, policy=QaPolicy(random_share=1.0), now=at(23, day=13)
    )
    assert {s.contact_attempt_id for s in again} == set(ids[3:])
    assert all(s.reason == "random" for s in again)
    assert session.scalar(select(func.count()).select_from(QaSample)) == len(ids)
    with pytest.raises(InvalidInput, match="salt"):
        qa.sample_calls(session, since=at(0), until=at(1), salt=b"")
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        qa.sample_calls(
            session,
            since=at(0, day=1),
            until=at(0, day=30),
            salt=b"s",
            risk_by_contact={ids[0]: 2.0},
        )


def test_qa_random_share_is_deterministic_for_a_salt(session):
    world = make_world(session)
    for day in range(1, 11):
        for hour in (9, 11, 15):
            contact(session, world, at(hour, day=day))
    window = dict(since=at(0, day=1), until=at(0, day=12))
    with session.begin_nested() as nested:
        first = {s.contact_attempt_id for s in qa.sample_calls(session, **window, salt=b"k")}
        nested.rollback()
    second = {s.contact_attempt_id for s in qa.sample_calls(session, **window, salt=b"k")}
    assert first == second


def test_deletion_waits_for_retention_and_respects_legal_hold(session):
    world = make_world(session)
    contact(session, world, at(10, day=3))
    last = at(10, day=3)
    early = retention.request_deletion(
        session, debtor_id=world.debtor.id, today=date(2028, 11, 2), apply=True, now=at(10)
    )
    assert early.verdict == DeletionVerdict.KEEP_RETENTION_PERIOD
    assert early.keep_until == date(2028, 11, 3) and early.deleted == {}
    hold = compliance_service.set_restriction(
        session,
        debtor_id=world.debtor.id,
        flag="legal_hold",
        reason="court order 2026-民-123",
        set_by="legal-1",
        starts_at=last,
    )
    held = retention.request_deletion(
        session, debtor_id=world.debtor.id, today=date(2030, 1, 1), apply=True, now=at(10)
    )
    assert held.verdict == DeletionVerdict.KEEP_LEGAL_HOLD and held.deleted == {}
    compliance_service.lift_restriction(
        session, restriction_id=hold.id, lifted_by="legal-1", now=at(11)
    )
    with pytest.raises(Conflict):
        compliance_service.lift_restriction(session, restriction_id=hold.id, lifted_by="x")
    dry = retention.request_deletion(
        session, debtor_id=world.debtor.id, today=date(2028, 11, 3), apply=False, now=at(12)
    )
    assert dry.verdict == DeletionVerdict.DELETE and dry.deleted == {}
    done = retention.request_deletion(
        session, debtor_id=world.debtor.id, today=date(2028, 11, 3), apply=True, now=at(12)
    )
    assert done.deleted["contact_attempt"] == 1 and done.deleted["contact_decision"] == 1
    assert session.scalar(select(func.count()).select_from(ContactDecision)) == 0


def test_retention_counts_from_the_debtors_local_date_not_the_utc_one(session):
    """The last activity comes back from the database in UTC: a decision at 00:30 on
    2 March in Shanghai is 1 March in UTC, and two full years end on the local 2 March."""
    world = make_world(session)
    night = datetime(2023, 3, 2, 0, 30, tzinfo=SHANGHAI)
    assert not contact(session, world, night, log=False).allowed  # quiet hours, still activity
    session.expire_all()  # read the time back as the database stores it
    early = retention.request_deletion(
        session, debtor_id=world.debtor.id, today=date(2025, 3, 1), apply=True, now=night
    )
    assert early.verdict == DeletionVerdict.KEEP_RETENTION_PERIOD and early.deleted == {}
    assert early.keep_until == date(2025, 3, 2)
    done = retention.request_deletion(
        session, debtor_id=world.debtor.id, today=date(2025, 3, 2), apply=True, now=night
    )
    assert done.deleted["contact_decision"] == 1


def test_us_creditor_keeps_records_three_years(session):
    world = make_world(session, pack="us-regf", timezone="America/New_York", tag="US")
    when = datetime(2026, 11, 20, 10, tzinfo=ZoneInfo("America/New_York"))
    contact(session, world, when)
    outcome = retention.request_deletion(
        session, debtor_id=world.debtor.id, today=date(2029, 11, 19), apply=True, now=when
    )
    assert outcome.verdict == DeletionVerdict.KEEP_RETENTION_PERIOD
    assert outcome.keep_until == date(2029, 11, 20)


def test_hardship_cooling_off_blocks_until_its_end(session):
    world = make_world(session)
    compliance_service.set_restriction(
        session,
        debtor_id=world.debtor.id,
        flag="hardship_cooling_off",
        reason="lost job, 30-day pause agreed",
        set_by="supervisor",
        starts_at=at(8),
        ends_at=at(12, day=22),
    )
    blocked = contact(session, world, at(10))
    assert blocked.reasons == ["hardship_cooling_off"]
    assert blocked.next_allowed_at == at(12, day=22)
    assert contact(session, world, at(12, 1, day=22)).allowed
    with pytest.raises(InvalidInput, match="unknown restriction"):
        compliance_service.set_restriction(
            session, debtor_id=world.debtor.id, flag="vip", reason="x", set_by="y"
        )
    with pytest.raises(InvalidInput, match="end after it starts"):
        compliance_service.set_restriction(
            session,
            debtor_id=world.debtor.id,
            flag="dispute",
            reason="x",
            set_by="y",
            starts_at=at(10),
            ends_at=at(9),
        )


def test_report_counts_per_collector_party_and_rule(session):
    world = make_world(session)
    contact(session, world, at(9), party="in-house", by="agent-1")
    contact(session, world, at(10), party="agency-a", by="agency-a-7")
    contact(session, world, at(11), party="ai-voice", by="bot", channel="ai_voice")
    denied = contact(session, world, at(12), party="agency-a", by="agency-a-7")
    contact(session, world, at(23), party="in-house", by="agent-1")
    compliance_service.grant_override(
        session, decision_id=denied.id, supervisor="sup-1", written_reason=REASON, now=at(12)
    )
    result = compliance_report(session, since=at(0), until=at(0, day=21))
    by_collector = {t.key: t for t in result.by_collector}
    assert (by_collector["agency-a-7"].decisions, by_collector["agency-a-7"].denied) == (2, 1)
    assert by_collector["agency-a-7"].overridden == 1
    assert by_collector["agency-a-7"].contacts_logged == 1
    assert by_collector["agent-1"].denied == 1 and by_collector["bot"].allowed == 1
    assert {t.key for t in result.by_party} == {"in-house", "agency-a", "ai-voice"}
    assert by_collector["agency-a-7"].deny_rate == pytest.approx(0.5)
    by_rule = {r.reason: (r.denials, r.overridden) for r in result.by_rule}
    # the 23:00 call is refused for quiet hours and for the cap the overridden call filled
    assert by_rule == {"daily_connected_call_limit": (2, 1), "quiet_hours": (1, 0)}
    assert compliance_report(session, since=at(0, day=21), until=at(0, day=22)).by_rule == []
    with pytest.raises(InvalidInput):
        compliance_report(session, since=at(1), until=at(0))
    assert timedelta(0) < result.until - result.since


def test_today_is_the_debtors_date_not_the_business_zones(session):
    """Three years after a New York contact end on the New York date: at 08:00 in Shanghai
    on that day it is still the evening before in New York, so the records are kept."""
    world = make_world(session, pack="us-regf", timezone="America/New_York", tag="NY")
    contact(session, world, datetime(2026, 11, 20, 10, tzinfo=ZoneInfo("America/New_York")))
    shanghai_morning = datetime(2029, 11, 20, 8, tzinfo=SHANGHAI)  # 19:00 on the 19th in NY
    kept = retention.request_deletion(
        session, debtor_id=world.debtor.id, apply=True, now=shanghai_morning
    )
    assert kept.verdict == DeletionVerdict.KEEP_RETENTION_PERIOD and kept.deleted == {}
    new_york_day = retention.request_deletion(
        session, debtor_id=world.debtor.id, apply=False, now=shanghai_morning + timedelta(hours=6)
    )
    assert new_york_day.verdict == DeletionVerdict.DELETE
