"""An operations manager signs in and opens the dashboard — in Debian's Chromium, with a
screenshot under test-artifacts/ (Chinese text). An agent logs a contact through the API
first, so the gate figures have something to show."""

from __future__ import annotations

import re
from datetime import UTC, datetime


def _agent_logs_a_contact(request, server_url: str) -> None:  # type: ignore[no-untyped-def]
    token = request.post(
        f"{server_url}/api/auth/token",
        form={"username": "agent1", "password": "debtflow-demo"},
    )
    assert token.ok, token.text()
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    cases = request.get(f"{server_url}/api/cases", headers=headers).json()["items"]
    assert cases, "agent1 has cases in the demo"
    now = datetime.now(UTC).isoformat()
    decision = request.post(
        f"{server_url}/api/cases/{cases[0]['id']}/contact-decisions",
        headers=headers,
        data={"channel": "sms", "planned_at": now},
    )
    assert decision.status == 201, decision.text()
    if decision.json()["allowed"]:
        logged = request.post(
            f"{server_url}/api/contact-decisions/{decision.json()['id']}/contacts",
            headers=headers,
            data={"attempted_at": now, "connected": False},
        )
        assert logged.status == 201, logged.text()


def test_manager_opens_the_dashboard(server_url, chromium, artifacts):  # type: ignore[no-untyped-def]
    context = chromium.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, timezone_id="Asia/Shanghai"
    )
    _agent_logs_a_contact(context.request, server_url)
    page = context.new_page()
    page.goto(f"{server_url}/dashboard")
    assert "/login" in page.url, "an anonymous browser is sent to sign in"
    page.fill("input[name=username]", "manager")
    page.fill("input[name=password]", "debtflow-demo")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard$"))
    assert "经营看板" in page.inner_text("h1")
    kpis = page.inner_text("#kpis")
    for label in ("回收率", "承诺履约率", "联系合规率", "响应时间", "匹配准确率"):
        assert label in kpis
    assert re.search(r"\d+\.\d%", page.inner_text("#kpi-recovery")), "the demo has payments"
    assert re.search(r"\d+\.\d%", page.inner_text("#kpi-compliance")), "a gate decision shows"
    assert page.locator("#by-collector svg.bar-chart").count() >= 1
    assert page.locator("#daily svg.line-chart polyline, #daily svg.line-chart circle").count()
    assert page.locator("#rolls svg.heat-table").count() >= 1
    assert page.locator("#by-collector tbody tr").count() > 1
    assert page.locator("#no-data").count() == 0
    # the charts are drawn: the bar chart has a visible size in the page
    box = page.locator("#by-collector svg.bar-chart").first.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 20
    page.screenshot(path=str(artifacts / "manager-dashboard.png"), full_page=True)

    # the nav link goes there from the case list, and an agent neither sees nor opens it
    page.goto(f"{server_url}/cases")
    page.click("header nav a[href='/dashboard']")
    page.wait_for_url(re.compile(r".*/dashboard$"))
    context.close()
    agent = chromium.new_context(locale="zh-CN")
    agent_page = agent.new_page()
    agent_page.goto(f"{server_url}/login")
    agent_page.fill("input[name=username]", "agent1")
    agent_page.fill("input[name=password]", "debtflow-demo")
    agent_page.click("form[action='/login'] button[type=submit]")
    agent_page.wait_for_url(re.compile(r".*/cases$"))
    assert agent_page.locator("header nav a[href='/dashboard']").count() == 0
    response = agent_page.goto(f"{server_url}/dashboard")
    assert response is not None and response.status == 403
    agent.close()


def test_the_api_reference_renders_without_the_internet(server_url, chromium):  # type: ignore[no-untyped-def]
    """/api/docs draws the OpenAPI reference from the app's own files: every request the
    page makes goes to the app (a request elsewhere is refused and recorded)."""
    context = chromium.new_context()
    elsewhere: list[str] = []

    def only_the_app(route):  # type: ignore[no-untyped-def]
        if route.request.url.startswith(server_url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_app)
    page = context.new_page()
    page.goto(f"{server_url}/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/cases" in path for path in paths), paths[:5]
    assert elsewhere == [], f"the page asked the internet for {elsewhere}"
    context.close()
