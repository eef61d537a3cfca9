"""Alerts during a call (SQLite and PostgreSQL): every compliance flag on what the collector
says is stored as an alert as the utterance arrives, a retried turn raises nothing new, the
call's running score falls with each flagged turn, supervisors and auditors list and
acknowledge alerts, and nobody else may — through the service and the JSON routes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from compliance.world import make_user, make_world
from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.auth.deps import SESSION_COOKIE
from debtflow.auth.scoping import NotPermitted
from debtflow.case.service import CaseNotFound
from debtflow.cli.common import ready_engine
from debtflow.config import get_settings
from debtflow.conversation import alerts
from debtflow.conversation.alerts import CallAlertNotFound
from debtflow.core.errors import InvalidInput
from debtflow.db import unit_of_work
from debtflow.models import CallAlert, ConversationAnalysis, EvidenceLogLeaf, Role

SHANGHAI = ZoneInfo("Asia/Shanghai")
WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
GREETING = "您好，我是安心消费金融的客服小王，请问是张先生吗？"
THREAT = "再不还钱就让你全家好看，我们知道你家住哪"
IMPERSONATION = "我是法院的执行法官，今天不还钱就来抓你"
DEBTOR = "我下周五一定还五百"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DEBTFLOW_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _people(session):
    world = make_world(session)
    agent = make_user(
        session, username="agent-1", role=Role.ONLINE_AGENT, collector_id=world.agent.id
    )
    auditor = make_user(session, username="auditor", role=Role.COMPLIANCE_AUDITOR)
    return world, agent, auditor


def _live(session, agent, world, utterances, *, call_ref="call-1", first_turn=1, now=WHEN):
    return alerts.read_live(
        session,
        user=agent,
        case_id=world.case.id,
        call_ref=call_ref,
        first_turn=first_turn,
        utterances=utterances,
        now=now,
    )


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_threat_raises_an_alert_at_once_and_a_clean_line_none(session):
    world, agent, _ = _people(session)

    clean = _live(session, agent, world, [("collector", GREETING), ("debtor", DEBTOR)])
    assert clean.alerts == [] and clean.call_score == 100 and clean.worst_severity is None
    assert clean.readings[1]["intent"] == "promise_to_pay"  # the debtor is read as analyze does

    threat = _live(session, agent, world, [("collector", THREAT)], first_turn=3)
    assert threat.alerts, "a threat must raise an alert during the call"
    alert = threat.alerts[0]
    assert alert.id is not None  # stored
    assert (alert.case_id, alert.call_ref, alert.turn) == (world.case.id, "call-1", 3)
    assert alert.violation == "threat" and alert.severity == "critical"
    assert alert.excerpt == THREAT[alert.span_start : alert.span_end] and alert.excerpt
    assert alert.raised_by == "agent-1" and alert.collector_id == world.agent.id
    assert alert.acknowledged_at is None
    assert threat.call_alerts == len(threat.alerts)
    assert threat.call_score == threat.readings[0]["score"] < 100
    assert threat.worst_severity == "critical"
    # nothing of the live reading is evidence or a stored analysis: that comes after the call
    assert _count(session, ConversationAnalysis) == 0
    assert _count(session, EvidenceLogLeaf) == 0


def test_a_retried_turn_raises_nothing_new_and_the_score_falls_per_flagged_turn(session):
    world, agent, _ = _people(session)
    first = _live(session, agent, world, [("collector", THREAT)], first_turn=2)
    again = _live(session, agent, world, [("collector", THREAT)], first_turn=2)
    assert [a.id for a in again.alerts] == [a.id for a in first.alerts]
    assert _count(session, CallAlert) == len(first.alerts)
    assert again.call_score == first.call_score

    later = _live(session, agent, world, [("collector", IMPERSONATION)], first_turn=5)
    assert later.alerts and {a.turn for a in later.alerts} == {5}
    penalties = (100 - first.call_score) + (100 - later.readings[0]["score"])
    assert later.call_score == max(0, 100 - penalties)
    assert later.call_alerts == len(first.alerts) + len(later.alerts)

    other_call = _live(session, agent, world, [("collector", GREETING)], call_ref="call-2")
    assert other_call.call_score == 100 and other_call.call_alerts == 0


def test_one_alert_per_rule_and_turn_however_often_it_matches(session):
    """A line repeating an insult hundreds of times raises one alert per rule that fired,
    with the number of matches — not hundreds of rows burying the other calls' alerts."""
    world, agent, auditor = _people(session)
    flood = "骗子，" * 300
    read = _live(session, agent, world, [("collector", flood)] * 3)
    rules = {(a.turn, a.rule) for a in read.alerts}
    assert len(rules) == len(read.alerts) == _count(session, CallAlert)
    assert {a.turn for a in read.alerts} == {1, 2, 3}
    assert max(a.matches for a in read.alerts) >= 300
    assert all(a.excerpt == flood[a.span_start : a.span_end] for a in read.alerts)
    listed = alerts.list_alerts(session, user=auditor, limit=1)
    assert len(listed.alerts) == 1 and listed.total == len(read.alerts)


