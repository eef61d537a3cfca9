"""Nightly dispatch, real time, overrides, explanations, learning and routes on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from debtflow.collector import service as collector_service
from debtflow.core.errors import InvalidInput
from debtflow.demo.collectors import generate_collectors
from debtflow.dispatch import (
    errors,
    explanations,
    field_routes,
    learning,
    overrides,
    realtime,
    scoring,
)
from debtflow.dispatch import metrics as dispatch_metrics
from debtflow.models import (
    Case,
    Collector,
    ContactAttempt,
    ContactDecision,
    DispatchAssignment,
    DispatchOverride,
    FieldRoute,
)
from debtflow.models.enums import ContactDirection, ContactParty
from debtflow.nightly import service as nightly
from debtflow.portfolio import service as portfolio_service
from debtflow.promise import service as promise_service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio


@pytest.fixture
def portfolio(session, tmp_path, monkeypatch):
    monkeypatch.setattr(field_routes, "TIME_LIMIT_S", 0.2)
    make_creditor(session)
    path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=40, seed=5))
    portfolio_service.import_portfolio(session, path=path, creditor_code="TESTBANK", today=TODAY)
    collector_service.save_many(session, specs=generate_collectors(cases=240, seed=3))
    session.flush()
    return session


def history_count(session, case_id=None):
    stmt = select(func.count()).select_from(DispatchAssignment)
    if case_id is not None:
        stmt = stmt.where(DispatchAssignment.case_id == case_id)
    return session.scalar(stmt)


def collector_code(session, collector_id):
    return session.get(Collector, collector_id).code


def test_nightly_assigns_with_reasons_and_a_second_run_changes_nothing(portfolio):
    session = portfolio
    report = nightly.run(session, as_of=TODAY)
    counts = report.steps["dispatch"]
    cases = session.scalars(select(Case)).all()
    assigned = [c for c in cases if c.assigned_collector_id is not None]
    assert counts["dispatch_assigned"] == len(assigned) == history_count(session) > 0
    row = session.scalars(select(DispatchAssignment)).first()
    assert row.how == "nightly" and row.reasons and row.runner_up_collector_id is not None
    assert row.margin_fen == row.value_fen - row.runner_up_value_fen
    again = nightly.run(session, as_of=TODAY)
    assert again.steps["dispatch"]["dispatch_assigned"] == 0
    assert again.steps["route"]["routes_planned"] == 0
    assert history_count(session) == len(assigned)


def test_capacity_is_respected(portfolio):
    session = portfolio
    session.execute(update(Collector).values(capacity_hours_week=1))  # 4 online cases each
    nightly.run(session, as_of=TODAY)
    held = session.execute(
        select(Case.assigned_collector_id, func.count())
        .where(Case.assigned_collector_id.is_not(None))
        .group_by(Case.assigned_collector_id)
    ).all()
    kinds = dict(session.execute(select(Collector.id, Collector.kind)).all())
    limit = {"online_agent": 4, "field_agent": 0, "part_time": 0, "law_firm": 0}
    for collector_id, n in held:
        assert n <= limit[str(kinds[collector_id])]


def test_explain_names_collector_runner_up_and_margin(portfolio):
    session = portfolio
    case_id = session.scalars(select(Case.id).order_by(Case.id)).first()
    with pytest.raises(errors.NotYetDispatched, match="nightly"):
        explanations.explain(session, case_id=case_id)
    nightly.run(session, as_of=TODAY)
    words = explanations.explain(session, case_id=case_id)
    case = session.get(Case, case_id)
    assert words.collector.collector_id == case.assigned_collector_id
    assert words.collector.code in words.en and "runner-up:" in words.en
    assert "次选" in words.zh and "margin" in words.en
    assert any(r.en in words.en for r in words.reasons)
    # the time of the hand-over names its zone (the business zone, not UTC)
    assert "nightly plan, " in words.en and " Asia/Shanghai):" in words.en
    assert " Asia/Shanghai）" in words.zh
    with pytest.raises(errors.CaseNotFound):
        explanations.explain(session, case_id=999_999)


def test_override_is_recorded_kept_by_the_night_and_history_is_append_only(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    case = session.scalars(select(Case).order_by(Case.id)).first()
    before = case.assigned_collector_id
    other = session.scalars(
        select(Collector.id).where(Collector.kind == "online_agent", Collector.id != before)
    ).first()
    with pytest.raises(InvalidInput, match="reason"):
        overrides.override(session, case_id=case.id, collector_id=other, reason=" ", by="李经理")
    overrides.override(
        session, case_id=case.id, collector_id=other, reason="debtor asked for a woman", by="李经理"
    )
    again = session.get(Collector, other).code
    with pytest.raises(errors.AlreadyAssigned, match=f"already with collector {again}$"):
        overrides.override(session, case_id=case.id, collector_id=other, reason="x", by="李经理")
    record = session.scalars(select(DispatchOverride)).one()
    assert (record.from_collector_id, record.to_collector_id) == (before, other)
    assert record.by == "李经理"
    words = explanations.explain(session, case_id=case.id)
    assert "override by 李经理: debtor asked for a woman" in words.en
    nightly.run(session, as_of=TODAY + timedelta(days=1))
    session.refresh(case)
    assert case.assigned_collector_id == other
    assert history_count(session, case.id) == 2
    with pytest.raises(DBAPIError), session.begin_nested():
        session.execute(delete(DispatchAssignment).where(DispatchAssignment.case_id == case.id))


def test_a_pending_promise_blocks_reassignment(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    case = session.scalars(
        select(Case).where(Case.assigned_collector_id.is_not(None)).order_by(Case.id)
    ).first()
    # move it by hand (outside dispatch) to a collector the plan would not choose
    law_firm = session.scalars(select(Collector.id).where(Collector.kind == "law_firm")).first()
    session.execute(update(Case).where(Case.id == case.id).values(assigned_collector_id=law_firm))
    promise_service.record(
        session,
        case_id=case.id,
        amount_fen=10_000,
        made_on=TODAY,
        due=TODAY + timedelta(days=10),
        actor="test",
    )
    nightly.run(session, as_of=TODAY + timedelta(days=1))
    session.refresh(case)
    assert case.assigned_collector_id == law_firm
    # without the promise the plan takes it back
    other = session.scalars(
        select(Case).where(Case.id != case.id, Case.assigned_collector_id.is_not(None))
    ).first()
    session.execute(update(Case).where(Case.id == other.id).values(assigned_collector_id=law_firm))
    nightly.run(session, as_of=TODAY + timedelta(days=2))
    session.refresh(other)
    assert other.assigned_collector_id != law_firm


def test_assign_now_places_a_returned_case_and_keeps_history(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    case = session.scalars(select(Case).order_by(Case.id)).first()
    holder = session.get(Collector, case.assigned_collector_id).code  # e.g. ON0004, not an id
    with pytest.raises(errors.AlreadyAssigned, match=f"already with collector {holder};"):
        realtime.assign_now(session, case_id=case.id)
    first = case.assigned_collector_id
    session.execute(
        update(Case).where(Case.id == case.id).values(assigned_collector_id=None, assigned_at=None)
    )
    placed = realtime.assign_now(session, case_id=case.id)
    session.refresh(case)
    assert case.assigned_collector_id == placed.collector_id
    latest = session.scalars(
        select(DispatchAssignment)
        .where(DispatchAssignment.case_id == case.id)
        .order_by(DispatchAssignment.id.desc())
    ).first()
    assert latest.how == "realtime" and latest.previous_collector_id == first
    assert placed.collector_code == collector_code(session, placed.collector_id)
    assert history_count(session, case.id) == 2


def test_outcomes_through_the_database_shift_learned_values(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    online = session.scalars(
        select(Collector.id).where(Collector.kind == "online_agent").order_by(Collector.id)
    ).all()
    good, poor = online[0], online[1]
    cases = session.scalars(
        select(Case).where(Case.assigned_collector_id.in_(online)).order_by(Case.id)
    ).all()
    probe = cases[0].id
    before = {
        v.collector_id: v.value_fen
        for v in learning.candidate_values(session, case_id=probe, collector_ids=[good, poor])
    }
    for i, case in enumerate(cases[1:25]):
        target = good if i % 2 == 0 else poor
        if case.assigned_collector_id != target:
            overrides.override(
                session, case_id=case.id, collector_id=target, reason="experiment", by="test"
            )
        recovered = case.outstanding_fen if target == good else 0
        for _ in range(3):
            learning.record_outcome(session, case_id=case.id, recovered_fen=recovered)
    after = {
        v.collector_id: v.value_fen
        for v in learning.candidate_values(session, case_id=probe, collector_ids=[good, poor])
    }
    assert after[good] > before[good]
    assert after[poor] < before[poor]
    assert (after[good] - after[poor]) - (before[good] - before[poor]) > 1_000  # ¥10


def test_record_outcome_refuses_bad_input(portfolio):
    session = portfolio
    case_id = session.scalars(select(Case.id)).first()
    with pytest.raises(errors.NotYetDispatched):
        learning.record_outcome(session, case_id=case_id, recovered_fen=100)
    nightly.run(session, as_of=TODAY)
    with pytest.raises(InvalidInput, match="negative"):
        learning.record_outcome(session, case_id=case_id, recovered_fen=-1)


def test_field_routes_stay_inside_windows_and_the_day(portfolio):
    session = portfolio
    session.execute(update(Case).values(channel="field"))
    nightly.run(session, as_of=TODAY)
    routes = session.scalars(select(FieldRoute)).all()
    assert routes
    stops = [s for r in routes for s in r.stops]
    assert stops
    for route in routes:
        for stop in route.stops:
            start = datetime.fromisoformat(stop["start"])
            end = datetime.fromisoformat(stop["end"])
            assert route.leave_at <= start < end <= route.back_at
            assert 9 <= start.astimezone(scoring.local_zone()).hour < 18
        for stop in route.unvisitable:
            assert stop["code"] and stop["reason_en"]
    views = field_routes.routes(
        session, day=TODAY, agent_code=field_routes.routes(session, day=TODAY)[0].code
    )
    assert len(views) == 1


def test_daily_metrics_are_stored(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    day = session.scalars(select(DispatchAssignment.assigned_at)).first()
    rows = dispatch_metrics.metrics_of(session, day=day.astimezone(scoring.local_zone()).date())
    assert len(rows) == 1
    row = rows[0]
    assert row.assignments == history_count(session)
    assert row.match_accuracy == pytest.approx(row.fitting / row.assignments)
    assert row.reassignment_rate == 0.0


def _logged_contact(session, case: Case, when: datetime) -> None:
    decision = ContactDecision(
        debtor_id=case.debtor_id,
        case_id=case.id,
        collector_id=case.assigned_collector_id,
        collecting_party="in-house",
        requested_by="tester",
        channel="call",
        target="debtor",
        purpose="collection",
        planned_at=when,
        allowed=True,
        reasons=[],
        pack_version="cn-2025.1",
        expires_at=when + timedelta(minutes=30),
        decided_at=when,
    )
    session.add(decision)
    session.flush()
    session.add(
        ContactAttempt(
            case_id=case.id,
            debtor_id=case.debtor_id,
            collector_id=case.assigned_collector_id,
            channel="call",
            direction=ContactDirection.OUTBOUND,
            party=ContactParty.DEBTOR,
            attempted_at=when,
            decision_id=decision.id,
            collecting_party="in-house",
        )
    )
    session.flush()


def test_a_contact_before_the_assignment_is_not_its_response(portfolio):
    """A case worked earlier in the day and reassigned by the night's dispatch has contacts
    in the window but none after its assignment: the metrics count it as not yet contacted
    (the nightly step used to fail on it, rolling back the whole night)."""
    session = portfolio
    nightly.run(session, as_of=TODAY)
    rows = session.scalars(select(DispatchAssignment).order_by(DispatchAssignment.id)).all()
    before, after = (session.get(Case, r.case_id) for r in rows[:2])
    assigned_at = rows[0].assigned_at
    _logged_contact(session, before, rows[0].assigned_at - timedelta(hours=2))
    _logged_contact(session, after, rows[1].assigned_at + timedelta(minutes=30))
    # shown between two nights, the figures already count the contacts made since
    (latest,) = [r for r in dispatch_metrics.metrics_of(session, day=None) if r.assignments]
    assert latest.contacted == 1
    again = nightly.run(session, as_of=TODAY)
    assert again.steps["dispatch_metrics"]["metric_days_updated"] == 0  # nothing new since
    day = assigned_at.astimezone(scoring.local_zone()).date()
    (row,) = dispatch_metrics.metrics_of(session, day=day)
    assert row.contacted == 1
    assert row.response_minutes_median == pytest.approx(30.0)


def test_an_angry_conversation_history_moves_the_case_toward_a_communicative_collector(portfolio):
    from debtflow.core.dispatch.features import COMMUNICATIVE_TAGS
    from debtflow.models import ConversationAnalysis

    session = portfolio
    nightly.run(session, as_of=TODAY)
    online = session.scalars(
        select(Collector).where(Collector.kind == "online_agent").order_by(Collector.id)
    ).all()
    talker, other = online[0].id, online[1].id
    # same skills, opposite styles: only the communication style tells them apart
    online[0].tags = ["style:communicative"]
    online[1].tags = ["style:firm"]
    session.flush()
    styles = {
        e.profile.collector_id: e.profile.style_tags
        for e in scoring.collector_pool(session).collectors
    }
    assert styles[talker] & COMMUNICATIVE_TAGS and not styles[other] & COMMUNICATIVE_TAGS
    probe = session.scalars(
        select(Case.id).where(Case.channel == "online").order_by(Case.id)
    ).first()

    def values() -> dict[int, int]:
        return {
            v.collector_id: v.value_fen
            for v in learning.candidate_values(
                session, case_id=probe, collector_ids=[talker, other]
            )
        }

    before = values()
    for i in range(6):
        session.add(
            ConversationAnalysis(
                case_id=probe,
                analysed_at=datetime.now(UTC) - timedelta(days=i),
                speaker="debtor",
                emotion="angry" if i % 3 else "anxious",
                intent="refuse" if i == 0 else "other",
                text_sha256="0" * 64,
            )
        )
    # the collector's side and utterances older than the window do not count
    session.add(
        ConversationAnalysis(
            case_id=probe,
            analysed_at=datetime.now(UTC),
            speaker="collector",
            emotion=None,
            text_sha256="1" * 64,
        )
    )
    session.flush()
    after = values()
    assert after[talker] - before[talker] > after[other] - before[other]
    assert after[talker] - after[other] > before[talker] - before[other]


def test_conversation_history_outside_the_window_is_ignored(portfolio):
    from debtflow.dispatch import repository
    from debtflow.models import ConversationAnalysis

    session = portfolio
    case_id = session.scalars(select(Case.id).order_by(Case.id)).first()
    now = datetime.now(UTC)
    for days, emotion in ((1, "angry"), (200, "sad"), (-1, "positive")):
        session.add(
            ConversationAnalysis(
                case_id=case_id,
                analysed_at=now - timedelta(days=days),
                speaker="debtor",
                emotion=emotion,
                intent="cannot_pay",
                text_sha256="2" * 64,
            )
        )
    session.flush()
    histories = repository.conversation_histories(
        session, [case_id], since=scoring.conversation_since(now), until=now
    )
    assert histories[case_id].emotions == {"angry": 1}
    assert histories[case_id].intents == {"cannot_pay": 1}


CASES_PER_HOUR = {"online_agent": 4, "field_agent": 1 / 3, "part_time": 1 / 3, "law_firm": 2 / 3}


def _over_capacity(session) -> dict[str, tuple[int, int]]:
    """Collector code -> (open cases held, capacity in cases), for those holding more."""
    rows = session.execute(
        select(Collector.code, Collector.kind, Collector.capacity_hours_week, func.count())
        .join(Case, Case.assigned_collector_id == Collector.id)
        .group_by(Collector.code, Collector.kind, Collector.capacity_hours_week)
    ).all()
    over = {}
    for code, kind, hours, held in rows:
        capacity = int(hours * CASES_PER_HOUR[str(kind)] + 1e-9)
        if held > capacity:
            over[code] = (held, capacity)
    return over


def _queue(session) -> int:
    return session.scalar(
        select(func.count()).select_from(Case).where(Case.assigned_collector_id.is_(None))
    )


def test_when_capacities_shrink_the_next_night_keeps_everyone_within_them(portfolio):
    """Cases held from the night before count against their collector: the plan neither
    leaves a case with a collector who has no room for it nor gives new cases to a full
    collector; what fits nowhere goes back to the queue and is counted there."""
    session = portfolio
    nightly.run(session, as_of=TODAY)
    assert _queue(session) == 0
    session.execute(update(Collector).values(capacity_hours_week=1))  # 4 online cases each
    counts = nightly.run(session, as_of=TODAY + timedelta(days=1)).steps["dispatch"]
    assert _over_capacity(session) == {}
    queued = _queue(session)
    assert queued > 0
    assert counts["dispatch_queued"] == queued
    assert counts["dispatch_released"] == queued  # every one of them had a collector
    again = nightly.run(session, as_of=TODAY + timedelta(days=1)).steps["dispatch"]
    assert (again["dispatch_assigned"], again["dispatch_released"]) == (0, 0)
    assert again["dispatch_queued"] == queued


def test_cases_kept_for_a_pending_promise_count_against_their_collector(portfolio):
    """A pending promise keeps a case with its collector even beyond capacity; the night
    gives that collector nothing else."""
    session = portfolio
    nightly.run(session, as_of=TODAY)
    agent = session.scalars(
        select(Collector).where(Collector.kind == "online_agent").order_by(Collector.id)
    ).first()
    promised = session.scalars(select(Case).order_by(Case.id).limit(5)).all()
    session.execute(
        update(Case)
        .where(Case.id.in_([c.id for c in promised]))
        .values(assigned_collector_id=agent.id)
    )
    for case in promised:
        promise_service.record(
            session,
            case_id=case.id,
            amount_fen=10_000,
            made_on=TODAY,
            due=TODAY + timedelta(days=10),
            actor="test",
        )
    session.execute(update(Collector).values(capacity_hours_week=1))  # 4 online cases each
    counts = nightly.run(session, as_of=TODAY + timedelta(days=1)).steps["dispatch"]
    assert counts["dispatch_pinned"] == 5
    held = session.scalars(select(Case.id).where(Case.assigned_collector_id == agent.id)).all()
    assert sorted(held) == sorted(c.id for c in promised)
    assert _over_capacity(session) == {agent.code: (5, 4)}


def test_a_collector_outside_the_top_k_still_keeps_the_case_it_holds(portfolio, monkeypatch):
    """The plan weighs keeping a case with its collector even when that collector is not
    among the case's k most valuable candidates: a second run for the date changes
    nothing, however small k is."""
    from debtflow.dispatch import service as dispatch_service

    session = portfolio
    nightly.run(session, as_of=TODAY)
    before = dict(session.execute(select(Case.id, Case.assigned_collector_id)).all())
    monkeypatch.setattr(dispatch_service, "TOP_K", 1)
    counts = dispatch_service.dispatch_cases(session, TODAY)
    assert (counts["dispatch_assigned"], counts["dispatch_released"]) == (0, 0)
    assert dict(session.execute(select(Case.id, Case.assigned_collector_id)).all()) == before


def test_cases_nobody_may_work_are_queued_and_not_placed_in_real_time(portfolio):
    """With no online agent active, cases that need online work have no candidate at all:
    the night queues them (it used to fail, and with it the whole nightly cycle, when no
    case of a chunk had a candidate) and a real-time placement refuses."""
    from debtflow.dispatch import service as dispatch_service

    session = portfolio
    nightly.run(session, as_of=TODAY)
    session.execute(update(Collector).where(Collector.kind == "online_agent").values(active=False))
    # every case needs online work: short overdue, online channel, no legal treatment
    session.execute(update(Case).values(channel="online", days_past_due=10, treatment=None))
    assert "legal" not in session.scalars(select(Case.status)).all()
    counts = dispatch_service.dispatch_cases(session, TODAY + timedelta(days=1))
    assert counts["dispatch_cases"] == 40
    assert (counts["dispatch_assigned"], counts["dispatch_queued"]) == (0, 40)
    assert counts["dispatch_released"] == 40  # from inactive or no longer fitting holders
    assert _queue(session) == 40
    with pytest.raises(errors.NoCollectorFree, match="no eligible collector"):
        realtime.assign_now(
            session, case_id=session.scalars(select(Case.id).order_by(Case.id)).first()
        )


def test_assign_now_leaves_a_case_worth_nothing_in_the_queue(portfolio):
    """A ¥1 balance is worth less than the cost of working it with anyone: as the
    nightly plan would, real time leaves it unassigned."""
    session = portfolio
    case_id = session.scalars(select(Case.id).order_by(Case.id)).first()
    session.execute(update(Case).where(Case.id == case_id).values(outstanding_fen=100))
    with pytest.raises(errors.NoCollectorFree, match="positive value"):
        realtime.assign_now(session, case_id=case_id)
    assert session.get(Case, case_id).assigned_collector_id is None
    assert history_count(session, case_id) == 0


def _online_agents(session) -> list[Collector]:
    return session.scalars(
        select(Collector).where(Collector.kind == "online_agent").order_by(Collector.id)
    ).all()


def test_an_override_cannot_move_a_case_with_a_pending_promise(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    case = session.scalars(select(Case).order_by(Case.id)).first()
    holder = case.assigned_collector_id
    other = next(a.id for a in _online_agents(session) if a.id != holder)
    promise_service.record(
        session,
        case_id=case.id,
        amount_fen=10_000,
        made_on=TODAY,
        due=TODAY + timedelta(days=10),
        actor="test",
    )
    with pytest.raises(errors.PromisePending, match="pending promise") as refused:
        overrides.override(session, case_id=case.id, collector_id=other, reason="x", by="李经理")
    assert refused.value.status_code == 409
    session.refresh(case)
    assert case.assigned_collector_id == holder
    assert history_count(session, case.id) == 1
    assert session.scalar(select(func.count()).select_from(DispatchOverride)) == 0
    # a queued case with a promise (its collector left) may be given to someone by hand
    session.execute(update(Case).where(Case.id == case.id).values(assigned_collector_id=None))
    overrides.override(session, case_id=case.id, collector_id=other, reason="x", by="李经理")
    session.refresh(case)
    assert case.assigned_collector_id == other


def test_an_override_onto_a_full_collector_is_refused_unless_asked_for(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    agent = _online_agents(session)[0]
    # exactly full: one hour a week is four online cases (capacity is whole hours)
    session.execute(
        update(Case)
        .where(Case.assigned_collector_id == agent.id)
        .values(assigned_collector_id=None)
    )
    four = session.scalars(select(Case.id).order_by(Case.id).limit(4)).all()
    session.execute(update(Case).where(Case.id.in_(four)).values(assigned_collector_id=agent.id))
    agent.capacity_hours_week = 1
    session.flush()
    case = session.scalars(
        select(Case).where(Case.assigned_collector_id != agent.id).order_by(Case.id)
    ).first()
    with pytest.raises(errors.CollectorFull, match=f"{agent.code} holds 4 open cases, capacity 4"):
        overrides.override(session, case_id=case.id, collector_id=agent.id, reason="x", by="me")
    agent.capacity_hours_week = 0
    session.flush()
    with pytest.raises(errors.CollectorFull, match="capacity 0"):
        overrides.override(session, case_id=case.id, collector_id=agent.id, reason="x", by="me")
    overrides.override(
        session,
        case_id=case.id,
        collector_id=agent.id,
        reason="debtor asked for this agent",
        by="me",
        over_capacity=True,
    )
    session.refresh(case)
    assert case.assigned_collector_id == agent.id


def test_deciding_reasons_are_said_of_the_collector_they_are_true_of(portfolio):
    session = portfolio
    nightly.run(session, as_of=TODAY)
    rows = session.scalars(
        select(DispatchAssignment).where(DispatchAssignment.runner_up_collector_id.is_not(None))
    ).all()
    assert rows and any(row.deciding for row in rows)
    for row in rows:
        for reason in row.deciding:
            assert reason["about"] in ("chosen", "runner_up") and reason["logit"] > 0
    row = rows[0]
    columns = {
        c.key: getattr(row, c.key)
        for c in DispatchAssignment.__table__.columns
        if c.key not in ("id", "assigned_at")
    }

    def explained_with(deciding):
        session.add(
            DispatchAssignment(
                **{**columns, "deciding": deciding},
                assigned_at=row.assigned_at + timedelta(minutes=len(deciding) + 1),
            )
        )
        session.flush()
        return explanations.explain(session, case_id=row.case_id)

    # stored with whom it is about: a law firm runner-up on a case not yet legal
    words = explained_with(
        [
            {"code": "law_firm_early", "logit": 1.2, "about": "runner_up"},
            {"code": "hardship_empathetic", "logit": 0.5, "about": "chosen"},
        ]
    )
    assert "  * against the runner-up: too early for a law firm" in words.en
    assert "  * debtor in hardship and an empathetic collector" in words.en
    assert "law firm appropriate at this stage" not in words.en
    assert "  * 次选不利：尚未到需要律所介入的阶段" in words.zh
    assert "现阶段适合律所介入" not in words.zh
    assert [r.about for r in words.deciding] == ["runner_up", "chosen"]
    # a row written before `about` was stored: a feature with a negative prior (field_far)
    # can only have decided by counting against the runner-up
    words = explained_with(
        [
            {"code": "field_far", "logit": 0.3},
            {"code": "field_nearby", "logit": 0.2},
            {"code": "law_firm_early", "logit": 1.2},
        ]
    )
    assert "against the runner-up: field collector far from the debtor" in words.en
    assert "field collector not far from the debtor" not in words.en
    assert "  * field collector close to the debtor" in words.en
    assert "次选不利：外访人员距离债务人较远" in words.zh


def test_a_nightly_negative_margin_says_the_runner_up_had_no_room(portfolio):
    session = portfolio
    session.execute(update(Collector).values(capacity_hours_week=1))  # 4 online cases each
    nightly.run(session, as_of=TODAY)
    rows = session.scalars(
        select(DispatchAssignment).where(
            DispatchAssignment.how == "nightly", DispatchAssignment.margin_fen < 0
        )
    ).all()
    assert rows  # capacity forced some cases to a collector worth less than the runner-up
    for row in rows:
        words = explanations.explain(session, case_id=row.case_id)
        assert "had no room" in words.en and "margin -¥" in words.en
        assert "没有余量" in words.zh
    others = session.scalars(
        select(DispatchAssignment).where(DispatchAssignment.margin_fen >= 0)
    ).all()
    assert others
    for row in others:
        words = explanations.explain(session, case_id=row.case_id)
        assert "had no room" not in words.en and "没有余量" not in words.zh


def test_a_real_time_negative_margin_says_continuity_or_fair_share(portfolio):
    session = portfolio
    session.execute(update(Collector).values(capacity_hours_week=1))
    nightly.run(session, as_of=TODAY)
    row = session.scalars(
        select(DispatchAssignment).where(DispatchAssignment.margin_fen < 0)
    ).first()
    columns = {
        c.key: getattr(row, c.key)
        for c in DispatchAssignment.__table__.columns
        if c.key not in ("id", "assigned_at", "how", "previous_collector_id")
    }
    for minutes, previous, en, zh in (
        (1, row.collector_id, "went back to its previous collector", "回到原催收员"),
        (2, None, "above its fair share", "超过公平份额"),
    ):
        session.add(
            DispatchAssignment(
                **columns,
                how="realtime",
                previous_collector_id=previous,
                assigned_at=row.assigned_at + timedelta(minutes=minutes),
            )
        )
        session.flush()
        words = explanations.explain(session, case_id=row.case_id)
        assert en in words.en and zh in words.zh and "had no room" not in words.en
