"""Disputes (with an upload, and the contact hold they put on the case), legal-advice
requests, and contact preferences."""

from __future__ import annotations

import hashlib
from datetime import time, timedelta, timezone

import pytest
from sqlalchemy import select

from debtflow.auth.scoping import NotPermitted
from debtflow.case.service import CaseNotFound
from debtflow.compliance import service as compliance_service
from debtflow.evidence.log import file_store
from debtflow.models import ContactRestriction, EvidenceLogLeaf
from debtflow.portal import requests as debtor_requests
from debtflow.portal import service
from portal.conftest import NOW

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def sms_decision(session, case_id):
    return compliance_service.decide(
        session,
        case_id=case_id,
        channel="sms",
        planned_at=NOW + timedelta(hours=1),
        collecting_party="in-house",
        requested_by="agent-1",
        now=NOW,
    )


def test_dispute_puts_a_hold_the_gate_enforces_and_hashes_the_file(session, world):
    case_id, user = world.mine.case.id, world.mine.user
    assert "dispute" not in sms_decision(session, case_id).reasons
    dispute = debtor_requests.file_dispute(
        session,
        case_id=case_id,
        user=user,
        reason="这笔欠款我在十月已经还清，附银行回单",
        upload=debtor_requests.UploadedFile("回单.pdf", "application/pdf", PDF),
        now=NOW,
    )
    digest = hashlib.sha256(PDF).hexdigest()
    assert (dispute.file_sha256, dispute.file_size, dispute.media_type) == (
        digest,
        len(PDF),
        "application/pdf",
    )
    restriction = session.get(ContactRestriction, dispute.restriction_id)
    assert (restriction.flag, restriction.case_id, restriction.lifted_at) == (
        "dispute",
        case_id,
        None,
    )
    decision = sms_decision(session, case_id)
    assert not decision.allowed and "dispute" in decision.reasons
    leaf = session.scalars(select(EvidenceLogLeaf).where(EvidenceLogLeaf.kind == "dispute")).one()
    assert leaf.case_id == case_id and digest.encode() in bytes(leaf.canonical_bytes)
    assert file_store().read(digest) == PDF
    # the other debtor's case is untouched
    assert "dispute" not in sms_decision(session, world.other.case.id).reasons


def test_a_dispute_without_a_file_is_fine(session, world):
    dispute = debtor_requests.file_dispute(
        session, case_id=world.mine.case.id, user=world.mine.user, reason="金额不对", now=NOW
    )
    assert dispute.file_sha256 is None and dispute.restriction_id is not None


def test_a_second_dispute_while_one_is_open_is_refused(session, world):
    """The evidence store is append-only: one open dispute per case, so it cannot be
    flooded with uploads."""
    case_id, user = world.mine.case.id, world.mine.user
    first = debtor_requests.file_dispute(
        session, case_id=case_id, user=user, reason="金额不对", now=NOW
    )
    leaves = session.scalars(select(EvidenceLogLeaf).where(EvidenceLogLeaf.kind == "dispute")).all()
    with pytest.raises(service.DisputeAlreadyOpen) as refused:
        debtor_requests.file_dispute(
            session,
            case_id=case_id,
            user=user,
            reason="再次上传",
            upload=debtor_requests.UploadedFile("again.pdf", "application/pdf", PDF + b"1"),
            now=NOW,
        )
    assert refused.value.status_code == 409
    assert session.scalars(
        select(EvidenceLogLeaf).where(EvidenceLogLeaf.kind == "dispute")
    ).all() == list(leaves)
    # once the open one is dealt with, a new dispute may be filed
    first.status = "resolved"
    session.flush()
    again = debtor_requests.file_dispute(
        session, case_id=case_id, user=user, reason="又有问题", now=NOW
    )
    assert again.id != first.id
    # another case of the same debtor world is not affected by this case's open dispute
    assert debtor_requests.file_dispute(
        session, case_id=world.other.case.id, user=world.other.user, reason="不是我的", now=NOW
    ).id


