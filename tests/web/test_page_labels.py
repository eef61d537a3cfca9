"""Pages word what the platform stores as codes — a contact's direction and party, a
payment's channel, a status change's reason and actor, a legal-advice request's status, a
script's purpose, a segmentation rule's name — in the visitor's language (zh-CN and English),
never the raw code."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from debtflow.auth import service as auth_service
from debtflow.core.conversation.scripts import load_library
from debtflow.core.strategy.segmentation import shipped_rules
from debtflow.db import unit_of_work
from debtflow.models import Account, Case, Role
from debtflow.payment import service as payment_service
from debtflow.portal import requests as portal_requests
from debtflow.promise import service as promise_service
from debtflow.web.deps import business_today
from debtflow.web.i18n import translator
from debtflow.workbench import service as workbench_service

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def business_hours(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The workbench's clock at the next 10:30 in Shanghai (inside the allowed hours)."""
    local_now = datetime.now(SHANGHAI)
    day = local_now.date() + timedelta(days=0 if local_now.time() < time(10, 0) else 1)
    moment = datetime.combine(day, time(10, 30), SHANGHAI).astimezone(UTC)
    monkeypatch.setattr(workbench_service, "utcnow", lambda: moment)
    return moment


def _in(lang: str, client: TestClient) -> TestClient:
    client.cookies.set("lang", lang)
    return client


def _section(html: str, marker: str) -> str:
    """The card that holds ``marker`` (up to its closing tag)."""
    start = html.index(marker)
    return html[start : html.index("</section>", start)]