def test_a_turn_is_judged_once_and_its_words_cannot_change(session, monkeypatch):
    from debtflow.conversation import service
    from debtflow.conversation.alerts import CallTurnChanged
    from debtflow.core.conversation.speech import parse_rules

    world, agent, _ = _people(session)
    first = _live(session, agent, world, [("collector", IMPERSONATION)], first_turn=3)
    assert first.alerts and {a.rules_version for a in first.alerts} == {
        service.analyzer().rules.version
    }
    with pytest.raises(CallTurnChanged, match="turn 3 of call call-1"):
        _live(session, agent, world, [("collector", "喂，" + IMPERSONATION)], first_turn=3)

    # the rules change mid-call: a retry of the judged turn still gives what it raised then
    renamed = parse_rules(
        'version = "renamed-1"\n[[rules]]\nid = "renamed"\nviolation = "impersonation"\n'
        'severity = "critical"\npattern = "法院"\n'
    )
    models = service.analyzer().models
    monkeypatch.setattr(alerts, "analyzer", lambda: service.make_analyzer(models, rules=renamed))
    again = _live(session, agent, world, [("collector", IMPERSONATION)], first_turn=3)
    assert [a.id for a in again.alerts] == [a.id for a in first.alerts]
    assert _count(session, CallAlert) == len(first.alerts)
    fresh = _live(session, agent, world, [("collector", IMPERSONATION)], first_turn=4)
    assert {(a.rule, a.rules_version) for a in fresh.alerts} == {("renamed", "renamed-1")}


def test_a_long_username_and_nul_characters(session):
    """Usernames may be 80 characters (PostgreSQL refused them in a 64-character column and
    lost the alert); NUL cannot be stored by PostgreSQL and is refused up front."""
    world = make_world(session)
    name = "a" * 80
    agent = make_user(session, username=name, role=Role.ONLINE_AGENT, collector_id=world.agent.id)
    auditor = make_user(session, username="b" * 80, role=Role.COMPLIANCE_AUDITOR)
    read = _live(session, agent, world, [("collector", THREAT)])
    assert read.alerts and read.alerts[0].raised_by == name
    done = alerts.acknowledge(
        session, user=auditor, alert_id=read.alerts[0].id, note="ok", now=WHEN
    )
    assert done.acknowledged_by == "b" * 80
    with pytest.raises(InvalidInput, match="NUL"):
        _live(session, agent, world, [("collector", THREAT + "\x00")], first_turn=2)
    with pytest.raises(InvalidInput, match="NUL"):
        alerts.acknowledge(
            session, user=auditor, alert_id=read.alerts[0].id, note="x\x00", now=WHEN
        )


