"""Deleting a debtor's contact records after the retention period (SQLite and PostgreSQL):
the rows derived from their contacts — conversation analyses, field check-ins and their file
rows, portal disputes — go with the attempts, decisions and restrictions they point at, in
one transaction; promises, payments and the evidence log stay; a legal hold keeps
everything; the retention counts from the latest of all that activity."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from compliance.world import logged_contact, make_world
from debtflow.auth import service as auth_service
from debtflow.compliance import retention, retention_records
from debtflow.compliance import service as compliance_service
from debtflow.config import get_settings
from debtflow.conversation import service as conversation_service
from debtflow.core.compliance.retention import DeletionVerdict
from debtflow.db import Base, get_engine
from debtflow.evidence.log import file_store
from debtflow.field import service as field_service
from debtflow.migrate import upgrade
from debtflow.models import (
    Account,
    Case,
    ContactAttempt,
    ContactDecision,
    ContactRestriction,
    ConversationAnalysis,
    Creditor,
    DebtorDispute,
    EvidenceLogLeaf,
    FieldCheckin,
    FieldVisitFile,
    PromiseToPay,
    Role,
)
from debtflow.models.enums import ProductType
from debtflow.portal import requests as portal_requests
from field.world import FieldWorld, make_field_world

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)
CALL = [
    ("collector", "您好，我是安心消费金融的客服小王，请问是张先生吗？"),
    ("debtor", "我下周五一定还五百"),
]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PDF = b"%PDF-1.4 the creditor's letter"
_phones = itertools.count(1)


def at(hour: int, minute: int = 0, *, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The evidence file store (transcripts, visit photos, dispute uploads) in a temporary
    folder."""
    monkeypatch.setenv("DEBTFLOW_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def count(session: Session, model: type[Base], *where: object) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)))


def delete_after(session: Session, debtor_id: int, today: date) -> retention.DeletionOutcome:
    return retention.request_deletion(
        session, debtor_id=debtor_id, apply=True, today=today, now=at(12)
    )


def analyse(session: Session, *, case_id: int, attempt_id: int | None, when: datetime) -> int:
    """Analyse a two-utterance call of the case; the number of rows stored (one each)."""
    attached = conversation_service.attach_analysis(
        session,
        utterances=CALL,
        case_id=case_id,
        contact_attempt_id=attempt_id,
        analysed_by="agent-1",
        now=when,
    )
    return len(attached.analysis_ids)


def field_world(session: Session, *, tag: str) -> FieldWorld:
    """A field world whose case is assigned to its first field agent (so no route is
    needed for a visit on any day)."""
    world = make_field_world(session, tag=tag)
    world.case.assigned_collector_id = world.field.id
    session.flush()
    return world


def visit(
    session: Session,
    world: FieldWorld,
    *,
    day: date = DAY,
    case_id: int | None = None,
    outcome: str | None = "promise",
    photo: bool = True,
) -> FieldCheckin:
    """A field visit at 10:00: a check-in, a photo, and (unless ``outcome`` is None) the
    outcome at 11:00 — a ``promise`` one records a promise to pay."""
    case = world.case.id if case_id is None else case_id
    result = field_service.check_in(
        session,
        user=world.field_user,
        case_id=case,
        latitude=30.2741,
        longitude=120.1551,
        accuracy_m=10,
        now=at(10, day=day),
    )
    assert result.checkin is not None, result.decision.reasons
    if photo:
        field_service.upload_file(
            session,
            user=world.field_user,
            case_id=case,
            content=JPEG,
            media_type="image/jpeg",
            now=at(10, 30, day=day),
        )
    if outcome is None:
        return result.checkin
    promise = outcome == "promise"
    return field_service.record_outcome(
        session,
        user=world.field_user,
        case_id=case,
        outcome=outcome,
        now=at(11, day=day),
        promise_amount_fen=50_000 if promise else None,
        promise_due=day + timedelta(days=7) if promise else None,
    )


def dispute(
    session: Session, *, debtor_id: int, case_id: int, when: datetime, tag: str
) -> DebtorDispute:
    user = auth_service.create_user(
        session,
        username=f"debtor-{tag.lower()}",
        role=Role.DEBTOR,
        debtor_id=debtor_id,
        phone=f"1370000{next(_phones):04d}",
    )
    return portal_requests.file_dispute(
        session,
        case_id=case_id,
        user=user,
        reason="I never had this card",
        upload=portal_requests.UploadedFile("letter.pdf", "application/pdf", PDF),
        now=when,
    )


def test_an_analysed_call_is_deleted_with_its_attempt_and_the_cases_other_analyses(session):
    """conversation_analysis.contact_attempt_id points at the attempt: the analyses of the
    debtor's calls go first, and so do analyses stored against the debtor's case without
    an attempt. Another debtor's analyses stay."""
    world = make_world(session, tag="CA")
    other = make_world(session, tag="CB")
    call = logged_contact(session, world, channel="call", at=at(10))
    rows = analyse(session, case_id=world.case.id, attempt_id=call.id, when=at(10, 5))
    rows += analyse(session, case_id=world.case.id, attempt_id=None, when=at(10, 10))
    kept = analyse(
        session,
        case_id=other.case.id,
        attempt_id=logged_contact(session, other, channel="call", at=at(10)).id,
        when=at(10, 5),
    )
    leaves = count(session, EvidenceLogLeaf)

    done = delete_after(session, world.debtor.id, date(2028, 11, 20))

    assert done.verdict == DeletionVerdict.DELETE
    assert done.deleted["conversation_analysis"] == rows == 4
    assert done.deleted["contact_attempt"] == 1 and done.deleted["contact_decision"] == 1
    assert count(session, ConversationAnalysis, ConversationAnalysis.case_id == world.case.id) == 0
    assert count(session, ConversationAnalysis, ConversationAnalysis.case_id == other.case.id) == (
        kept
    )
    assert count(session, ContactAttempt, ContactAttempt.debtor_id == other.debtor.id) == 1
    assert count(session, EvidenceLogLeaf) == leaves  # the evidence log is never touched


def test_a_field_visit_is_deleted_with_its_files_and_the_promise_is_kept(session):
    """field_checkin points at the visit's decision and attempt, field_visit_file at the
    check-in: the file rows, then the check-in, then the attempt and decision. The promise
    made on the visit is a financial record: it stays (the check-in pointed at it, not the
    other way round), and so do the evidence leaves and the stored photo."""
    world = field_world(session, tag="FA")
    checkin = visit(session, world)
    photo = session.scalars(select(FieldVisitFile)).one()
    assert checkin.attempt_id is not None and checkin.promise_id is not None
    leaves = count(session, EvidenceLogLeaf)

    done = delete_after(session, world.debtor.id, date(2028, 11, 20))

    assert done.verdict == DeletionVerdict.DELETE
    assert done.deleted["field_visit_file"] == 1 and done.deleted["field_checkin"] == 1
    assert done.deleted["contact_attempt"] == 1 and done.deleted["contact_decision"] == 1
    assert count(session, FieldCheckin) == 0 and count(session, FieldVisitFile) == 0
    assert count(session, PromiseToPay, PromiseToPay.id == checkin.promise_id) == 1
    assert count(session, EvidenceLogLeaf) == leaves
    assert file_store().read(photo.sha256) == JPEG


def test_a_check_in_without_an_outcome_yet_is_deleted_with_its_decision(session):
    """An open visit's check-in has no attempt: it still points at the gate decision."""
    world = field_world(session, tag="FB")
    visit(session, world, outcome=None, photo=False)

    done = delete_after(session, world.debtor.id, date(2028, 11, 20))

    assert done.deleted["field_checkin"] == 1 and done.deleted["field_visit_file"] == 0
    assert done.deleted["contact_attempt"] == 0 and done.deleted["contact_decision"] == 1
    assert count(session, FieldCheckin) == 0


def test_a_portal_dispute_is_deleted_with_its_restriction(session):
    """debtor_dispute.restriction_id points at the dispute restriction (and cannot be
    NULL): the dispute row goes first. Its uploaded file stays in the evidence store with
    the evidence leaf that hashed it."""
    world = make_world(session, tag="DA")
    other = make_world(session, tag="DB")
    logged_contact(session, world, channel="call", at=at(9, day=DAY - timedelta(days=30)))
    filed = dispute(session, debtor_id=world.debtor.id, case_id=world.case.id, when=at(9), tag="DA")
    dispute(session, debtor_id=other.debtor.id, case_id=other.case.id, when=at(9), tag="DB")
    leaves = count(session, EvidenceLogLeaf)

    done = delete_after(session, world.debtor.id, date(2028, 11, 20))

    assert done.verdict == DeletionVerdict.DELETE
    assert done.deleted["debtor_dispute"] == 1 and done.deleted["contact_restriction"] == 1
    assert count(session, DebtorDispute, DebtorDispute.debtor_id == world.debtor.id) == 0
    assert count(session, ContactRestriction, ContactRestriction.debtor_id == world.debtor.id) == 0
    assert count(session, DebtorDispute, DebtorDispute.debtor_id == other.debtor.id) == 1
    assert count(session, EvidenceLogLeaf) == leaves
    assert filed.file_sha256 is not None
    assert file_store().read(filed.file_sha256) == PDF


@dataclass
class Everything:
    """A field debtor with two cases (a Chinese and a US creditor) and every kind of
    record on them."""

    world: FieldWorld
    second_case: Case
    analyses: int


def everything(session: Session, *, tag: str) -> Everything:
    world = field_world(session, tag=tag)
    us = Creditor(code=f"US-{tag}", name=f"US bank {tag}", compliance_pack="us-regf")
    session.add(us)
    session.flush()
    second = Case(
        creditor_id=us.id,
        debtor_id=world.debtor.id,
        status=world.case.status,
        assigned_collector_id=world.field.id,
    )
    session.add(second)
    session.flush()
    session.add(
        Account(
            creditor_id=us.id,
            debtor_id=world.debtor.id,
            case_id=second.id,
            account_number=f"ACC-US-{tag}",
            product_type=ProductType.CONSUMER,
            original_fen=500_000,
            principal_fen=400_000,
            annual_rate_bp=1200,
            instalment_fen=50_000,
            instalment_count=10,
            first_due_date=date(2026, 1, 1),
            opened_on=date(2025, 12, 1),
        )
    )
    session.flush()
    first_visit = visit(session, world)  # case 1, with a photo and a promise
    visit(session, world, case_id=second.id, day=DAY + timedelta(days=1), outcome="not_home")
    analyses = analyse(
        session, case_id=world.case.id, attempt_id=first_visit.attempt_id, when=at(12)
    )
    analyses += analyse(session, case_id=second.id, attempt_id=None, when=at(12))
    dispute(session, debtor_id=world.debtor.id, case_id=second.id, when=at(13), tag=tag)
    return Everything(world, second, analyses)


def stored(session: Session, debtor_id: int, case_ids: list[int]) -> dict[str, int]:
    return {
        "conversation_analysis": count(
            session, ConversationAnalysis, ConversationAnalysis.case_id.in_(case_ids)
        ),
        "field_visit_file": count(
            session,
            FieldVisitFile,
            FieldVisitFile.checkin_id.in_(
                select(FieldCheckin.id).where(FieldCheckin.case_id.in_(case_ids))
            ),
        ),
        "field_checkin": count(session, FieldCheckin, FieldCheckin.case_id.in_(case_ids)),
        "contact_attempt": count(session, ContactAttempt, ContactAttempt.debtor_id == debtor_id),
        "contact_decision": count(session, ContactDecision, ContactDecision.debtor_id == debtor_id),
        "debtor_dispute": count(session, DebtorDispute, DebtorDispute.debtor_id == debtor_id),
        "contact_restriction": count(
            session, ContactRestriction, ContactRestriction.debtor_id == debtor_id
        ),
    }


def test_every_case_of_the_debtor_is_covered_and_the_strictest_creditor_wins(session):
    """Two cases of one debtor: visits and analyses on both, a dispute on the second. The
    US creditor's three years hold everything past the Chinese two; then every row of
    both cases goes, each table counted."""
    e = everything(session, tag="SA")
    case_ids = [e.world.case.id, e.second_case.id]
    before = stored(session, e.world.debtor.id, case_ids)
    assert before == {
        "conversation_analysis": e.analyses,
        "field_visit_file": 2,
        "field_checkin": 2,
        "contact_attempt": 2,
        "contact_decision": 2,
        "debtor_dispute": 1,
        "contact_restriction": 1,
    }

    early = delete_after(session, e.world.debtor.id, date(2029, 11, 20))
    assert early.verdict == DeletionVerdict.KEEP_RETENTION_PERIOD and early.deleted == {}
    assert early.keep_until == date(2029, 11, 21)  # the second visit, three years on
    assert stored(session, e.world.debtor.id, case_ids) == before

    done = delete_after(session, e.world.debtor.id, date(2029, 11, 21))
    assert done.verdict == DeletionVerdict.DELETE
    assert {table: done.deleted[table] for table in before} == before
    assert set(stored(session, e.world.debtor.id, case_ids).values()) == {0}
    assert count(session, PromiseToPay, PromiseToPay.case_id == e.world.case.id) == 1


def test_a_legal_hold_keeps_everything_and_a_dry_run_deletes_nothing(session):
    e = everything(session, tag="LH")
    case_ids = [e.world.case.id, e.second_case.id]
    before = stored(session, e.world.debtor.id, case_ids)
    hold = compliance_service.set_restriction(
        session,
        debtor_id=e.world.debtor.id,
        flag="legal_hold",
        reason="court order 2026-民-456",
        set_by="legal-1",
        starts_at=at(9),
    )
    held = delete_after(session, e.world.debtor.id, date(2035, 1, 1))
    assert held.verdict == DeletionVerdict.KEEP_LEGAL_HOLD and held.deleted == {}
    with_hold = dict(before, contact_restriction=before["contact_restriction"] + 1)
    assert stored(session, e.world.debtor.id, case_ids) == with_hold

    compliance_service.lift_restriction(
        session, restriction_id=hold.id, lifted_by="legal-1", now=at(15)
    )
    dry = retention.request_deletion(
        session, debtor_id=e.world.debtor.id, apply=False, today=date(2035, 1, 1), now=at(16)
    )
    assert dry.verdict == DeletionVerdict.DELETE and dry.deleted == {}
    assert stored(session, e.world.debtor.id, case_ids) == with_hold


def test_visits_analyses_and_disputes_are_contact_activity(session):
    """The retention counts from the latest of them: a visit's outcome after its check-in,
    an analysis of the case, a dispute filed from the portal."""
    world = field_world(session, tag="AC")
    debtor = world.debtor.id
    visit(session, world, photo=False)  # check-in 10:00, outcome 11:00
    assert retention_records.last_contact_activity(session, debtor_id=debtor) == at(11)
    later = DAY + timedelta(days=40)
    analyse(session, case_id=world.case.id, attempt_id=None, when=at(9, day=later))
    assert retention_records.last_contact_activity(session, debtor_id=debtor) == at(9, day=later)
    latest = DAY + timedelta(days=100)
    dispute(session, debtor_id=debtor, case_id=world.case.id, when=at(9, day=latest), tag="AC")
    assert retention_records.last_contact_activity(session, debtor_id=debtor) == at(9, day=latest)

    kept = delete_after(session, debtor, date(2028, 11, 20))
    assert kept.verdict == DeletionVerdict.KEEP_RETENTION_PERIOD
    assert kept.keep_until == date(latest.year + 2, latest.month, latest.day)


def test_every_foreign_key_into_a_deleted_table_comes_from_a_deleted_table():
    """A new table pointing at a contact record must be added to the deletion (or its
    link handled there), or the deletion would fail on the foreign key."""
    deleted = set(retention_records.CONTACT_RECORD_TABLES)
    dangling = sorted(
        f"{table.name}.{fk.parent.name} -> {fk.column.table.name}"
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name in deleted and table.name not in deleted
    )
    assert dangling == []


def test_delete_records_cli_deletes_visits_analyses_and_disputes(database_url):
    """Through ``debtflow compliance delete-records --apply --json`` on a real database,
    for records old enough today."""
    from debtflow.cli.main import app as debtflow

    long_ago = date(2023, 6, 1)
    upgrade(get_engine())
    with Session(get_engine()) as session:
        world = field_world(session, tag="CLI")
        checkin = visit(session, world, day=long_ago)
        analyse(
            session, case_id=world.case.id, attempt_id=checkin.attempt_id, when=at(12, day=long_ago)
        )
        dispute(
            session,
            debtor_id=world.debtor.id,
            case_id=world.case.id,
            when=at(13, day=long_ago),
            tag="CLI",
        )
        session.commit()
        debtor_id = world.debtor.id
    runner = CliRunner()
    result = runner.invoke(
        debtflow, ["compliance", "delete-records", str(debtor_id), "--apply", "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["verdict"] == "delete" and body["applied"] is True
    assert body["deleted"] == {
        "call_alert": 0,
        "conversation_analysis": 2,
        "field_visit_file": 1,
        "field_checkin": 1,
        "qa_sample": 0,
        "contact_attempt": 1,
        "deny_override": 0,
        "contact_decision": 1,
        "debtor_dispute": 1,
        "contact_restriction": 1,
        "personal_data_view": 0,
    }
    with Session(get_engine()) as session:
        assert count(session, FieldCheckin) == count(session, DebtorDispute) == 0
        assert count(session, ConversationAnalysis) == count(session, ContactDecision) == 0
        assert count(session, PromiseToPay) == 1
