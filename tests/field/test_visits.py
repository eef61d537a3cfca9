"""On site: check-in through the compliance gate with the distance flag and an evidence
leaf, the visit outcome (never without a check-in), photos and recordings hashed into the
evidence log, and nobody acting on another field agent's stop."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import select

from debtflow.auth.scoping import NotPermitted
from debtflow.case.service import CaseNotFound
from debtflow.compliance import service as compliance_service
from debtflow.config import get_settings
from debtflow.core.evidence.leaf import LeafKind, parse_leaf
from debtflow.core.field.visits import VisitOutcome, VisitStatus
from debtflow.evidence.log import file_store
from debtflow.field import service
from debtflow.field.errors import (
    CheckinRequired,
    FileTooLarge,
    InvalidCheckin,
    InvalidOutcome,
    NotAFieldCollector,
    OutcomeAlreadyRecorded,
    RouteNotFound,
    UnsupportedMedia,
    VisitStillOpen,
)
from debtflow.models import (
    ContactAttempt,
    ContactDecision,
    EvidenceFile,
    EvidenceLogLeaf,
    FieldCheckin,
    FieldVisitFile,
    PromiseToPay,
)
from field.world import HOME, at

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


def leaf_at(session, index):
    row = session.get(EvidenceLogLeaf, index)
    assert row is not None
    return parse_leaf(row.canonical_bytes)


def check_in(session, world, *, user=None, lat=HOME[0], lon=HOME[1], accuracy=12, when=None, **kw):
    return service.check_in(
        session,
        user=user or world.field_user,
        case_id=world.case.id,
        latitude=lat,
        longitude=lon,
        accuracy_m=accuracy,
        now=when or at(10),
        **kw,
    )


@pytest.fixture
def on_route(session, world):
    """The online agent's case is on the first field agent's route of the day."""
    return world.route(session, collector=world.field, case_ids=[world.case.id])


def test_check_in_at_the_door_is_stored_and_hashed_into_the_evidence_log(session, world, on_route):
    result = check_in(session, world, lat=30.2742, lon=120.1552, accuracy=15)
    assert result.decision.allowed and result.decision.channel == "visit"
    checkin = result.checkin
    assert checkin is not None
    assert (checkin.latitude_micro, checkin.longitude_micro) == (30_274_200, 120_155_200)
    assert checkin.accuracy_m == 15
    # 11.1 m north and 9.6 m east of the home: 14.7 m
    assert checkin.distance_m == 15
    assert checkin.far is False
    assert checkin.decision_id == result.decision.id
    leaf = leaf_at(session, checkin.evidence_index)
    assert leaf.kind == LeafKind.FIELD_CHECKIN
    assert leaf.case_id == world.case.id
    assert leaf.payload["latitude_micro"] == 30_274_200
    assert leaf.payload["longitude_micro"] == 120_155_200
    assert leaf.payload["accuracy_m"] == 15
    assert leaf.payload["distance_m"] == 15
    assert leaf.payload["far"] is False
    assert leaf.payload["decision_id"] == result.decision.id
    assert not any(isinstance(v, float) for v in leaf.payload.values())


def test_check_in_far_from_the_address_is_flagged(session, world, on_route):
    # 0.01 degree north of the home: 1112 m away
    far = check_in(session, world, lat=HOME[0] + 0.01).checkin
    assert far is not None and far.distance_m == 1112 and far.far is True
    assert leaf_at(session, far.evidence_index).payload["far_threshold_m"] == 500


def test_far_threshold_is_configurable(session, world, on_route, monkeypatch):
    monkeypatch.setenv("DEBTFLOW_FIELD_FAR_METRES", "2000")
    get_settings.cache_clear()
    relaxed = check_in(session, world, lat=HOME[0] + 0.01).checkin
    assert relaxed is not None and relaxed.far is False
    service.record_outcome(
        session, user=world.field_user, case_id=world.case.id, outcome="not_home", now=at(10, 30)
    )
    strict = check_in(session, world, lat=HOME[0] + 0.001, when=at(11), far_metres=100).checkin
    assert strict is not None and strict.distance_m == 111 and strict.far is True


@pytest.mark.parametrize(
    ("lat", "lon", "accuracy"), [(91.0, 120.0, 10), (30.0, -181.0, 10), (30.0, 120.0, -1)]
)
def test_impossible_positions_are_refused(session, world, on_route, lat, lon, accuracy):
    with pytest.raises(InvalidCheckin):
        check_in(session, world, lat=lat, lon=lon, accuracy=accuracy)
    assert session.scalars(select(FieldCheckin)).all() == []


def test_visit_in_quiet_hours_is_denied_with_reasons_and_not_recorded(session, world, on_route):
    leaves_before = len(session.scalars(select(EvidenceLogLeaf)).all())
    result = check_in(session, world, when=at(22, 30))
    assert result.checkin is None
    assert result.decision.allowed is False
    assert "quiet_hours" in result.decision.reasons
    assert session.scalars(select(FieldCheckin)).all() == []
    kinds = [leaf.kind for leaf in session.scalars(select(EvidenceLogLeaf)).all()]
    assert LeafKind.FIELD_CHECKIN.value not in kinds[leaves_before:]
    # the gate's own decision is kept for the audit
    assert session.get(ContactDecision, result.decision.id) is not None


def test_visit_to_a_debtor_who_asked_not_to_be_contacted_is_denied(session, world, on_route):
    compliance_service.set_restriction(
        session,
        debtor_id=world.debtor.id,
        flag="do_not_contact",
        reason="debtor's written request",
        set_by="compliance",
        now=at(8),
    )
    result = check_in(session, world)
    assert result.checkin is None
    assert "do_not_contact" in " ".join(result.decision.reasons)


def test_other_field_agent_cannot_act_on_the_stop(session, world, on_route):
    with pytest.raises(CaseNotFound) as caught:
        check_in(session, world, user=world.other_field_user)
    assert caught.value.status_code == 404
    check_in(session, world)
    with pytest.raises(CaseNotFound):
        service.record_outcome(
            session,
            user=world.other_field_user,
            case_id=world.case.id,
            outcome="not_home",
            now=at(10, 30),
        )
    with pytest.raises(CaseNotFound):
        service.upload_file(
            session,
            user=world.other_field_user,
            case_id=world.case.id,
            content=JPEG,
            media_type="image/jpeg",
            now=at(10, 30),
        )


def test_case_neither_on_the_route_nor_held_is_not_found(session, world):
    with pytest.raises(CaseNotFound):
        check_in(session, world)


def test_a_field_agents_own_case_needs_no_route(session, world):
    world.case.assigned_collector_id = world.field.id
    session.flush()
    assert check_in(session, world).checkin is not None


@pytest.mark.parametrize("who", ["agent_user", "manager", "auditor"])
def test_only_field_collectors_check_in(session, world, on_route, who):
    with pytest.raises((NotAFieldCollector, NotPermitted)) as caught:
        check_in(session, world, user=getattr(world, who))
    assert caught.value.status_code == 403


def test_outcome_without_check_in_is_refused(session, world, on_route):
    with pytest.raises(CheckinRequired) as caught:
        service.record_outcome(
            session, user=world.field_user, case_id=world.case.id, outcome="not_home", now=at(10)
        )
    assert caught.value.status_code == 409
    assert session.scalars(select(ContactAttempt)).all() == []
    # yesterday's check-in (the case was then the field agent's own) does not cover today's
    world.case.assigned_collector_id = world.field.id
    check_in(session, world, when=at(10, day=date(2026, 11, 19)))
    with pytest.raises(CheckinRequired):
        service.record_outcome(
            session, user=world.field_user, case_id=world.case.id, outcome="not_home", now=at(10)
        )


def test_outcome_logs_the_visit_as_a_contact_and_closes_the_request(session, world, on_route):
    request = service.request_visit(
        session, case_id=world.case.id, user=world.agent_user, reason="失联", now=at(8)
    )
    checkin = check_in(session, world).checkin
    assert checkin is not None and checkin.request_id == request.id
    done = service.record_outcome(
        session,
        user=world.field_user,
        case_id=world.case.id,
        outcome="not_home",
        note="  邻居说周末在家 ",
        now=at(10, 20),
    )
    assert done.outcome == VisitOutcome.NOT_HOME and done.note == "邻居说周末在家"
    attempt = session.get(ContactAttempt, done.attempt_id)
    assert attempt is not None
    assert (attempt.channel, attempt.connected, attempt.outcome) == ("visit", False, "not_home")
    assert attempt.attempted_at == at(10)
    assert request.status == VisitStatus.VISITED and request.closed_at == at(10, 20)
    with pytest.raises(OutcomeAlreadyRecorded):
        service.record_outcome(
            session, user=world.field_user, case_id=world.case.id, outcome="refused", now=at(11)
        )


def test_promise_outcome_records_the_promise(session, world, on_route):
    check_in(session, world)
    done = service.record_outcome(
        session,
        user=world.field_user,
        case_id=world.case.id,
        outcome="promise",
        promise_amount_fen=50_000,
        promise_due=date(2026, 11, 30),
        now=at(10, 30),
    )
    promise = session.get(PromiseToPay, done.promise_id)
    assert promise is not None
    assert (promise.amount_fen, promise.due, promise.collector_id) == (
        50_000,
        date(2026, 11, 30),
        world.field.id,
    )
    assert session.get(ContactAttempt, done.attempt_id).connected is True


@pytest.mark.parametrize(
    ("outcome", "amount", "due"),
    [
        ("promise", None, date(2026, 11, 30)),
        ("promise", 50_000, None),
        ("not_home", 50_000, date(2026, 11, 30)),
        ("teleported", None, None),
    ],
)
def test_bad_outcomes_are_refused(session, world, on_route, outcome, amount, due):
    check_in(session, world)
    with pytest.raises(InvalidOutcome) as caught:
        service.record_outcome(
            session,
            user=world.field_user,
            case_id=world.case.id,
            outcome=outcome,
            promise_amount_fen=amount,
            promise_due=due,
            now=at(10, 30),
        )
    assert caught.value.status_code == 422
    assert session.scalars(select(ContactAttempt)).all() == []


def test_photo_is_stored_by_hash_and_its_hash_is_in_the_evidence_leaf(session, world, on_route):
    checkin = check_in(session, world).checkin
    stored = service.upload_file(
        session,
        user=world.field_user,
        case_id=world.case.id,
        content=JPEG,
        media_type="image/jpeg",
        now=at(10, 5),
    )
    digest = hashlib.sha256(JPEG).hexdigest()
    assert stored.sha256 == digest and stored.size == len(JPEG)
    assert stored.checkin_id == checkin.id
    leaf = leaf_at(session, stored.evidence_index)
    assert leaf.kind == LeafKind.FIELD_CHECKIN
    assert leaf.file_sha256 == (digest,)
    assert leaf.payload["checkin_id"] == checkin.id
    assert file_store().read(digest) == JPEG
    assert session.get(EvidenceFile, digest).media_type == "image/jpeg"


def test_upload_without_check_in_too_big_or_wrong_type_is_refused(session, world, on_route):
    def upload(content, media_type):
        return service.upload_file(
            session,
            user=world.field_user,
            case_id=world.case.id,
            content=content,
            media_type=media_type,
            now=at(10, 5),
        )

    with pytest.raises(CheckinRequired):
        upload(JPEG, "image/jpeg")
    check_in(session, world)
    with pytest.raises(FileTooLarge) as too_big:
        upload(JPEG + b"\x00" * (20 * 1024 * 1024), "image/jpeg")
    assert too_big.value.status_code == 413
    with pytest.raises(UnsupportedMedia) as wrong:
        upload(b"%PDF-1.7 not a photo", "application/pdf")
    assert wrong.value.status_code == 415
    with pytest.raises(UnsupportedMedia):
        upload(JPEG, "audio/mpeg")
    assert session.scalars(select(FieldVisitFile)).all() == []


def test_route_sheet_shows_masked_stops_and_what_happened(session, world, on_route):
    check_in(session, world, lat=HOME[0] + 0.01)
    sheet = service.route_sheet(session, user=world.field_user, day=at(10).date())
    assert sheet.planned and sheet.collector.id == world.field.id
    (stop,) = sheet.stops
    assert stop.debtor_name == "王*明"
    assert stop.address == "浙江杭州西湖区文三路1号"
    assert stop.balance_fen == 812_345
    assert (stop.window_from, stop.window_until) == (at(10), at(20))
    assert stop.arrive == at(10)
    assert stop.checkin is not None and stop.checkin.far is True
    assert sheet.map is not None and [p.label for p in sheet.map.points] == ["0", "1"]
    # the manager reads it by collector id, the other field agent cannot
    by_manager = service.route_sheet(
        session, user=world.manager, day=at(10).date(), collector_id=world.field.id
    )
    assert [s.case_id for s in by_manager.stops] == [world.case.id]
    with pytest.raises(RouteNotFound):
        service.route_sheet(
            session, user=world.other_field_user, day=at(10).date(), collector_id=world.field.id
        )
    with pytest.raises(NotAFieldCollector):
        service.route_sheet(session, user=world.agent_user, day=at(10).date())
    empty = service.route_sheet(session, user=world.other_field_user, day=at(10).date())
    assert not empty.planned and empty.stops == () and empty.map is None


def test_second_check_in_waits_for_the_first_visits_outcome(session, world, on_route):
    first = check_in(session, world).checkin
    with pytest.raises(VisitStillOpen) as caught:
        check_in(session, world, when=at(10, 40))
    assert caught.value.status_code == 409
    service.record_outcome(
        session, user=world.field_user, case_id=world.case.id, outcome="not_home", now=at(10, 45)
    )
    second = check_in(session, world, when=at(15)).checkin
    assert second is not None and second.id != first.id
    assert second.decision_id != first.decision_id