def test_a_lifted_dispute_is_closed_and_the_case_may_be_disputed_again(session, world):
    """A compliance officer lifts the dispute's hold: the dispute is closed with it (who and
    when stay on the restriction) and the debtor may dispute the case again, which puts a
    new hold the gate enforces."""
    case_id, user = world.mine.case.id, world.mine.user
    first = debtor_requests.file_dispute(
        session, case_id=case_id, user=user, reason="我已经还清了", now=NOW
    )
    assert "dispute" in sms_decision(session, case_id).reasons
    compliance_service.lift_restriction(
        session, restriction_id=first.restriction_id, lifted_by="officer-1", now=NOW
    )
    session.refresh(first)
    assert first.status == "closed"
    lifted = session.get(ContactRestriction, first.restriction_id)
    assert (lifted.lifted_by, lifted.lifted_at) == ("officer-1", NOW)
    assert "dispute" not in sms_decision(session, case_id).reasons
    again = debtor_requests.file_dispute(
        session, case_id=case_id, user=user, reason="新的异议：金额不对", now=NOW
    )
    assert again.id != first.id and again.status == "open"
    assert "dispute" in sms_decision(session, case_id).reasons
    with pytest.raises(service.DisputeAlreadyOpen):
        debtor_requests.file_dispute(session, case_id=case_id, user=user, reason="第三次", now=NOW)


def test_a_dispute_lifted_before_lifting_closed_disputes_does_not_block_a_new_one(session, world):
    """A dispute whose hold was lifted while lifting left it ``open`` (rows from before the
    fix) does not count as open."""
    case_id, user = world.mine.case.id, world.mine.user
    first = debtor_requests.file_dispute(
        session, case_id=case_id, user=user, reason="我已经还清了", now=NOW
    )
    session.get(ContactRestriction, first.restriction_id).lifted_at = NOW
    session.flush()
    assert first.status == "open"
    assert debtor_requests.file_dispute(
        session, case_id=case_id, user=user, reason="新的异议", now=NOW
    ).id


@pytest.mark.parametrize(
    ("upload", "error", "status"),
    [
        (
            debtor_requests.UploadedFile(
                "big.pdf", "application/pdf", PDF + b"0" * (10 * 1024 * 1024)
            ),
            service.UploadTooLarge,
            413,
        ),
        (debtor_requests.UploadedFile("a.txt", "text/plain", b"hello"), service.InvalidUpload, 422),
        (debtor_requests.UploadedFile("fake.png", "image/png", PDF), service.InvalidUpload, 422),
        (
            debtor_requests.UploadedFile("empty.pdf", "application/pdf", b""),
            service.InvalidUpload,
            422,
        ),
    ],
)
def test_upload_limits(session, world, upload, error, status):
    with pytest.raises(error) as refused:
        debtor_requests.file_dispute(
            session,
            case_id=world.mine.case.id,
            user=world.mine.user,
            reason="金额不对，请核实",
            upload=upload,
            now=NOW,
        )
    assert refused.value.status_code == status
    assert session.scalars(select(ContactRestriction)).all() == []


def test_exactly_ten_megabytes_is_accepted(session, world):
    content = PNG + b"\x00" * (service.MAX_UPLOAD_BYTES - len(PNG))
    dispute = debtor_requests.file_dispute(
        session,
        case_id=world.mine.case.id,
        user=world.mine.user,
        reason="照片为证",
        upload=debtor_requests.UploadedFile("p.png", "image/png", content),
        now=NOW,
    )
    assert dispute.file_size == service.MAX_UPLOAD_BYTES


def test_dispute_on_someone_elses_case_or_without_reason(session, world):
    with pytest.raises(CaseNotFound):
        debtor_requests.file_dispute(
            session, case_id=world.other.case.id, user=world.mine.user, reason="不是我的", now=NOW
        )
    with pytest.raises(service.InvalidRequest):
        debtor_requests.file_dispute(
            session, case_id=world.mine.case.id, user=world.mine.user, reason=" ", now=NOW
        )