def test_bad_input_and_reach_are_refused_and_store_nothing(session):
    world, agent, auditor = _people(session)
    other = make_user(
        session, username="agent-2", role=Role.ONLINE_AGENT, collector_id=world.other_agent.id
    )
    with pytest.raises(InvalidInput, match="call_ref"):
        _live(session, agent, world, [("collector", THREAT)], call_ref="call 1")
    with pytest.raises(InvalidInput, match="first_turn"):
        _live(session, agent, world, [("collector", THREAT)], first_turn=0)
    with pytest.raises(InvalidInput, match="speaker"):
        _live(session, agent, world, [("supervisor", THREAT)])
    with pytest.raises(CaseNotFound):
        _live(session, other, world, [("collector", THREAT)])
    with pytest.raises(NotPermitted):  # an auditor does not speak to debtors
        _live(session, auditor, world, [("collector", THREAT)])
    assert _count(session, CallAlert) == 0


def test_auditors_list_filter_and_acknowledge_once(session):
    world, agent, auditor = _people(session)
    threat = _live(session, agent, world, [("collector", THREAT)], first_turn=1).alerts
    insult = _live(
        session,
        agent,
        world,
        [("collector", "你这种人就是个骗子，真不要脸")],
        first_turn=2,
        now=WHEN + timedelta(minutes=1),
    ).alerts
    assert insult and all(a.severity in {"low", "medium"} for a in insult)

    listed = alerts.list_alerts(session, user=auditor).alerts
    newest_first = sorted((a.id for a in insult), reverse=True) + sorted(
        (a.id for a in threat), reverse=True
    )
    assert [a.id for a in listed] == newest_first
    assert {a.id for a in listed} == {a.id for a in insult + threat}
    serious = alerts.list_alerts(session, user=auditor, least_severity="high").alerts
    assert {a.id for a in serious} == {a.id for a in threat}
    with pytest.raises(InvalidInput, match="severity"):
        alerts.list_alerts(session, user=auditor, least_severity="urgent")
    with pytest.raises(NotPermitted):
        alerts.list_alerts(session, user=agent)

    done = alerts.acknowledge(
        session, user=auditor, alert_id=threat[0].id, note=" called the agent off ", now=WHEN
    )
    assert done.acknowledged_by == "auditor" and done.acknowledgement == "called the agent off"
    manager = make_user(session, username="manager", role=Role.OPERATIONS_MANAGER)
    again = alerts.acknowledge(
        session, user=manager, alert_id=threat[0].id, note="late", now=WHEN + timedelta(hours=1)
    )
    assert again.acknowledged_by == "auditor" and again.acknowledged_at == done.acknowledged_at
    assert threat[0].id not in {a.id for a in alerts.list_alerts(session, user=auditor).alerts}
    assert threat[0].id in {
        a.id for a in alerts.list_alerts(session, user=auditor, open_only=False).alerts
    }
    with pytest.raises(CallAlertNotFound):
        alerts.acknowledge(session, user=auditor, alert_id=987654, note=None, now=WHEN)
    with pytest.raises(NotPermitted):
        alerts.acknowledge(session, user=agent, alert_id=insult[0].id, note=None, now=WHEN)
    with pytest.raises(InvalidInput, match="longer"):
        alerts.acknowledge(session, user=auditor, alert_id=insult[0].id, note="x" * 1001, now=WHEN)