@pytest.fixture
def worked_case(demo_world, business_hours) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The demo debtor's open case with a promise, a portal payment and an SMS logged by the
    manager — what the reviewer saw raw."""
    with unit_of_work() as session:
        case = session.scalars(
            select(Case)
            .where(
                Case.id.in_(demo_world.debtor_case_ids),
                Case.status.in_(["new", "active", "promised"]),
            )
            .order_by(Case.id)
        ).first()
        assert case is not None, "the demo debtor has an open case"
        account = session.scalars(select(Account).where(Account.case_id == case.id)).first()
        assert account is not None
        today = business_today()
        # the payment moves the case to paying, the promise then to promised
        payment_service.book(
            session,
            account_id=account.id,
            amount_fen=100,
            paid_at=business_hours,
            reference="pi1-1",
            channel="portal_simulated",
            actor="debtor portal",
        )
        promise = promise_service.record(
            session,
            case_id=case.id,
            amount_fen=100,
            due=today + timedelta(days=5),
            made_on=today,
        )
        case_id, promise_id = case.id, promise.id
        debtor = auth_service.get_user(session, username="debtor1")
        portal_requests.request_legal_advice(
            session,
            case_id=case_id,
            user=debtor,
            question="我想咨询分期的法律问题",
            contact_channel="call",
            contact_time="工作日下午",
        )
    manager = demo_world.client(Role.OPERATIONS_MANAGER, cookie=True)
    logged = manager.post(
        f"/cases/{case_id}/contacts",
        data={
            "channel": "sms",
            "party": "debtor",
            "csrf_token": demo_world.callers[Role.OPERATIONS_MANAGER].csrf_token,
        },
    )
    assert logged.status_code == 303, logged.text
    assert "gate=" in logged.headers["location"]
    return {"case_id": case_id, "promise_id": promise_id}


WORDS = {
    "zh": {
        "contact": "短信 · 我方发起",
        "party": "自营",
        "payment": "债务人门户（模拟支付）",
        "promise": "承诺还款 #{promise_id}",
        "paid": "收到还款（参考号 pi1-1）",
        "actor": "债务人门户",
        "note": "(最多 2000 字)",
    },
    "en": {
        "contact": "SMS · outbound",
        "party": "in-house",
        "payment": "debtor portal (simulated payment)",
        "promise": "promise to pay #{promise_id}",
        "paid": "payment received (reference pi1-1)",
        "actor": "debtor portal",
        "note": "(at most 2000 characters)",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_case_page_words_codes_in_the_visitors_language(
    demo_world, worked_case, lang: str
) -> None:  # type: ignore[no-untyped-def]
    case_id, promise_id = worked_case["case_id"], worked_case["promise_id"]
    client = _in(lang, demo_world.client(Role.OPERATIONS_MANAGER, cookie=True))
    html = client.get(f"/cases/{case_id}").text
    words = {k: v.format(promise_id=promise_id) for k, v in WORDS[lang].items()}
    heading = translator(lang)

    contacts = _section(html, 'id="contacts"')
    rows = re.findall(r"<tr data-attempt=\"\d+\">(.*?)</tr>", contacts, re.S)
    sms = [row for row in rows if words["contact"] in row]
    assert sms, "the SMS row names channel and direction in words"
    assert words["party"] in sms[0]
    if lang == "zh":
        assert "outbound" not in contacts and "in-house" not in contacts

    payments = _section(html, f"<h2>{heading('payments')}</h2>")
    assert words["payment"] in payments and "portal_simulated" not in payments

    status = _section(html, f"<h2>{heading('status_history')}</h2>")
    assert words["promise"] in status and words["paid"] in status
    assert f">promise {promise_id}<" not in status and ">payment pi1-1<" not in status
    assert f"<td>{words['actor']}</td>" in status
    if lang == "zh":
        assert "<td>debtor portal</td>" not in status

    notes = _section(html, 'id="notes"')
    assert words["note"] in notes and "at most characters" not in notes


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_portal_words_the_payment_channel(demo_world, worked_case, lang: str) -> None:  # type: ignore[no-untyped-def]
    client = _in(lang, demo_world.client(Role.DEBTOR, cookie=True))
    html = client.get(f"/portal/cases/{worked_case['case_id']}").text
    payments = html[html.index('id="payments"') :]
    payments = payments[: payments.index("</ul>")]
    assert WORDS[lang]["payment"] in payments and "portal_simulated" not in payments


@pytest.mark.parametrize(
    ("lang", "status", "question"), [("zh", "待处理", "问题"), ("en", "open", "Question")]
)
def test_the_legal_advice_list_words_status_and_heading(
    demo_world, worked_case, lang: str, status: str, question: str
) -> None:  # type: ignore[no-untyped-def]
    client = _in(lang, demo_world.client(Role.OPERATIONS_MANAGER, cookie=True))
    html = client.get("/legal-advice").text
    assert f"<th>{question}</th>" in html
    assert "您的问题" not in html and "Your question" not in html  # the debtor's own heading
    row = re.search(r"我想咨询分期的法律问题.*?</tr>", html, re.S)
    assert row is not None and f"<td>{status}</td>" in row.group(0)
    if lang == "zh":
        assert "<td>open</td>" not in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_script_and_explanation_speak_the_pages_language(
    demo_world, worked_case, lang: str
) -> None:  # type: ignore[no-untyped-def]
    client = _in(lang, demo_world.client(Role.OPERATIONS_MANAGER, cookie=True))
    case_id = worked_case["case_id"]
    html = client.get(f"/cases/{case_id}").text
    script = _section(html, 'id="script"')
    shown = re.search(r'data-script-id="([^"]+)"', script)
    assert shown is not None
    (entry,) = [s for s in load_library().scripts if s.id == shown.group(1)]
    assert entry.purpose_zh and entry.purpose
    if lang == "zh":
        assert entry.purpose_zh in script and entry.purpose not in script
    else:
        assert entry.purpose in script and entry.purpose_zh not in script
    with unit_of_work() as session:
        rule = session.get(Case, case_id).segment_rule
    if rule is None:
        pytest.skip("the demo case was not planned")
    name_zh = shipped_rules().name_zh(rule)
    explanation = _section(html, 'id="strategy"')
    if lang == "zh":
        assert f"规则“{name_zh}”" in explanation and rule not in explanation
    else:
        assert (
            f'rule "{rule}"'.replace('"', "&#34;") in explanation or f'rule "{rule}"' in explanation
        )
