"""Recordings and message text of logged contacts go into the evidence log (SQLite and
PostgreSQL): the leaf names the attempt and carries the files' SHA-256, the bytes are stored
content-addressed, and anything that is not evidence of a logged contact of a reachable case
is refused."""

from __future__ import annotations

import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from compliance.world import logged_contact, make_user, make_world
from debtflow.auth.scoping import NotPermitted
from debtflow.case.service import CaseNotFound
from debtflow.core.evidence.leaf import LeafKind, parse_leaf
from debtflow.evidence import records
from debtflow.evidence.log import file_store
from debtflow.models import EvidenceLogLeaf, Role, User

SHANGHAI = ZoneInfo("Asia/Shanghai")
WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(64))


def staff(session, *, username: str, role: Role, collector_id: int | None = None) -> User:
    return make_user(session, username=username, role=role, collector_id=collector_id)


def logged(session, world, *, channel: str):
    return logged_contact(session, world, channel=channel, at=WHEN)


def leaf_at(session, index: int):
    row = session.scalars(select(EvidenceLogLeaf).where(EvidenceLogLeaf.idx == index)).one()
    return parse_leaf(bytes(row.canonical_bytes))


def test_a_call_recording_and_its_transcript_are_hashed_into_the_log(session):
    world = make_world(session)
    agent = staff(session, username="agent-1", role=Role.ONLINE_AGENT, collector_id=world.agent.id)
    attempt = logged(session, world, channel="call")
    transcript = "催收员：您好，我是某某银行的客服。\n债务人：我下周五还五百。"

    leaf = records.record_recording(
        session,
        user=agent,
        case_id=world.case.id,
        contact_attempt_id=attempt.id,
        content=WAV,
        media_type="audio/wav",
        transcript=transcript,
        now=WHEN,
    )

    stored = leaf_at(session, leaf.index)
    assert stored.kind == LeafKind.RECORDING
    assert stored.case_id == world.case.id
    assert stored.payload["attempt_id"] == attempt.id
    assert stored.payload["recorded_by"] == "agent-1"
    assert stored.payload["size_bytes"] == len(WAV)
    wav_digest = hashlib.sha256(WAV).hexdigest()
    text_digest = hashlib.sha256(transcript.encode()).hexdigest()
    assert stored.payload["transcript_sha256"] == text_digest
    assert leaf.file_sha256 == (wav_digest, text_digest)
    assert file_store().read(wav_digest) == WAV
    assert file_store().read(text_digest) == transcript.encode()


def test_message_text_is_stored_and_its_digest_is_in_the_leaf(session):
    world = make_world(session)
    manager = staff(session, username="boss", role=Role.OPERATIONS_MANAGER)
    attempt = logged(session, world, channel="sms")
    body = "【某某银行】您的账户已逾期，请登录 App 查看还款方案。"

    leaf = records.record_message(
        session,
        user=manager,
        case_id=world.case.id,
        contact_attempt_id=attempt.id,
        body=body,
        now=WHEN,
    )

    stored = leaf_at(session, leaf.index)
    assert stored.kind == LeafKind.MESSAGE
    assert stored.payload["channel"] == "sms"
    assert stored.payload["body_sha256"] == hashlib.sha256(body.encode()).hexdigest()
    assert stored.payload["characters"] == len(body)
    assert file_store().read(leaf.file_sha256[0]).decode() == body


@pytest.mark.parametrize(
    ("channel", "kwargs", "message"),
    [
        ("sms", {}, "only calls have recordings"),
        ("call", {"media_type": "image/png"}, "must be audio"),
        ("call", {"content": b""}, "is empty"),
        ("call", {"content": b"RIFF" + bytes(60)}, "content is not audio/wav"),
        ("call", {"content": b"%PDF-1.7 " + bytes(60), "media_type": "audio/mpeg"}, "not audio"),
        ("call", {"content": WAV + b"x" * records.MAX_RECORDING_BYTES}, "larger than 50 MB"),
    ],
)
def test_recordings_that_are_not_evidence_of_a_call_are_refused(session, channel, kwargs, message):
    world = make_world(session)
    agent = staff(session, username="agent-1", role=Role.ONLINE_AGENT, collector_id=world.agent.id)
    attempt = logged(session, world, channel=channel)
    arguments = {"content": WAV, "media_type": "audio/wav"} | kwargs
    before = session.scalars(select(EvidenceLogLeaf.idx)).all()
    with pytest.raises(records.EvidenceFileRejected, match=message):
        records.record_recording(
            session,
            user=agent,
            case_id=world.case.id,
            contact_attempt_id=attempt.id,
            now=WHEN,
            **arguments,
        )
    assert session.scalars(select(EvidenceLogLeaf.idx)).all() == before


def test_message_text_needs_a_message_contact_and_some_text(session):
    world = make_world(session)
    agent = staff(session, username="agent-1", role=Role.ONLINE_AGENT, collector_id=world.agent.id)
    call = logged(session, world, channel="call")
    with pytest.raises(records.EvidenceFileRejected, match="was a call"):
        records.record_message(
            session, user=agent, case_id=world.case.id, contact_attempt_id=call.id, body="hi",
            now=WHEN,
        )  # fmt: skip
    sms = logged(session, world, channel="sms")
    with pytest.raises(records.EvidenceFileRejected, match="empty"):
        records.record_message(
            session, user=agent, case_id=world.case.id, contact_attempt_id=sms.id, body="  ",
            now=WHEN,
        )  # fmt: skip


def test_an_attempt_of_another_case_is_not_found(session):
    world = make_world(session, tag="A")
    other = make_world(session, tag="B")
    boss = staff(session, username="boss", role=Role.ADMIN)
    attempt = logged(session, other, channel="call")
    with pytest.raises(records.ContactAttemptNotFound, match=f"case {world.case.id}"):
        records.record_recording(
            session,
            user=boss,
            case_id=world.case.id,
            contact_attempt_id=attempt.id,
            content=WAV,
            media_type="audio/wav",
            now=WHEN,
        )


def test_reach_and_role_are_checked_before_anything_is_read(session):
    world = make_world(session)
    attempt = logged(session, world, channel="call")
    stranger = staff(
        session,
        username="agent-2",
        role=Role.PART_TIME_COLLECTOR,
        collector_id=world.other_agent.id,
    )
    auditor = staff(session, username="auditor", role=Role.COMPLIANCE_AUDITOR)
    arguments = dict(
        case_id=world.case.id,
        contact_attempt_id=attempt.id,
        content=WAV,
        media_type="audio/wav",
        now=WHEN,
    )
    with pytest.raises(CaseNotFound):
        records.record_recording(session, user=stranger, **arguments)
    with pytest.raises(NotPermitted):
        records.record_recording(session, user=auditor, **arguments)
