"""Every error a request can end in is answered, never a 500: JSON for the API, a page in
the visitor's language for a browser on a page; a rejected value is never echoed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from debtflow.app import create_app
from debtflow.models import Role

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
