"""The portal through HTTP: JSON API and pages, the simulated provider's pay page sending
its signed webhook, and the webhook's answers (400 bad/stale, 200 duplicate)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.auth.deps import SESSION_COOKIE
from debtflow.config import get_settings
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.core.payment_provider.signing import sign
from debtflow.db import get_engine, unit_of_work
from debtflow.migrate import upgrade
from debtflow.models import Payment
from debtflow.payment.provider import SimulatedProvider
from portal.conftest import make_world

SECRET = b"test-webhook-secret"


@pytest.fixture
def http(database_url, monkeypatch):
    upgrade(get_engine())
    with unit_of_work() as session:
        world = make_world(session)
        token = auth_service.issue_api_token(session, user=world.mine.user)
        cookie, web_session = auth_service.start_session(session, user=world.mine.user)
        csrf = web_session.csrf_token
    api = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    api.headers["Authorization"] = f"Bearer {token}"
    browser = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    browser.cookies.set(SESSION_COOKIE, cookie)
    webhook_client = TestClient(create_app(), base_url="https://testserver")
    return world, api, browser, csrf, webhook_client


def payments_of(case_id):
    with unit_of_work() as session:
        return session.scalar(
            select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(Payment.case_id == case_id)
        )


def test_api_choose_sign_pay_and_replay(http):
    world, api, _, _, hook = http
    case_id = world.mine.case.id
    offers = api.get(f"/api/portal/cases/{case_id}/offers").json()["items"]
    assert [o["term_months"] for o in offers] == [3, 6, 12]
    six = next(o for o in offers if o["recommended"])
    assert sum(r["amount_fen"] for r in six["schedule"]) == six["total_fen"] == 815_000
    chosen = api.post(f"/api/portal/cases/{case_id}/plan", json={"term_months": 6, "total_fen": 1})
    assert chosen.status_code == 201 and chosen.json()["total_fen"] == 815_000
    assert api.post(f"/api/portal/cases/{case_id}/plan", json={"term_months": 7}).status_code == 422
    signed = api.post(
        f"/api/portal/cases/{case_id}/agreement/signature",
        json={"signer_name": "李小梅", "read_confirmed": True},
    )
    assert signed.status_code == 201 and signed.json()["agreement_sha256"]
    assert signed.json()["next_due_fen"] == 135_834
    again = api.post(
        f"/api/portal/cases/{case_id}/agreement/signature",
        json={"signer_name": "李小梅", "read_confirmed": True},
    )
    assert again.status_code == 409
    intent = api.post(
        f"/api/portal/cases/{case_id}/payments", json={"idempotency_key": "http-key-0001"}
    ).json()
    same = api.post(
        f"/api/portal/cases/{case_id}/payments", json={"idempotency_key": "http-key-0001"}
    ).json()
    assert same["id"] == intent["id"] and intent["amount_fen"] == 135_834

    provider = SimulatedProvider(secret=SECRET, tolerance_s=300)
    now = datetime.now(UTC)
    headers, body = provider.signed_webhook(
        provider_payment_id=intent["provider_payment_id"],
        amount_fen=135_834,
        paid_at=now,
        event_id="evt_http_1",
    )
    booked = hook.post("/api/payments/webhook", headers=headers, content=body)
    assert booked.status_code == 200 and booked.json()["outcome"] == "booked"
    assert len(booked.json()["payment_ids"]) == 1
    assert payments_of(case_id) == 135_834
    replay = hook.post("/api/payments/webhook", headers=headers, content=body)
    assert replay.status_code == 200 and replay.json()["outcome"] == "duplicate"
    assert payments_of(case_id) == 135_834
    # a bad signature and a stale one are refused with 400 and book nothing
    bad = dict(headers, **{"Debtflow-Signature": sign(b"wrong", body, int(now.timestamp()))})
    assert hook.post("/api/payments/webhook", headers=bad, content=body).status_code == 400
    stale_at = now - timedelta(minutes=6)
    stale_headers, stale_body = provider.signed_webhook(
        provider_payment_id=intent["provider_payment_id"],
        amount_fen=135_834,
        paid_at=stale_at,
        event_id="evt_http_stale",
    )
    stale = hook.post("/api/payments/webhook", headers=stale_headers, content=stale_body)
    assert stale.status_code == 400 and "300 s" in json.dumps(stale.json())
    assert payments_of(case_id) == 135_834
    # someone else's case is not found
    theirs = world.other.case.id
    assert api.get(f"/api/portal/cases/{theirs}/offers").status_code == 404
    assert api.post(f"/api/portal/cases/{theirs}/plan", json={"term_months": 6}).status_code == 404


def test_pages_choose_sign_and_pay_through_the_simulated_provider(http):
    world, _, browser, csrf, _ = http
    case_id = world.mine.case.id
    page = browser.get(f"/portal/cases/{case_id}")
    assert page.status_code == 200 and "可选还款方案" in page.text and "推荐" in page.text
    chosen = browser.post(
        f"/portal/cases/{case_id}/plan", data={"term_months": "6", "csrf_token": csrf}
    )
    assert chosen.status_code == 303
    page = browser.get(chosen.headers["location"])
    assert "分期还款协议" in page.text and "sign-form" in page.text
    unticked = browser.post(
        f"/portal/cases/{case_id}/agreement/sign",
        data={"signer_name": "李小梅", "csrf_token": csrf},
    )
    assert unticked.status_code == 422 and "tick" in unticked.text
    # the page says it in the debtor's language, the service's words beneath for details
    assert "请勾选“我已阅读协议”" in unticked.text
    odd = browser.post(
        f"/portal/cases/{case_id}/plan", data={"term_months": "5", "csrf_token": csrf}
    )
    assert odd.status_code == 422
    assert "所选期限不在可选方案之中" in odd.text
    assert "可选方案的期限（含宽限期）为3、6、12个月" in odd.text
    assert "offered terms" not in odd.text
    forged = browser.post(
        f"/portal/cases/{case_id}/agreement/sign",
        data={"signer_name": "李小梅", "read_confirmed": "yes", "csrf_token": "forged"},
    )
    assert forged.status_code == 403
    signed = browser.post(
        f"/portal/cases/{case_id}/agreement/sign",
        data={"signer_name": "李小梅", "read_confirmed": "yes", "csrf_token": csrf},
    )
    assert signed.status_code == 303
    printable = browser.get(f"/portal/cases/{case_id}/agreement/print")
    assert (
        printable.status_code == 200 and "李小梅" in printable.text and "SHA-256" in printable.text
    )
    pay = browser.post(
        f"/portal/cases/{case_id}/pay", data={"payment_key": "page-key-0001", "csrf_token": csrf}
    )
    assert pay.status_code == 303 and pay.headers["location"].startswith("/pay/sim/sim_")
    sim = browser.get(pay.headers["location"])
    assert sim.status_code == 200 and "1,358.34" in sim.text
    confirm = browser.post(pay.headers["location"] + "/confirm", data={"csrf_token": csrf})
    assert confirm.status_code == 303 and confirm.headers["location"].endswith("?paid=1")
    assert payments_of(case_id) == 135_834
    again = browser.post(pay.headers["location"] + "/confirm", data={"csrf_token": csrf})
    assert again.status_code == 303  # the same event, booked once
    assert payments_of(case_id) == 135_834
    page = browser.get(f"/portal/cases/{case_id}?paid=1")
    assert "还款已到账" in page.text and re.search(r"1,358\.34", page.text)
    assert "1,358.34" in page.text.split('id="next-due"')[1][:200]  # instalment 2 now due
    upload = browser.post(
        f"/portal/cases/{case_id}/dispute",
        data={"reason": "金额不对", "csrf_token": csrf},
        files={"file": ("note.txt", b"plain text", "text/plain")},
    )
    assert upload.status_code == 422 and "not accepted" in upload.text


def _signed_plan_and_pay_url(browser, csrf, case_id):
    assert (
        browser.post(
            f"/portal/cases/{case_id}/plan", data={"term_months": "6", "csrf_token": csrf}
        ).status_code
        == 303
    )
    assert (
        browser.post(
            f"/portal/cases/{case_id}/agreement/sign",
            data={"signer_name": "李小梅", "read_confirmed": "yes", "csrf_token": csrf},
        ).status_code
        == 303
    )
    pay = browser.post(
        f"/portal/cases/{case_id}/pay", data={"payment_key": "page-key-0099", "csrf_token": csrf}
    )
    assert pay.status_code == 303
    return pay.headers["location"]


def test_simulated_confirm_needs_the_payers_session_and_csrf(http):
    world, _, browser, csrf, _ = http
    case_id = world.mine.case.id
    url = _signed_plan_and_pay_url(browser, csrf, case_id)
    anonymous = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    assert anonymous.post(url + "/confirm").status_code in (303, 401, 403)
    assert anonymous.get(url).status_code in (303, 401, 403)
    assert browser.post(url + "/confirm").status_code == 403  # no CSRF token
    assert browser.post(url + "/confirm", data={"csrf_token": "forged"}).status_code == 403
    # another debtor, signed in with a valid token of their own, cannot confirm it
    with unit_of_work() as session:
        cookie, web_session = auth_service.start_session(session, user=world.other.user)
    other = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    other.cookies.set(SESSION_COOKIE, cookie)
    denied = other.post(url + "/confirm", data={"csrf_token": web_session.csrf_token})
    assert denied.status_code == 404
    assert other.get(url).status_code == 404
    assert payments_of(case_id) == 0
    # a forged Host header changes nothing: the payment is booked in-process
    confirm = browser.post(
        url + "/confirm", data={"csrf_token": csrf}, headers={"Host": "169.254.169.254"}
    )
    assert confirm.status_code == 303 and payments_of(case_id) == 135_834


def test_a_mismatched_webhook_books_what_arrived_and_is_listed_for_managers(http):
    world, api, _, _, hook = http
    case_id = world.mine.case.id
    intent = api.post(
        f"/api/portal/cases/{case_id}/payments",
        json={"idempotency_key": "http-key-0200", "amount_fen": 10_000},
    ).json()
    provider = SimulatedProvider(secret=SECRET, tolerance_s=300)
    headers, body = provider.signed_webhook(
        provider_payment_id=intent["provider_payment_id"],
        amount_fen=9_000,
        paid_at=datetime.now(UTC),
        event_id="evt_http_short",
    )
    answer = hook.post("/api/payments/webhook", headers=headers, content=body)
    assert answer.status_code == 200 and answer.json()["outcome"] == "amount_mismatch"
    assert payments_of(case_id) == 9_000
    with unit_of_work() as session:
        token = auth_service.issue_api_token(session, user=world.manager)
    listed = hook.get(
        "/api/portal/payments/mismatched", headers={"Authorization": f"Bearer {token}"}
    )
    assert listed.status_code == 200
    assert [(i["id"], i["status"]) for i in listed.json()] == [(intent["id"], "mismatched")]
    assert api.get("/api/portal/payments/mismatched").status_code == 403  # the debtor


def test_without_a_configured_provider_paying_is_unavailable(http, monkeypatch):
    world, api, browser, csrf, hook = http
    case_id = world.mine.case.id
    url = _signed_plan_and_pay_url(browser, csrf, case_id)
    monkeypatch.delenv("DEBTFLOW_PAYMENT_PROVIDER")
    get_settings.cache_clear()
    assert get_settings().payment_provider is None
    refused = api.post(
        f"/api/portal/cases/{case_id}/payments", json={"idempotency_key": "http-key-0100"}
    )
    assert refused.status_code == 503 and "not available" in refused.text
    page = browser.post(
        f"/portal/cases/{case_id}/pay", data={"payment_key": "page-key-0100", "csrf_token": csrf}
    )
    assert page.status_code == 503 and "not available" in page.text
    # the simulated provider's pages are gone, and a webhook books nothing
    assert browser.get(url).status_code == 404
    assert browser.post(url + "/confirm", data={"csrf_token": csrf}).status_code == 404
    provider = SimulatedProvider(secret=SECRET, tolerance_s=300)
    headers, body = provider.signed_webhook(
        provider_payment_id=url.rsplit("/", 1)[1],
        amount_fen=135_834,
        paid_at=datetime.now(UTC),
        event_id="evt_no_provider",
    )
    assert hook.post("/api/payments/webhook", headers=headers, content=body).status_code == 503
    assert payments_of(case_id) == 0


def test_portal_api_lists_paid_total_and_pending_promise(http):
    world, api, _, _, _ = http
    debts = api.get("/api/portal/debts").json()["items"]
    assert [d["case_id"] for d in debts] == [world.mine.case.id]
    assert debts[0]["paid_fen"] == 0 and debts[0]["pending_promise_due"] is None
    assert debts[0]["outstanding_fen"] == 842_000


def test_pages_say_why_a_legal_or_closed_case_takes_no_plan_or_payment(http):
    """A case in legal proceedings shows no offers but the reason, in the debtor's language,
    and a choice posted anyway is refused with the same words (409); once a signed plan's
    case is closed, the pay button gives way to the reason and a posted payment is refused."""
    from debtflow.case import service as case_service
    from debtflow.models import Case

    world, _, browser, csrf, _ = http
    case_id = world.mine.case.id
    with unit_of_work() as session:
        case = session.get(Case, case_id)
        case_service.apply_transition(
            session, case, to=CaseStatus.LEGAL, reason="lawsuit filed", actor="ops"
        )
    page = browser.get(f"/portal/cases/{case_id}")
    assert page.status_code == 200 and 'id="plan-refused"' in page.text
    assert "该案件已进入法律程序" in page.text and 'data-term="6"' not in page.text
    chosen = browser.post(
        f"/portal/cases/{case_id}/plan", data={"term_months": "6", "csrf_token": csrf}
    )
    assert chosen.status_code == 409 and "该案件已进入法律程序" in chosen.text
    assert "in legal proceedings" in chosen.text  # the service's words beneath

    other = world.other.case.id
    other_browser = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    with unit_of_work() as session:
        cookie, web_session = auth_service.start_session(session, user=world.other.user)
    other_browser.cookies.set(SESSION_COOKIE, cookie)
    other_csrf = web_session.csrf_token
    for path, data in (
        (f"/portal/cases/{other}/plan", {"term_months": "6"}),
        (
            f"/portal/cases/{other}/agreement/sign",
            {"signer_name": "王大山", "read_confirmed": "yes"},
        ),
    ):
        answer = other_browser.post(path, data={**data, "csrf_token": other_csrf})
        assert answer.status_code == 303
    with unit_of_work() as session:
        case = session.get(Case, other)
        case_service.apply_transition(
            session, case, to=CaseStatus.CLOSED, reason="recalled", actor="ops"
        )
    page = other_browser.get(f"/portal/cases/{other}")
    assert 'id="pay-refused"' in page.text and 'id="pay-form"' not in page.text
    assert "该案件已结清、已结案或已核销" in page.text
    pay = other_browser.post(
        f"/portal/cases/{other}/pay",
        data={"payment_key": "closed-key-01", "csrf_token": other_csrf},
    )
    assert pay.status_code == 409 and "该案件已结清、已结案或已核销" in pay.text
    assert payments_of(other) == 0


def test_two_tabs_paying_the_next_instalment_pay_it_once(http):
    """Each render of the case page carries its own one-off key: two tabs posting "pay now"
    are led to the same payment, and confirming in both books the instalment once."""
    world, _, browser, csrf, _ = http
    case_id = world.mine.case.id
    first_url = _signed_plan_and_pay_url(browser, csrf, case_id)
    key = re.search(
        r'name="payment_key" value="([0-9a-f]+)"', browser.get(f"/portal/cases/{case_id}").text
    ).group(1)
    second = browser.post(
        f"/portal/cases/{case_id}/pay", data={"payment_key": key, "csrf_token": csrf}
    )
    assert second.status_code == 303 and second.headers["location"] == first_url
    for url in (first_url, second.headers["location"]):
        assert browser.post(url + "/confirm", data={"csrf_token": csrf}).status_code == 303
    assert payments_of(case_id) == 135_834
    page = browser.get(f"/portal/cases/{case_id}").text
    assert "1,358.34" in page.split('id="next-due"')[1][:200]  # instalment 2, in full
