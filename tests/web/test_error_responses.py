"""Every error a request can end in is answered, never a 500: JSON for the API, a page in
the visitor's language for a browser on a page; a rejected value is never echoed."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from debtflow.app import create_app
from debtflow.db import unit_of_work
from debtflow.models import Case, ContactPoint, Role
from debtflow.models.enums import ContactKind

HTML = {"Accept": "text/html,application/xhtml+xml"}


def _own_case(world) -> int:
    caller = world.callers[Role.ONLINE_AGENT]
    return min(world.cases_of_collector[caller.collector_id])


def test_values_json_cannot_write_back_are_refused_not_a_server_error(demo_world):
    anonymous = TestClient(create_app(), base_url="https://testserver")
    for body in ('{"phone": "\\ud800"}', '{"phone": Infinity}', '{"phone": NaN}'):
        answer = anonymous.post(
            "/api/auth/debtor/code", content=body, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 422, body
        problems = answer.json()
        assert problems["error"] == "invalid_request"
        assert problems["detail"][0]["loc"] == ["body", "phone"]
        assert all("input" not in p for p in problems["detail"])  # nothing echoed
    agent = demo_world.client(Role.ONLINE_AGENT)
    answer = agent.post(
        f"/api/cases/{_own_case(demo_world)}/promises",
        content='{"amount_fen": NaN, "due": "2026-12-10"}',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "amount_fen"]


def test_a_browser_on_a_page_gets_the_error_as_a_page(demo_world):
    browser = demo_world.client(Role.ONLINE_AGENT, cookie=True)
    missing = browser.get("/cases/999999", headers=HTML)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "请求未能完成 (404)" in missing.text and "does not exist" in missing.text
    assert "找不到该案件。" in missing.text, "the reason in the visitor's language, details beneath"
    browser.cookies.set("lang", "en")
    assert "Something went wrong (404)" in browser.get("/cases/999999", headers=HTML).text
    # the same path for a client that does not ask for HTML, and the API, stay JSON
    assert browser.get("/cases/999999").json()["error"] == "case_not_found"
    api = browser.get("/api/cases/999999", headers=HTML)
    assert api.status_code == 404 and api.json()["error"] == "case_not_found"
    # a form that does not validate, as a page naming the field
    form = browser.post(
        f"/cases/{_own_case(demo_world)}/promises",
        data={"csrf_token": demo_world.callers[Role.ONLINE_AGENT].csrf_token},
        headers=HTML,
    )
    assert form.status_code == 422
    assert form.headers["content-type"].startswith("text/html") and "amount_yuan" in form.text
    assert "The request is not complete or not valid" in form.text  # the lang cookie is en


def test_bad_input_is_refused_with_a_reason_never_a_server_error(demo_world):
    """Inputs a reviewer found to end in a 500, or to be stored when they make no sense."""
    case_id = _own_case(demo_world)
    agent = demo_world.client(Role.ONLINE_AGENT)
    manager = demo_world.client(Role.OPERATIONS_MANAGER)
    with unit_of_work() as session:
        debtor_id = session.get(Case, case_id).debtor_id
        owed = session.get(Case, case_id).outstanding_fen
        email = session.execute(
            select(ContactPoint.id, Case.id)
            .join(Case, Case.debtor_id == ContactPoint.debtor_id)
            .where(ContactPoint.kind == ContactKind.EMAIL)
            .limit(1)
        ).first()
    assert email is not None, "the demo gives about 30 % of debtors an e-mail address"

    def refused(answer, *words: str) -> None:
        assert answer.status_code == 422, answer.text
        assert all(word in answer.text for word in words), answer.text

    # moments and days outside the years 1970-2999 (date arithmetic overflowed)
    refused(
        agent.post(
            f"/api/cases/{case_id}/contact-decisions",
            json={"channel": "call", "planned_at": "9999-12-31T23:59:59-14:00"},
        ),
        "1970",
    )
    refused(
        manager.post(
            f"/api/debtors/{debtor_id}/restrictions",
            json={"flag": "legal_hold", "reason": "x", "starts_at": "9999-12-31T23:00:00-05:00"},
        )
    )
    auditor = demo_world.client(Role.COMPLIANCE_AUDITOR)
    refused(
        auditor.get(
            "/api/compliance/report",
            params={"since": "0001-01-01T00:00:00+01:00", "until": "2026-12-01T00:00:00Z"},
        )
    )
    field = demo_world.client(Role.FIELD_AGENT)
    refused(field.get("/api/field/route", params={"day": "9999-12-31"}))
    # a phone asked of an e-mail contact point
    refused(
        manager.get(
            f"/api/cases/{email.id_1}/personal-data/phone",
            params={"purpose": "核实号码 check the number", "contact_point_id": email.id},
        ),
        "e-mail",
    )
    # free text beyond the forms' limits, a dialer batch beyond its limit
    refused(
        agent.post(
            "/api/contact-decisions/1/contacts",
            json={
                "attempted_at": "2026-11-02T10:01:00+08:00",
                "connected": False,
                "note": "x" * 2001,
            },
        )
    )
    refused(
        manager.post(
            f"/api/debtors/{debtor_id}/restrictions",
            json={"flag": "dispute", "reason": "x" * 2001},
        )
    )
    ask = {"case_id": case_id, "channel": "sms", "planned_at": "2999-01-01T10:00:00+08:00"}
    refused(agent.post("/api/contact-decisions/batch", json=[ask] * 1001))
    # a contact logged before it happened
    soon = agent.post(
        f"/api/cases/{case_id}/contact-decisions",
        json={"channel": "sms", "planned_at": "2999-01-01T10:00:00+08:00"},
    ).json()["id"]
    refused(
        agent.post(
            f"/api/contact-decisions/{soon}/contacts",
            json={"attempted_at": "2999-01-01T10:01:00+08:00", "connected": True},
        ),
        "still to come",
    )
    # promises that cannot be kept: more than is owed, or beyond a promise's horizon
    today = date.today()
    refused(
        agent.post(
            f"/api/cases/{case_id}/promises",
            json={"amount_fen": owed + 1, "due": (today + timedelta(days=7)).isoformat()},
        ),
        "more than the case owes",
    )
    refused(
        agent.post(
            f"/api/cases/{case_id}/promises",
            json={"amount_fen": 100, "due": (today + timedelta(days=200)).isoformat()},
        ),
        "instalment plan",
    )
    # a digit Python reads as one but int() does not, in the page's forms
    browser = demo_world.client(Role.ONLINE_AGENT, cookie=True)
    csrf = demo_world.callers[Role.ONLINE_AGENT].csrf_token
    for path, form in (
        (f"/cases/{case_id}/promises", {"amount_yuan": "²", "due": today.isoformat()}),
        (f"/cases/{case_id}/contacts", {"channel": "call", "party": "²"}),
    ):
        answer = browser.post(path, data={**form, "csrf_token": csrf}, headers=HTML)
        assert answer.status_code == 422 and "text/html" in answer.headers["content-type"]


def test_an_auditor_is_told_what_they_may_not_do(demo_world):
    auditor = demo_world.client(Role.COMPLIANCE_AUDITOR)
    answer = auditor.post(
        f"/api/cases/{_own_case(demo_world)}/notes", json={"body": "looked at the file"}
    )
    assert answer.status_code == 403
    assert answer.json()["detail"] == "a compliance_auditor may not write notes"


def test_refusals_before_any_route_runs_have_the_same_shape(demo_world):
    anonymous = TestClient(create_app())
    missing_sign_in = anonymous.get("/api/cases")
    assert missing_sign_in.status_code == 401
    assert missing_sign_in.json() == {"error": "not_authenticated", "detail": "sign in first"}
    assert missing_sign_in.headers["www-authenticate"] == "Bearer"
    stale = anonymous.get("/api/cases", headers={"Authorization": "Bearer not-a-token"})
    assert stale.status_code == 401 and stale.json()["error"] == "not_authenticated"
    unknown = anonymous.get("/api/no-such-route")
    assert unknown.status_code == 404 and unknown.json() == {
        "error": "not_found",
        "detail": "Not Found",
    }
    page = anonymous.get("/no-such-page", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "找不到所请求的页面或记录" in page.text
    wrong_method = anonymous.delete("/api/cases")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"] == "method_not_allowed"
    # a page still sends an anonymous browser to sign in
    sent = anonymous.get("/cases", follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/login?next=")
    # a cookie-signed API write without the CSRF header
    browser = demo_world.client(Role.ONLINE_AGENT, cookie=True)
    forged = browser.post(
        f"/api/cases/{_own_case(demo_world)}/notes", json={"body": "x"}, headers={}
    )
    assert forged.status_code == 403 and forged.json()["error"] == "csrf"
    form = browser.post(f"/cases/{_own_case(demo_world)}/notes", data={"body": "x"}, headers=HTML)
    assert form.status_code == 403 and "表单已过期" in form.text


def test_an_error_page_keeps_the_top_bar_of_whoever_is_signed_in(demo_world):
    browser = demo_world.client(Role.ONLINE_AGENT, cookie=True)
    csrf = demo_world.callers[Role.ONLINE_AGENT].csrf_token
    for path, status in (
        ("/cases/999999", 404),  # refused by the route's service
        ("/no-such-page", 404),  # no route at all
        ("/cases?status=nonsense", 422),  # the request does not validate
    ):
        page = browser.get(path, headers=HTML)
        assert page.status_code == status, path
        assert '<a href="/cases">' in page.text, f"{path}: the navigation"
        assert 'action="/logout"' in page.text and f'value="{csrf}"' in page.text, path
    anonymous = TestClient(create_app(), base_url="https://testserver")
    stale = TestClient(create_app(), base_url="https://testserver")
    stale.cookies.set("debtflow_session", "no-such-session")
    for client in (anonymous, stale):
        page = client.get("/no-such-page", headers=HTML)
        assert page.status_code == 404 and "找不到所请求的页面或记录" in page.text
        assert 'action="/logout"' not in page.text and '<a href="/cases">' not in page.text
