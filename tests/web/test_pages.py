"""Sign-in pages, the agent queue and case page, the promise form, the debtor portal and
the language switch, through the app in-process (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.config import get_settings
from debtflow.db import unit_of_work
from debtflow.models import Role
from debtflow.web.deps import business_today

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def browser() -> TestClient:
    return TestClient(create_app(), base_url="https://testserver", follow_redirects=False)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def test_staff_sign_in_queue_case_page_and_promise(demo_world):
    client = browser()
    form = client.get("/login?next=//evil.example/steal")
    assert form.status_code == 200 and "员工登录" in form.text
    token = csrf_of(form.text)
    forged = client.post(
        "/login", data={"username": "agent1", "password": "debtflow-demo", "csrf_token": "x"}
    )
    assert forged.status_code == 403 and "表单已过期" in forged.text
    wrong = client.post(
        "/login", data={"username": "agent1", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    signed = client.post(
        "/login",
        data={
            "username": "agent1",
            "password": "debtflow-demo",
            "csrf_token": token,
            "next": "//evil.example/steal",
        },
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/cases"
    cookie = signed.headers["set-cookie"]
    assert "debtflow_session=" in cookie
    assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()

    queue = client.get("/cases")
    assert queue.status_code == 200 and "我的案件" in queue.text
    own = demo_world.cases_of_collector[demo_world.callers[Role.ONLINE_AGENT].collector_id]
    linked = {int(i) for i in re.findall(r'class="case-link" href="/cases/(\d+)"', queue.text)}
    assert linked == own
    values = [int(v) for v in re.findall(r'data-value-fen="(-?\d+)"', queue.text)]
    assert values and values == sorted(values, reverse=True), (
        "queue in dispatch priority order (highest expected value first)"
    )

    case_id = min(own)
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    for heading in ("还款能力报告", "月收入", "月支出", "其他负债", "账户", "联系记录", "状态历史"):
        assert heading in page.text
    due = (business_today() + timedelta(days=10)).isoformat()
    bad = client.post(
        f"/cases/{case_id}/promises",
        data={"amount_yuan": "12.345", "due": due, "csrf_token": csrf_of(page.text)},
    )
    assert bad.status_code == 422 and "not an amount" in bad.text
    stale = client.post(
        f"/cases/{case_id}/promises", data={"amount_yuan": "800", "due": due, "csrf_token": "x"}
    )
    assert stale.status_code == 403
    done = client.post(
        f"/cases/{case_id}/promises",
        data={"amount_yuan": "800.50", "due": due, "csrf_token": csrf_of(page.text)},
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "已记录还款承诺" in after.text and "800.50" in after.text and due in after.text

    # cookie-authenticated API writes need the CSRF header; reads do not
    api = f"/api/cases/{case_id}/promises"
    body = {"amount_fen": 5_000, "due": due}
    assert client.get(f"/api/cases/{case_id}").json()["status"] == "promised"
    assert client.post(api, json=body).status_code == 403
    sent = client.post(api, json=body, headers={"X-CSRF-Token": csrf_of(page.text)})
    assert sent.status_code == 201 and sent.json()["amount_fen"] == 5_000

    out = client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303
    assert client.get("/cases").headers["location"].startswith("/login")


ALERT = re.compile(r'role="alert">(.*?)</p>', re.S)


def test_the_sign_in_page_does_not_tell_a_locked_account_from_an_unknown_name(demo_world):
    client = browser()
    token = csrf_of(client.get("/login").text)

    def sign_in(username: str, password: str) -> tuple[int, str]:
        answer = client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        found = ALERT.search(answer.text)
        assert found, answer.text
        return answer.status_code, found.group(1)

    unknown = sign_in("nobody-by-this-name", "guess")
    assert unknown[0] == 401 and "用户名或密码错误" in unknown[1] and "锁定" in unknown[1]
    answers = [sign_in("field1", "guess") for _ in range(auth_service.MAX_FAILED_LOGINS)]
    with unit_of_work() as session:
        user = auth_service.get_user(session, username="field1")
        assert user.locked_until is not None, "the lock itself holds"
    answers.append(sign_in("field1", "debtflow-demo"))  # the right password while locked
    assert answers == [unknown] * len(answers), "a locked account reads as any refusal"
    assert "UTC" not in unknown[1]


def test_api_token_lockout_debtor_code_portal_and_language(demo_world):
    client = browser()
    assert client.get("/api/cases").status_code == 401
    for _ in range(auth_service.MAX_FAILED_LOGINS - 1):
        refused = client.post("/api/auth/token", data={"username": "field1", "password": "x"})
        assert refused.status_code == 401
    locked = client.post("/api/auth/token", data={"username": "field1", "password": "x"})
    unknown = client.post("/api/auth/token", data={"username": "no-such-user", "password": "x"})
    # a locked user reads as an unknown one: the answer does not tell which usernames exist
    assert locked.status_code == unknown.status_code == 401
    assert locked.json() == unknown.json()
    right = client.post("/api/auth/token", data={"username": "field1", "password": "debtflow-demo"})
    assert right.status_code == 401 and right.json() == unknown.json(), "locked, right password"
    with unit_of_work() as session:
        assert auth_service.get_user(session, username="field1").locked_until is not None
    ok = client.post("/api/auth/token", data={"username": "agent2", "password": "debtflow-demo"})
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
    me = client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"}
    )
    assert me.json()["username"] == "agent2"

    with unit_of_work() as session:
        phone = auth_service.get_user(session, username="debtor1").phone
    assert phone
    form = client.get("/debtor/login")
    token = csrf_of(form.text)
    sent = client.post("/debtor/login/code", data={"phone": phone, "csrf_token": token})
    assert sent.status_code == 200 and "验证码已发送" in sent.text
    log = Path(get_settings().data_dir) / "notifications" / "one-time-codes.log"
    codes_sent = log.read_text().count(f"to {phone}: code")
    # a second request within the minute sends nothing and answers as for any number, so
    # the form does not tell who is registered
    again = client.post("/debtor/login/code", data={"phone": phone, "csrf_token": token})
    nobody = client.post("/debtor/login/code", data={"phone": "13999999999", "csrf_token": token})
    assert again.status_code == nobody.status_code == 200
    assert "验证码已发送" in again.text and "验证码已发送" in nobody.text
    assert log.read_text().count(f"to {phone}: code") == codes_sent
    code = re.findall(rf"to {phone}: code (\d{{6}})", log.read_text())[-1]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    refused = client.post(
        "/debtor/login/verify", data={"phone": phone, "code": wrong, "csrf_token": token}
    )
    assert refused.status_code == 401 and "验证码错误或已过期" in refused.text
    assert "验证码已发送" not in refused.text, "nothing was sent: the refusal alone"
    assert 'name="code"' in refused.text, "the code can be typed again"
    signed = client.post(
        "/debtor/login/verify", data={"phone": phone, "code": code, "csrf_token": token}
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/portal"
    portal = client.get("/portal")
    assert portal.status_code == 200 and "我的欠款" in portal.text
    debts = client.get("/api/portal/debts").json()["items"]
    assert {d["case_id"] for d in debts} == demo_world.debtor_case_ids
    for debt in debts:
        assert debt["creditor_name"] in portal.text
    assert client.get("/cases").headers["location"] == "/portal"

    english = client.get("/lang/en?next=/portal")
    assert english.status_code == 303 and english.headers["location"] == "/portal"
    page = client.get("/portal")
    assert '<html lang="en">' in page.text and "My debts" in page.text
    assert "我的欠款" not in page.text
    assert client.get("/lang/en?next=https://evil.example").headers["location"] == "/"