def test_the_same_legal_advice_request_sent_twice_is_stored_once(session, world):
    """A double submit within ten minutes returns the first request: one row, one evidence
    leaf. Another question, or the same one later, is a new request."""
    from debtflow.models import LegalAdviceRequest

    def ask(question="罚息是否超过法定上限？", at=NOW):
        return debtor_requests.request_legal_advice(
            session,
            case_id=world.mine.case.id,
            user=world.mine.user,
            question=question,
            contact_channel="call",
            contact_time="工作日晚上",
            now=at,
        )

    def leaves():
        return session.scalars(
            select(EvidenceLogLeaf).where(EvidenceLogLeaf.kind == "legal_advice")
        ).all()

    first = ask()
    assert ask(question="  罚息是否超过法定上限？ ", at=NOW + timedelta(minutes=9)).id == first.id
    assert len(session.scalars(select(LegalAdviceRequest)).all()) == 1 and len(leaves()) == 1
    assert ask(question="可以分期吗？", at=NOW + timedelta(minutes=1)).id != first.id
    assert ask(at=NOW + timedelta(minutes=11)).id != first.id
    assert len(leaves()) == 3


def test_legal_advice_is_stored_logged_and_listed_for_managers(session, world):
    row = debtor_requests.request_legal_advice(
        session,
        case_id=world.mine.case.id,
        user=world.mine.user,
        question="罚息是否超过法定上限？",
        contact_channel="call",
        contact_time="工作日晚上",
        now=NOW,
    )
    listed = debtor_requests.legal_advice_requests(session, user=world.manager)
    assert [(r.id, d.id) for r, d, _ in listed] == [(row.id, world.mine.debtor.id)]
    assert (
        session.scalars(select(EvidenceLogLeaf).where(EvidenceLogLeaf.kind == "legal_advice"))
        .one()
        .case_id
        == world.mine.case.id
    )
    with pytest.raises(NotPermitted):
        debtor_requests.legal_advice_requests(session, user=world.agent)
    with pytest.raises(NotPermitted):
        debtor_requests.legal_advice_requests(session, user=world.mine.user)
    with pytest.raises(service.InvalidRequest, match="channel"):
        debtor_requests.request_legal_advice(
            session,
            case_id=world.mine.case.id,
            user=world.mine.user,
            question="可以吗？可以吗？",
            contact_channel="pigeon",
            contact_time="",
            now=NOW,
        )
    with pytest.raises(CaseNotFound):
        debtor_requests.request_legal_advice(
            session,
            case_id=world.other.case.id,
            user=world.mine.user,
            question="可以吗？可以吗？",
            contact_channel="sms",
            contact_time="",
            now=NOW,
        )


def test_contact_preferences(session, world):
    user = world.mine.user
    assert debtor_requests.contact_preferences(session, user=user) is None
    row = debtor_requests.set_contact_preferences(
        session,
        user=user,
        earliest_local=time(9, 30, 15),
        latest_local=time(18),
        channels=["sms", "call", "sms"],
    )
    assert (row.earliest_local, row.latest_local, row.channels) == (
        time(9, 30),
        time(18),
        ["call", "sms"],
    )
    again = debtor_requests.set_contact_preferences(
        session, user=user, earliest_local=time(10), latest_local=time(12), channels=["email"]
    )
    assert again.id == row.id and debtor_requests.contact_preferences(
        session, user=user
    ).channels == ["email"]
    with pytest.raises(service.InvalidRequest, match="before"):
        debtor_requests.set_contact_preferences(
            session, user=user, earliest_local=time(18), latest_local=time(9), channels=["sms"]
        )
    with pytest.raises(service.InvalidRequest, match="channel"):
        debtor_requests.set_contact_preferences(
            session, user=user, earliest_local=time(9), latest_local=time(18), channels=["fax"]
        )
    with pytest.raises(service.InvalidRequest, match="before"):  # the same minute once stored
        debtor_requests.set_contact_preferences(
            session,
            user=user,
            earliest_local=time(10, 0, 0, 500_000),
            latest_local=time(10, 0, 0, 600_000),
            channels=["sms"],
        )
    with pytest.raises(service.InvalidRequest, match="without a zone"):
        debtor_requests.set_contact_preferences(
            session,
            user=user,
            earliest_local=time(10, tzinfo=timezone(timedelta(hours=5))),
            latest_local=time(12),
            channels=["sms"],
        )
    with pytest.raises(NotPermitted):
        debtor_requests.set_contact_preferences(
            session,
            user=world.agent,
            earliest_local=time(9),
            latest_local=time(18),
            channels=["sms"],
        )
