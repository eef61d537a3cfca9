"""An online agent signs in, opens the first case of their queue and records a promise to
pay — in Debian's Chromium, with a screenshot under test-artifacts/."""

from __future__ import annotations

import re
from datetime import timedelta

from debtflow.web.deps import business_today


def test_agent_signs_in_opens_a_case_and_records_a_promise(server_url, chromium, artifacts):
    context = chromium.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    page.goto(f"{server_url}/cases")
    assert "/login" in page.url, "an anonymous browser is sent to sign in"
    page.fill("input[name=username]", "agent1")
    page.fill("input[name=password]", "debtflow-demo")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases$"))
    assert "我的案件" in page.inner_text("h1")
    links = page.locator("a.case-link")
    assert links.count() > 0
    case_id = links.first.inner_text().strip()
    links.first.click()
    page.wait_for_url(re.compile(rf".*/cases/{case_id}$"))
    assert "还款能力报告" in page.inner_text("#capacity")

    due = (business_today() + timedelta(days=14)).isoformat()
    page.fill("input[name=amount_yuan]", "1288.50")
    page.fill("input[name=due]", due)
    page.click("#promise-form button[type=submit]")
    page.wait_for_url(re.compile(rf".*/cases/{case_id}\?recorded=1$"))
    assert "已记录还款承诺" in page.inner_text("p.notice")
    promises = page.inner_text("#promises")
    assert "1,288.50" in promises and due in promises
    assert page.get_attribute("#case-status", "data-status") in ("promised", "paying", "active")
    page.screenshot(path=str(artifacts / "agent-records-promise.png"), full_page=True)
    context.close()


def test_agent_adds_a_note_and_logs_a_contact_in_place(server_url, chromium, artifacts):
    """The workbench forms post through htmx: only their section changes, the page stays."""
    context = chromium.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, timezone_id="Asia/Shanghai"
    )
    page = context.new_page()
    page.goto(f"{server_url}/login")
    page.fill("input[name=username]", "agent1")
    page.fill("input[name=password]", "debtflow-demo")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases$"))
    links = page.locator("a.case-link")
    case_id = links.nth(1).inner_text().strip()
    page.goto(f"{server_url}/cases/{case_id}")
    assert page.locator("#strategy").count() == 1 and page.locator("#script blockquote").count()

    page.fill("#notes textarea[name=body]", "债务人说周五发工资后再联系")
    page.click("#notes button[type=submit]")
    page.wait_for_selector("#notes p.notice")
    assert "债务人说周五发工资后再联系" in page.inner_text("#notes ol.notes")
    assert page.url.endswith(f"/cases/{case_id}"), "swapped in place, no navigation"

    page.fill("#notes textarea[name=body]", "   ")
    page.evaluate("document.querySelector('#notes textarea').removeAttribute('required')")
    page.click("#notes button[type=submit]")
    page.wait_for_selector("#notes p.error")
    assert "empty" in page.inner_text("#notes p.error"), "a refused note is shown in place"

    page.select_option("#contacts select[name=channel]", "sms")
    page.click("#contacts button[type=submit]")
    # allowed in the day, refused in quiet hours: the gate's answer shows in the section
    page.wait_for_selector("#contacts .gate-allow, #contacts .gate-deny")
    assert page.url.endswith(f"/cases/{case_id}")
    page.screenshot(path=str(artifacts / "agent-workbench.png"), full_page=True)
    context.close()
