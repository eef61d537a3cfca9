"""request_contact / log_contact on SQLite and PostgreSQL: every contact has a decision,
denied contacts are not logged without a supervisor's written override, reservations keep
the caps, and the contact is re-checked at the time it is made."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from compliance.world import make_world
from debtflow.compliance import service as compliance_service
from debtflow.compliance.service import (
    ContactAsk,
    ContactNotPermitted,
    DecisionNotFound,
    InvalidContact,
    OverrideNotGranted,
)
from debtflow.contact import service
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.errors import Conflict, NotFound
from debtflow.models import Case, ContactAttempt, ContactDecision, Creditor
from sql_statements import statements

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
REASON = "Debtor asked to be called back tonight to agree a repayment plan"


def at(hour: int, minute: int = 0, *, day: int = 20, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=zone)


def ask(session, world, when, **overrides):
    kwargs = dict(
        case_id=world.case.id,
        channel="call",
        planned_at=when,
        collecting_party="in-house",
        requested_by="agent-1",
        collector_id=world.agent.id,
        now=when,
    )
    kwargs.update(overrides)
    return service.request_contact(session, **kwargs)


def call(session, world, when, *, connected=True, party="in-house", channel="call"):
    decision = ask(session, world, when, collecting_party=party, channel=channel)
    assert decision.allowed, decision.reasons
    return service.log_contact(
        session, decision_id=decision.id, attempted_at=when, connected=connected, now=when
    )


def test_fourth_connected_call_of_the_day_is_denied_across_parties(session):
    world = make_world(session)
    call(session, world, at(9), party="in-house")
    call(session, world, at(10), party="agency-a", channel="ai_voice")
    call(session, world, at(11), party="agency-b")
    fourth = ask(session, world, at(14), collecting_party="law-firm")
    assert not fourth.allowed
    assert fourth.reasons == ["daily_connected_call_limit"]
    assert fourth.pack_version == "cn-2025.1"
    assert fourth.next_allowed_at == at(8, day=21)
    with pytest.raises(ContactNotPermitted, match="daily_connected_call_limit"):
        service.log_contact(
            session, decision_id=fourth.id, attempted_at=at(14), connected=True, now=at(14)
        )
    assert len(session.scalars(select(ContactAttempt)).all()) == 3


def test_unanswered_calls_do_not_use_up_the_connected_cap(session):
    world = make_world(session)
    for hour in (9, 10, 11):
        call(session, world, at(hour), connected=False)
    assert ask(session, world, at(12)).allowed


def test_an_allowed_decision_reserves_its_place_until_it_expires(session):
    world = make_world(session)
    call(session, world, at(9))
    call(session, world, at(10))
    reserved = ask(session, world, at(11))
    assert reserved.allowed
    assert not ask(session, world, at(11, 5), requested_by="agent-2").allowed
    # after the reservation expires unused, the slot is free again
    later = at(11) + compliance_service.DECISION_VALID_FOR + timedelta(minutes=1)
    assert ask(session, world, later, requested_by="agent-2").allowed


def test_a_call_that_did_not_connect_frees_its_reserved_place(session):
    world = make_world(session)
    call(session, world, at(9))
    call(session, world, at(10))
    call(session, world, at(11), connected=False)
    assert ask(session, world, at(12)).allowed


def test_logging_without_a_decision_is_refused(session):
    world = make_world(session)
    with pytest.raises(DecisionNotFound):
        service.log_contact(
            session, decision_id=987654, attempted_at=at(9), connected=True, now=at(9)
        )
    assert world.case.id and session.scalars(select(ContactAttempt)).all() == []


def test_a_decision_is_used_once(session):
    world = make_world(session)
    attempt = call(session, world, at(9))
    with pytest.raises(Conflict, match=f"already used by contact {attempt.id}"):
        service.log_contact(
            session, decision_id=attempt.decision_id, attempted_at=at(9), connected=False
        )


def test_contact_must_happen_inside_the_decision_window(session):
    world = make_world(session)
    decision = ask(session, world, at(9))
    with pytest.raises(ContactNotPermitted, match="ask the gate again"):
        service.log_contact(
            session, decision_id=decision.id, attempted_at=at(9, 45), connected=True, now=at(9, 45)
        )
    with pytest.raises(ContactNotPermitted, match="ask the gate again"):
        service.log_contact(
            session, decision_id=decision.id, attempted_at=at(8, 50), connected=True, now=at(9, 45)
        )
    logged = service.log_contact(
        session, decision_id=decision.id, attempted_at=at(9, 30), connected=True, now=at(9, 45)
    )
    assert logged.decision_id == decision.id


def test_a_contact_is_logged_once_it_was_made(session):
    world = make_world(session)
    decision = ask(session, world, at(9))
    with pytest.raises(InvalidContact, match="still to come"):
        service.log_contact(
            session, decision_id=decision.id, attempted_at=at(9, 20), connected=True, now=at(9, 14)
        )
    # a few minutes' difference between clocks is tolerated
    logged = service.log_contact(
        session, decision_id=decision.id, attempted_at=at(9, 20), connected=True, now=at(9, 16)
    )
    assert logged.attempted_at == at(9, 20)


def test_a_call_allowed_at_21_50_but_made_at_22_00_is_refused(session):
    world = make_world(session)
    decision = ask(session, world, at(21, 50))
    assert decision.allowed
    with pytest.raises(ContactNotPermitted, match="quiet_hours"):
        service.log_contact(
            session, decision_id=decision.id, attempted_at=at(22), connected=True, now=at(22)
        )
    ok = service.log_contact(
        session,
        decision_id=decision.id,
        attempted_at=at(21, 59, day=20),
        connected=True,
        now=at(22),
    )
    assert ok.attempted_at == at(21, 59)


def test_a_restriction_set_after_the_decision_stops_the_contact(session):
    world = make_world(session)
    decision = ask(session, world, at(9))
    compliance_service.set_restriction(
        session,
        debtor_id=world.debtor.id,
        flag="do_not_contact",
        reason="debtor asked in writing",
        set_by="officer-1",
        starts_at=at(8, 59),
    )
    with pytest.raises(ContactNotPermitted, match="do_not_contact"):
        service.log_contact(
            session, decision_id=decision.id, attempted_at=at(9), connected=True, now=at(9)
        )
    again = ask(session, world, at(9, 1))
    assert not again.allowed and again.reasons == ["do_not_contact"]
    assert again.next_allowed_at is None


def test_restrictions_are_weighed_by_case_start_end_and_lift(session):
    """The gate reads a debtor's restrictions with its history; each is weighed for the case
    it names, from its start to its end, and not once lifted."""
    world = make_world(session)
    other_creditor = Creditor(code="BANK-OTHER", name="另一家银行", compliance_pack="cn-2025")
    session.add(other_creditor)
    session.flush()
    other_case = Case(
        creditor_id=other_creditor.id, debtor_id=world.debtor.id, status=CaseStatus.ACTIVE
    )
    session.add(other_case)
    session.flush()
    compliance_service.set_restriction(
        session,
        debtor_id=world.debtor.id,
        case_id=other_case.id,
        flag="dispute",
        reason="the other debt is disputed",
        set_by="officer-1",
        starts_at=at(8),
    )
    legal = compliance_service.set_restriction(
        session,
        debtor_id=world.debtor.id,
        flag="legal_hold",
        reason="court order",
        set_by="officer-1",
        starts_at=at(12),
        ends_at=at(14),
    )
    assert ask(session, world, at(9)).allowed  # the dispute is the other case's
    disputed = ask(session, world, at(9), case_id=other_case.id)
    assert not disputed.allowed and disputed.reasons == ["dispute"]
    assert ask(session, world, at(11, 59)).allowed  # before the hold starts
    held = ask(session, world, at(12, 30))
    assert not held.allowed and held.reasons == ["legal_hold"]
    assert ask(session, world, at(14, 1)).allowed  # after it ended
    compliance_service.lift_restriction(
        session, restriction_id=legal.id, lifted_by="officer-2", now=at(12, 40)
    )
    assert ask(session, world, at(12, 45)).allowed
    # at the contact time too: a hold set after the decision stops its log
    decision = ask(session, world, at(15))
    compliance_service.set_restriction(
        session,
        debtor_id=world.debtor.id,
        case_id=world.case.id,
        flag="legal_hold",
        reason="second order",
        set_by="officer-1",
        starts_at=at(15),
        ends_at=at(16),
    )
    with pytest.raises(ContactNotPermitted, match="legal_hold"):
        service.log_contact(
            session, decision_id=decision.id, attempted_at=at(15), connected=True, now=at(15)
        )
    assert service.log_contact(
        session, decision_id=ask(session, world, at(16, 1)).id, attempted_at=at(16, 1),
        connected=True, now=at(16, 1),
    ).attempted_at == at(16, 1)  # fmt: skip


def _statements(session, act):
    with statements(session.get_bind()) as seen:
        act()
    return seen


def test_history_and_restrictions_are_read_in_one_statement_after_the_lock(session):
    world = make_world(session)
    call(session, world, at(9))
    compliance_service.set_restriction(
        session,
        debtor_id=world.debtor.id,
        flag="legal_hold",
        reason="court order",
        set_by="officer-1",
        starts_at=at(18),
    )
    decision = None

    def decide():
        nonlocal decision
        decision = ask(session, world, at(10))

    def log():
        service.log_contact(
            session, decision_id=decision.id, attempted_at=at(10), connected=False, now=at(10)
        )

    for act in (decide, log):
        statements = _statements(session, act)
        readers = [i for i, sql in enumerate(statements) if "FROM contact_restriction" in sql]
        assert len(readers) == 1, statements
        assert "FROM contact_attempt" in statements[readers[0]]  # the history, same statement
        locks = [
            i
            for i, sql in enumerate(statements)
            if "FOR UPDATE" in sql or sql.startswith("UPDATE debtor")
        ]
        assert locks and locks[0] < readers[0], statements
    assert decision is not None and decision.allowed


def test_who_may_log_is_checked_on_the_decision_read_with_its_lock(session):
    """``authorize`` sees the decision, its debtor and the case's collector as read with the
    debtor's lock, in the same statement; when it refuses, nothing is read or written after
    the lock (on SQLite the lock itself is a no-op UPDATE, rolled back with the request)."""
    world = make_world(session)
    decision_id = ask(session, world, at(10)).id
    session.expire_all()  # the decision is read again, as in a new request
    seen = []

    def refuse(locked):
        seen.append((locked.decision.id, locked.subject.debtor_id, locked.assigned_collector_id))
        raise DecisionNotFound("not yours")

    def refused():
        with pytest.raises(DecisionNotFound, match="not yours"):
            service.log_contact(
                session,
                decision_id=decision_id,
                attempted_at=at(10),
                connected=False,
                now=at(10),
                authorize=refuse,
            )

    statements = _statements(session, refused)
    assert seen == [(decision_id, world.debtor.id, world.agent.id)]
    sqlite = session.get_bind().dialect.name == "sqlite"
    assert len(statements) == (2 if sqlite else 1), statements  # SQLite locks with an UPDATE
    assert "FROM contact_decision" in statements[-1] or "JOIN contact_decision" in statements[-1]
    assert not session.scalars(select(ContactAttempt)).all()

    session.expire_all()
    statements = _statements(
        session,
        lambda: service.log_contact(
            session,
            decision_id=decision_id,
            attempted_at=at(10),
            connected=False,
            now=at(10),
            authorize=seen.append,
        ),
    )
    assert seen[-1].decision.id == decision_id
    decision_reads = [
        i for i, sql in enumerate(statements) if "contact_decision.requested_by" in sql
    ]
    assert len(decision_reads) == 1, statements  # the locking statement, nothing before it
    assert "FOR UPDATE" in statements[decision_reads[0]] or sqlite
    assert len(session.scalars(select(ContactAttempt)).all()) == 1


def test_supervisor_override_lets_a_denied_contact_be_logged_and_is_recorded(session):
    world = make_world(session)
    for hour in (9, 10, 11):
        call(session, world, at(hour))
    denied = ask(session, world, at(15))
    assert not denied.allowed
    override = compliance_service.grant_override(
        session,
        decision_id=denied.id,
        supervisor="supervisor-wang",
        written_reason=REASON,
        now=at(14, 55),
    )
    assert override.overridden_reasons == ["daily_connected_call_limit"]
    assert len(override.fingerprint) == 64
    logged = service.log_contact(
        session, decision_id=denied.id, attempted_at=at(15, 2), connected=True, now=at(15, 5)
    )
    assert logged.decision_id == denied.id
    # the override covers its reasons only: quiet hours at 22:00 are not covered
    denied_late = ask(session, world, at(21, 50))
    compliance_service.grant_override(
        session, decision_id=denied_late.id, supervisor="supervisor-wang", written_reason=REASON
    )
    with pytest.raises(ContactNotPermitted, match="quiet_hours"):
        service.log_contact(
            session,
            decision_id=denied_late.id,
            attempted_at=at(22, 1),
            connected=True,
            now=at(22, 5),
        )


@pytest.mark.parametrize(
    ("supervisor", "reason", "message"),
    [
        ("agent-1", REASON, "own contact"),
        ("supervisor-wang", "ok", "at least 15 characters"),
    ],
)
def test_override_refused_for_own_contact_or_thin_reason(session, supervisor, reason, message):
    world = make_world(session)
    for hour in (9, 10, 11):
        call(session, world, at(hour))
    denied = ask(session, world, at(15))
    with pytest.raises(OverrideNotGranted, match=message):
        compliance_service.grant_override(
            session, decision_id=denied.id, supervisor=supervisor, written_reason=reason
        )


def test_override_refused_for_an_allow_a_second_time_and_for_do_not_contact(session):
    world = make_world(session)
    allowed = ask(session, world, at(9))
    with pytest.raises(OverrideNotGranted, match="already allowed"):
        compliance_service.grant_override(
            session, decision_id=allowed.id, supervisor="sup", written_reason=REASON
        )
    late = ask(session, world, at(23))
    compliance_service.grant_override(
        session, decision_id=late.id, supervisor="sup", written_reason=REASON
    )
    with pytest.raises(OverrideNotGranted, match="already overridden"):
        compliance_service.grant_override(
            session, decision_id=late.id, supervisor="sup2", written_reason=REASON
        )
    compliance_service.set_restriction(
        session,
        debtor_id=world.debtor.id,
        flag="do_not_contact",
        reason="written request",
        set_by="officer",
        starts_at=at(8),
    )
    stopped = ask(session, world, at(10))
    with pytest.raises(OverrideNotGranted, match="does not allow overriding: do_not_contact"):
        compliance_service.grant_override(
            session, decision_id=stopped.id, supervisor="sup", written_reason=REASON
        )


def test_third_party_contact_needs_authorised_point_unreachable_debtor_and_clean_script(
    session,
):
    world = make_world(session)
    point = world.third_party_phone.id
    reachable = ask(session, world, at(10), target="third_party", contact_point_id=point)
    assert not reachable.allowed
    assert "third_party_debtor_reachable" in reachable.reasons
    assert "third_party_script_missing" in reachable.reasons
    leaky = ask(
        session,
        world,
        at(10),
        target="third_party",
        contact_point_id=point,
        debtor_unreachable=True,
        script_text="请转告张三尽快还款",
    )
    assert leaky.reasons == ["third_party_script_discloses_debt"]
    clean = ask(
        session,
        world,
        at(10),
        target="third_party",
        contact_point_id=point,
        debtor_unreachable=True,
        script_text="您好，请张三先生方便时回电，谢谢。",
    )
    assert clean.allowed
    attempt = service.log_contact(
        session, decision_id=clean.id, attempted_at=at(10), connected=True, now=at(10)
    )
    assert attempt.party.value == "third_party" and attempt.contact_point_id == point


def test_third_party_point_not_authorised_is_denied(session):
    world = make_world(session, third_party_authorised=False)
    decision = ask(
        session,
        world,
        at(10),
        target="third_party",
        contact_point_id=world.third_party_phone.id,
        debtor_unreachable=True,
        script_text="您好，请张三先生方便时回电，谢谢。",
    )
    assert decision.reasons == ["third_party_not_authorised"]


def test_bad_requests_are_refused_with_a_clear_message(session):
    world = make_world(session)
    with pytest.raises(InvalidContact, match="unknown channel 'fax'"):
        ask(session, world, at(10), channel="fax")
    with pytest.raises(InvalidContact, match="in the past"):
        ask(session, world, at(10), now=at(11))
    with pytest.raises(InvalidContact, match="must carry a time zone"):
        ask(session, world, datetime(2026, 11, 20, 10), now=at(10))
    with pytest.raises(InvalidContact, match="must name the contact point"):
        ask(session, world, at(10), target="third_party")
    with pytest.raises(InvalidContact, match="not a third_party one"):
        ask(session, world, at(10), target="third_party", contact_point_id=world.debtor_phone.id)
    with pytest.raises(NotFound):
        ask(session, world, at(10), case_id=10_000_000)
    other = make_world(session, tag="B")
    with pytest.raises(InvalidContact, match="not a debt of case"):
        ask(session, world, at(10), account_id=other.account.id)
    world.case.status = CaseStatus.SETTLED
    session.flush()
    with pytest.raises(InvalidContact, match="settled"):
        ask(session, world, at(10))


def test_us_debtor_local_time_and_seven_in_seven_per_debt(session):
    world = make_world(session, pack="us-regf", timezone="America/Los_Angeles", tag="US")
    los_angeles = ZoneInfo("America/Los_Angeles")
    # 20:59 in Los Angeles is allowed although it is 23:59 in New York
    evening = datetime(2026, 11, 2, 20, 59, tzinfo=los_angeles)
    assert ask(session, world, evening, account_id=world.account.id).allowed
    base = datetime(2026, 11, 3, 10, tzinfo=los_angeles)
    for day in range(7):  # 7 placed calls on this debt in 7 days, none answered
        when = base + timedelta(days=day)
        decision = ask(session, world, when, account_id=world.account.id)
        assert decision.allowed, (day, decision.reasons)
        service.log_contact(
            session, decision_id=decision.id, attempted_at=when, connected=False, now=when
        )
    eighth = ask(session, world, base + timedelta(days=6, hours=5), account_id=world.account.id)
    assert eighth.reasons == ["seven_day_call_limit"]
    # a contact asked without naming the debt is counted against every debt (conservative)
    other_debt = ask(session, world, base + timedelta(days=6, hours=5), account_id=None)
    assert other_debt.reasons == ["seven_day_call_limit"]


def _ask(world, when, **overrides):
    fields = dict(
        case_id=world.case.id,
        channel="call",
        planned_at=when,
        collecting_party="dialer",
        requested_by="dialer-1",
    )
    fields.update(overrides)
    return ContactAsk(**fields)


def test_a_batch_gives_the_last_call_to_one_ask_only_and_decides_like_single_asks(session):
    world = make_world(session)
    other = make_world(session, tag="B")
    call(session, world, at(9))
    call(session, world, at(10))
    asks = [
        _ask(world, at(11)),
        _ask(other, at(11)),
        _ask(world, at(11, 1)),  # same debtor: the 3rd call was just given to the first ask
        _ask(other, at(23)),
    ]
    decisions = service.request_contacts(session, asks=asks, now=at(11))
    assert [(d.case_id, d.allowed, d.reasons) for d in decisions] == [
        (world.case.id, True, []),
        (other.case.id, True, []),
        (world.case.id, False, ["daily_connected_call_limit"]),
        (other.case.id, False, ["quiet_hours"]),
    ]
    assert all(d.id is not None for d in decisions)
    single = ask(session, other, at(23), now=at(11))
    assert (single.allowed, single.reasons) == (False, ["quiet_hours"])
    assert service.request_contacts(session, asks=[], now=at(11)) == []


def test_one_bad_ask_refuses_the_whole_batch(session):
    world = make_world(session)
    before = len(session.scalars(select(ContactDecision)).all())
    with pytest.raises(NotFound):
        service.request_contacts(
            session,
            asks=[_ask(world, at(11)), _ask(world, at(11), case_id=10_000_000)],
            now=at(11),
        )
    with pytest.raises(InvalidContact, match="unknown channel"):
        service.request_contacts(
            session, asks=[_ask(world, at(11)), _ask(world, at(11), channel="pager")], now=at(11)
        )
    assert len(session.scalars(select(ContactDecision)).all()) == before


def test_a_logged_contact_goes_to_the_evidence_log_with_its_gate_decision(session):
    from debtflow.core.evidence.leaf import LeafKind, parse_leaf
    from debtflow.models import EvidenceLogLeaf

    world = make_world(session)
    attempt = call(session, world, at(10), connected=False)
    # the leaf is appended when the transaction commits (the log's lock is then held only
    # for the append and the COMMIT), not before
    assert session.scalars(select(EvidenceLogLeaf)).all() == []
    session.commit()
    rows = session.scalars(select(EvidenceLogLeaf).order_by(EvidenceLogLeaf.idx)).all()
    leaves = [parse_leaf(row.canonical_bytes) for row in rows]
    contact = [leaf for leaf in leaves if leaf.kind == LeafKind.CONTACT_ATTEMPT]
    assert len(contact) == 1
    payload = contact[0].payload
    assert contact[0].case_id == world.case.id
    assert payload["attempt_id"] == attempt.id
    assert payload["connected"] is False
    assert payload["gate"]["decision_id"] == attempt.decision_id
    assert payload["gate"]["allowed"] is True
    assert payload["gate"]["pack_version"].startswith("cn-2025")