def _client(token: str) -> TestClient:
    client = TestClient(create_app(), base_url="https://testserver")
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_the_routes_raise_list_and_acknowledge(database_url):
    ready_engine()
    with unit_of_work() as session:
        world = make_world(session)
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
            if username == "auditor":
                cookie, web_session = auth_service.start_session(session, user=user)
                csrf = web_session.csrf_token
        case_id = world.case.id
    agent, auditor = _client(tokens["agent-1"]), _client(tokens["auditor"])

    def body(text: str, **extra: object) -> dict[str, object]:
        return {
            "case_id": case_id,
            "call_ref": "pbx-20261120-0001",
            "utterances": [{"speaker": "collector", "text": text}],
            **extra,
        }

    raised = agent.post("/api/conversations/live", json=body(THREAT, first_turn=4))
    assert raised.status_code == 200, raised.text
    payload = raised.json()
    assert payload["alerts"] and payload["alerts"][0]["violation"] == "threat"
    assert payload["alerts"][0]["turn"] == 4
    assert payload["call"]["score"] < 100 and payload["call"]["worst_severity"] == "critical"
    assert payload["readings"][0]["flags"]
    assert "acknowledgement" not in payload["alerts"][0]  # the agent never sees the note

    for refused, status in (
        (body(THREAT, call_ref="has space"), 422),
        (body(THREAT, first_turn=0), 422),
        (body(THREAT, case_id=987654), 404),
    ):
        assert agent.post("/api/conversations/live", json=refused).status_code == status
    other = _client(tokens["agent-2"]).post("/api/conversations/live", json=body(THREAT))
    assert other.status_code == 404
    assert auditor.post("/api/conversations/live", json=body(THREAT)).status_code == 403

    assert agent.get("/api/conversations/alerts").status_code == 403
    listed = auditor.get("/api/conversations/alerts", params={"severity": "critical"})
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == [a["id"] for a in payload["alerts"]]
    assert auditor.get("/api/conversations/alerts", params={"severity": "x"}).status_code == 422

    alert_id = payload["alerts"][0]["id"]
    url = f"/api/conversations/alerts/{alert_id}/acknowledge"
    assert agent.post(url, json={}).status_code == 403
    done = auditor.post(url, json={"note": "spoke to the agent"})
    assert done.status_code == 200 and done.json()["acknowledged_by"] == "auditor"
    assert auditor.post("/api/conversations/alerts/987654/acknowledge", json={}).status_code == 404
    assert alert_id not in [a["id"] for a in auditor.get("/api/conversations/alerts").json()]

    # the page: the same alerts, acknowledged with a form
    second = agent.post("/api/conversations/live", json=body(IMPERSONATION, first_turn=6))
    second_id = second.json()["alerts"][0]["id"]
    page = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    page.cookies.set(SESSION_COOKIE, cookie)
    shown = page.get("/call-alerts")
    assert shown.status_code == 200
    assert f'data-alert="{second_id}"' in shown.text
    assert f'data-alert="{alert_id}"' not in shown.text  # acknowledged: not open any more
    assert f'data-alert="{alert_id}"' in page.get("/call-alerts", params={"status": "all"}).text
    form = f"/call-alerts/{second_id}/acknowledge"
    assert page.post(form, data={"csrf_token": "forged"}).status_code == 403
    done = page.post(form, data={"csrf_token": csrf, "note": "listened in"})
    assert done.status_code == 303
    assert f'data-alert="{second_id}"' not in page.get("/call-alerts").text


def test_deleting_a_debtors_contact_records_takes_their_analyses_and_alerts(session):
    """A debtor's contact records past retention go with what was read from those contacts:
    the stored analyses of the calls (which point at the attempts) and the call alerts."""
    from compliance.world import logged_contact
    from debtflow.compliance import retention
    from debtflow.conversation import service

    world, agent, _ = _people(session)
    attempt = logged_contact(session, world, channel="call", at=WHEN)
    service.attach_analysis(
        session,
        utterances=[("collector", THREAT), ("debtor", DEBTOR)],
        case_id=world.case.id,
        contact_attempt_id=attempt.id,
        analysed_by="agent-1",
        now=WHEN,
    )
    _live(session, agent, world, [("collector", THREAT)])
    assert _count(session, ConversationAnalysis) == 2 and _count(session, CallAlert) >= 1

    done = retention.request_deletion(
        session, debtor_id=world.debtor.id, today=date(2029, 11, 21), apply=True, now=WHEN
    )
    assert done.deleted["contact_attempt"] == 1
    assert done.deleted["conversation_analysis"] == 2 and done.deleted["call_alert"] >= 1
    assert _count(session, ConversationAnalysis) == 0 and _count(session, CallAlert) == 0
