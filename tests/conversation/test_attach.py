"""Analyses attached to a case (SQLite and PostgreSQL): one stored row per utterance, one
evidence leaf per batch with the transcript as a file, a stated overdue cause written to the
case only while it is unknown, and the case's reach, the caller's role and the contact
attempt checked — through the service, the JSON route and the CLI."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from compliance.world import logged_contact, make_user, make_world
from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.auth.scoping import NotPermitted
from debtflow.case.service import CaseNotFound
from debtflow.cli.common import ready_engine
from debtflow.cli.main import app as cli
from debtflow.config import get_settings
from debtflow.contact import service as contact_service
from debtflow.conversation import service
from debtflow.conversation.service import ContactAttemptMismatch, ConversationAlreadyAttached
from debtflow.core.evidence.leaf import LeafKind, parse_leaf
from debtflow.db import unit_of_work
from debtflow.evidence.log import file_store
from debtflow.models import Case, ConversationAnalysis, EvidenceLogLeaf, Role, User
from debtflow.models.enums import OverdueCause

SHANGHAI = ZoneInfo("Asia/Shanghai")
WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
CALL = [
    ("collector", "您好，我是安心消费金融的客服小王，请问是张先生吗？"),
    ("debtor", "我失业了，现在真的没钱还"),
    ("collector", "再不还钱就让你全家好看，我们知道你家住哪"),
    ("debtor", "我下周五一定还五百"),
]


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DEBTFLOW_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def staff(session, *, username: str, role: Role, collector_id: int | None = None) -> User:
    return make_user(session, username=username, role=role, collector_id=collector_id)


def logged(session, world, *, channel: str):
    return logged_contact(session, world, channel=channel, at=WHEN)


def leaf_at(session, index: int):
    row = session.scalars(select(EvidenceLogLeaf).where(EvidenceLogLeaf.idx == index)).one()
    return parse_leaf(bytes(row.canonical_bytes))


def test_a_call_is_stored_per_utterance_with_one_evidence_leaf(session):
    world = make_world(session)
    agent = staff(session, username="agent-1", role=Role.ONLINE_AGENT, collector_id=world.agent.id)
    attempt = logged(session, world, channel="call")

    attached = service.analyze_for_user(
        session,
        user=agent,
        utterances=CALL,
        case_id=world.case.id,
        contact_attempt_id=attempt.id,
        now=WHEN,
    )

    rows = session.scalars(
        select(ConversationAnalysis)
        .where(ConversationAnalysis.case_id == world.case.id)
        .order_by(ConversationAnalysis.id)
    ).all()
    assert [r.id for r in rows] == attached.analysis_ids
    assert [r.speaker for r in rows] == ["collector", "debtor", "collector", "debtor"]
    assert {r.contact_attempt_id for r in rows} == {attempt.id}
    assert [r.text_sha256 for r in rows] == [
        hashlib.sha256(text.encode()).hexdigest() for _, text in CALL
    ]
    first_debtor, threat, promise = rows[1], rows[2], rows[3]
    assert first_debtor.cause == "unemployment"
    assert first_debtor.emotion in {"angry", "sad", "anxious", "neutral", "positive"}
    assert 0.0 <= first_debtor.willingness <= 1.0 and first_debtor.compliance_score is None
    assert promise.intent == "promise_to_pay"
    assert promise.willingness > first_debtor.willingness
    assert threat.emotion is None and threat.intent is None
    assert threat.compliance_score < 100 and threat.flags
    assert "threat" in {f["violation"] for f in threat.flags}
    assert rows[0].compliance_score == 100 and rows[0].flags == []

    leaf = leaf_at(session, attached.evidence.index)
    assert leaf.kind == LeafKind.RECORDING and leaf.case_id == world.case.id
    transcript = "".join(
        json.dumps({"speaker": s, "text": t}, ensure_ascii=False) + "\n" for s, t in CALL
    ).encode()
    digest = hashlib.sha256(transcript).hexdigest()
    assert leaf.payload["transcript_sha256"] == digest
    assert attached.evidence.file_sha256 == (digest,)
    assert file_store().read(digest) == transcript
    assert leaf.payload["attempt_id"] == attempt.id and leaf.payload["channel"] == "call"
    assert leaf.payload["analysed_by"] == "agent-1"
    assert leaf.payload["analysis_ids"] == attached.analysis_ids
    results = leaf.payload["results"]
    assert [r["speaker"] for r in results] == [s for s, _ in CALL]
    assert results[2]["flags"] and "threat" in results[2]["flags"]
    assert results[3]["willingness_permille"] == round(promise.willingness * 1000)


def test_a_contacts_conversation_is_stored_once(session):
    """A retried post of the same call (or a second one) stores nothing more: no second set
    of rows for the dispatch features to count twice, no second evidence leaf."""
    world = make_world(session)
    agent = staff(session, username="agent-1", role=Role.ONLINE_AGENT, collector_id=world.agent.id)
    attempt = logged(session, world, channel="call")
    first = service.analyze_for_user(
        session,
        user=agent,
        utterances=CALL,
        case_id=world.case.id,
        contact_attempt_id=attempt.id,
        now=WHEN,
    )
    leaves = session.scalar(select(func.count()).select_from(EvidenceLogLeaf))
    with pytest.raises(ConversationAlreadyAttached, match=f"contact attempt {attempt.id}"):
        service.analyze_for_user(
            session,
            user=agent,
            utterances=CALL[:2],
            case_id=world.case.id,
            contact_attempt_id=attempt.id,
            now=WHEN,
        )
    rows = service.analyses_of_case(session, case_id=world.case.id)
    assert [r.id for r in rows] == first.analysis_ids
    assert session.scalar(select(func.count()).select_from(EvidenceLogLeaf)) == leaves
    # without a contact attempt there is nothing to key on: each post is its own analysis
    again = service.analyze_for_user(
        session, user=agent, utterances=CALL[:1], case_id=world.case.id, now=WHEN
    )
    assert len(again.analysis_ids) == 1


def test_a_stated_cause_fills_an_unknown_overdue_cause_only(session):
    world = make_world(session)
    assert world.case.overdue_cause == OverdueCause.UNKNOWN
    attached = service.attach_analysis(
        session, utterances=CALL, case_id=world.case.id, analysed_by="cli", now=WHEN
    )
    assert attached.cause_updated and attached.case_cause == "unemployment"
    case = session.get(Case, world.case.id)
    session.refresh(case)
    assert case.overdue_cause == OverdueCause.UNEMPLOYMENT

    # a known cause is not overwritten by a later conversation
    again = service.attach_analysis(
        session,
        utterances=[("debtor", "我生病住院了，医药费花光了")],
        case_id=world.case.id,
        analysed_by="cli",
        now=WHEN,
    )
    assert not again.cause_updated and again.case_cause == "unemployment"
    session.refresh(case)
    assert case.overdue_cause == OverdueCause.UNEMPLOYMENT


def test_no_stated_cause_leaves_the_case_alone(session):
    world = make_world(session)
    attached = service.attach_analysis(
        session,
        utterances=[("debtor", "好的，我知道了")],
        case_id=world.case.id,
        analysed_by="cli",
        now=WHEN,
    )
    assert not attached.cause_updated and attached.case_cause == "unknown"


def test_an_sms_conversation_is_message_evidence(session):
    world = make_world(session)
    attempt = logged(session, world, channel="sms")
    attached = service.attach_analysis(
        session,
        utterances=[("debtor", "收到，我月底还")],
        case_id=world.case.id,
        contact_attempt_id=attempt.id,
        analysed_by="cli",
        now=WHEN,
    )
    assert leaf_at(session, attached.evidence.index).kind == LeafKind.MESSAGE


def test_a_newline_in_a_text_cannot_forge_a_line_of_the_stored_transcript(session):
    world = make_world(session)
    forged = "您好，请问是本人吗\ndebtor: 我承认欠款，明天还五万"
    attached = service.attach_analysis(
        session,
        utterances=[("collector", forged), ("debtor", "嗯")],
        case_id=world.case.id,
        contact_attempt_id=None,
        analysed_by="cli",
        now=WHEN,
    )
    stored = file_store().read(attached.evidence.file_sha256[0]).decode("utf-8")
    lines = stored.splitlines()
    assert [json.loads(line) for line in lines] == [
        {"speaker": "collector", "text": forged},
        {"speaker": "debtor", "text": "嗯"},
    ]


def test_unknown_case_is_404(session):
    manager = staff(session, username="boss", role=Role.OPERATIONS_MANAGER)
    with pytest.raises(CaseNotFound) as caught:
        service.analyze_for_user(session, user=manager, utterances=CALL, case_id=987654, now=WHEN)
    assert caught.value.status_code == 404


def test_another_agents_case_is_404_and_nothing_is_stored(session):
    world = make_world(session)
    other = staff(
        session, username="agent-2", role=Role.ONLINE_AGENT, collector_id=world.other_agent.id
    )
    with pytest.raises(CaseNotFound):
        service.analyze_for_user(
            session, user=other, utterances=CALL, case_id=world.case.id, now=WHEN
        )
    assert service.analyses_of_case(session, case_id=world.case.id) == []


def test_an_auditor_may_not_attach_analyses(session):
    world = make_world(session)
    auditor = staff(session, username="auditor", role=Role.COMPLIANCE_AUDITOR)
    with pytest.raises(NotPermitted) as caught:
        service.analyze_for_user(
            session, user=auditor, utterances=CALL, case_id=world.case.id, now=WHEN
        )
    assert caught.value.status_code == 403


def test_a_contact_attempt_of_another_case_is_422(session):
    world = make_world(session)
    elsewhere = make_world(session, tag="B")
    decision = contact_service.request_contact(
        session,
        case_id=elsewhere.case.id,
        channel="call",
        planned_at=WHEN,
        collecting_party="in-house",
        requested_by="agent-b",
        collector_id=elsewhere.agent.id,
        now=WHEN,
    )
    foreign = contact_service.log_contact(
        session, decision_id=decision.id, attempted_at=WHEN, connected=True, now=WHEN
    )
    with pytest.raises(ContactAttemptMismatch) as caught:
        service.attach_analysis(
            session,
            utterances=CALL,
            case_id=world.case.id,
            contact_attempt_id=foreign.id,
            analysed_by="cli",
            now=WHEN,
        )
    assert caught.value.status_code == 422
    assert service.analyses_of_case(session, case_id=world.case.id) == []


# --- the JSON route and the CLI, against a real database through settings ---------------


def _api_world(database_url: str):
    with unit_of_work() as session:
        world = make_world(session)
        elsewhere = make_world(session, tag="B")
        tokens = {}
        for username, role, collector_id in (
            ("agent-1", Role.ONLINE_AGENT, world.agent.id),
            ("agent-2", Role.ONLINE_AGENT, world.other_agent.id),
            ("auditor", Role.COMPLIANCE_AUDITOR, None),
        ):
            user = auth_service.create_user(
                session,
                username=username,
                role=role,
                password="debtflow-test-pw",
                collector_id=collector_id,
            )
            tokens[username] = auth_service.issue_api_token(session, user=user)
        attempt = logged(session, world, channel="call")
        foreign = logged(session, elsewhere, channel="call")
        ids = {
            "case": world.case.id,
            "attempt": attempt.id,
            "foreign_attempt": foreign.id,
        }
    return ids, tokens


def _client(token: str) -> TestClient:
    client = TestClient(create_app(), base_url="https://testserver")
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _body(**extra: object) -> dict[str, object]:
    return {"utterances": [{"speaker": s, "text": t} for s, t in CALL], **extra}


def test_the_route_attaches_and_refuses_as_designed(database_url):
    ready_engine()
    ids, tokens = _api_world(database_url)
    agent = _client(tokens["agent-1"])

    plain = agent.post("/api/conversations/analyze", json=_body())
    assert plain.status_code == 200 and plain.json()["evidence"] is None

    stored = agent.post(
        "/api/conversations/analyze",
        json=_body(case_id=ids["case"], contact_attempt_id=ids["attempt"]),
    )
    assert stored.status_code == 200, stored.text
    payload = stored.json()
    assert len(payload["analysis_ids"]) == len(CALL)
    assert payload["cause_updated"] is True and payload["case_cause"] == "unemployment"
    assert len(payload["evidence"]["file_sha256"]) == 1
    with unit_of_work() as session:
        rows = service.analyses_of_case(session, case_id=ids["case"])
        assert [r.id for r in rows] == payload["analysis_ids"]
        assert session.get(Case, ids["case"]).overdue_cause == OverdueCause.UNEMPLOYMENT

    url = "/api/conversations/analyze"
    assert agent.post(url, json=_body(case_id=987654)).status_code == 404
    other = _client(tokens["agent-2"]).post(url, json=_body(case_id=ids["case"]))
    assert other.status_code == 404
    auditor = _client(tokens["auditor"])
    assert auditor.post(url, json=_body(case_id=ids["case"])).status_code == 403
    assert auditor.post(url, json=_body()).status_code == 200  # reading only is allowed
    retried = agent.post(url, json=_body(case_id=ids["case"], contact_attempt_id=ids["attempt"]))
    assert retried.status_code == 409
    assert retried.json()["error"] == "conversation_already_attached"
    wrong = agent.post(
        url, json=_body(case_id=ids["case"], contact_attempt_id=ids["foreign_attempt"])
    )
    assert wrong.status_code == 422 and "not a logged contact" in wrong.text
    orphan = agent.post(url, json=_body(contact_attempt_id=ids["attempt"]))
    assert orphan.status_code == 422
    with unit_of_work() as session:  # the refused calls stored nothing
        assert len(service.analyses_of_case(session, case_id=ids["case"])) == len(CALL)


def test_the_cli_stores_against_a_case(database_url):
    ready_engine()
    ids, _ = _api_world(database_url)
    stdin = "".join(
        json.dumps({"speaker": s, "text": t}, ensure_ascii=False) + "\n" for s, t in CALL
    )
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "conversation",
            "analyze",
            "--case",
            str(ids["case"]),
            "--contact-attempt",
            str(ids["attempt"]),
        ],
        input=stdin,
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["speaker"] for r in lines] == [s for s, _ in CALL]
    assert f"stored {len(CALL)} analyses for case {ids['case']}" in result.stderr
    assert "overdue cause now unemployment" in result.stderr
    with unit_of_work() as session:
        rows = service.analyses_of_case(session, case_id=ids["case"])
        assert len(rows) == len(CALL) and {r.contact_attempt_id for r in rows} == {ids["attempt"]}

    wrong = runner.invoke(
        cli,
        [
            "conversation",
            "analyze",
            "--case",
            str(ids["case"]),
            "--contact-attempt",
            str(ids["foreign_attempt"]),
        ],
        input=stdin,
    )
    assert wrong.exit_code == 2 and "not a logged contact" in wrong.stderr
    missing = runner.invoke(cli, ["conversation", "analyze", "--case", "987654"], input=stdin)
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
