"""Every role x every route of the app -> allowed or denied as designed.

The routes are enumerated from the app itself: a route added without an entry in
``MATRIX`` fails ``test_every_route_is_in_the_matrix``, so nothing ships unprotected by
accident."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from debtflow.app import create_app
from debtflow.models import Role
from debtflow.web.deps import business_today

ROLES: list[Role | None] = [
    Role.ADMIN,
    Role.OPERATIONS_MANAGER,
    Role.ONLINE_AGENT,
    Role.FIELD_AGENT,
    Role.COMPLIANCE_AUDITOR,
    Role.PART_TIME_COLLECTOR,
    Role.PARTNER,
    Role.DEBTOR,
    None,  # not signed in
]


def row(*statuses: int) -> dict[Role | None, int]:
    assert len(statuses) == len(ROLES)
    return dict(zip(ROLES, statuses, strict=True))


def same(status: int) -> dict[Role | None, int]:
    return row(*([status] * len(ROLES)))


Send = Callable[[TestClient, "Target"], httpx.Response]


class Target:
    """What the requests aim at: case A is agent1's (and not the demo debtor's)."""

    def __init__(self, case_a: int, csrf: str) -> None:
        self.case_a = case_a
        self.csrf = csrf


def due() -> str:
    return (business_today() + timedelta(days=7)).isoformat()


def soon() -> str:
    return (datetime.now(UTC) + timedelta(hours=1)).isoformat()


def last_week() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"since": (now - timedelta(days=7)).isoformat(), "until": now.isoformat()}


def field_visit_request(c: TestClient, t: Target) -> httpx.Response:
    """Ask for a visit on case A and, when granted, withdraw it again so the next role's
    request is not refused as a duplicate."""
    response = c.post(
        "/api/field/requests", json={"case_id": t.case_a, "reason": "电话失联，需上门"}
    )
    if response.status_code == 201:
        withdrawn = c.post(f"/api/field/requests/{response.json()['id']}/cancel")
        assert withdrawn.status_code == 200, withdrawn.text
    return response


FIELD_PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)


def workbench_visit_request(c: TestClient, t: Target) -> httpx.Response:
    """Ask for a visit on case A from its page and, when granted, withdraw it again (through
    the field API) so the next role's request is not refused as a duplicate."""
    response = c.post(
        f"/cases/{t.case_a}/field-visits", data={"reason": "电话失联，需上门", "csrf_token": t.csrf}
    )
    granted = re.search(r"[?&]visit=(\d+)", response.headers.get("location", ""))
    if response.status_code == 303 and granted:
        withdrawn = c.post(
            f"/api/field/requests/{granted.group(1)}/cancel", headers={"X-CSRF-Token": t.csrf}
        )
        assert withdrawn.status_code == 200, withdrawn.text
    return response


#:  (method, path) -> (how to call it, expected status per role)
#:  columns: admin, manager, online agent, field agent, auditor, part-time, partner, debtor,
#:  anonymous
MATRIX: dict[tuple[str, str], tuple[Send, dict[Role | None, int]]] = {
    # JSON API: bearer tokens
    ("GET", "/api/cases"): (
        lambda c, t: c.get("/api/cases"),
        row(200, 200, 200, 200, 200, 200, 200, 403, 401),
    ),
    ("GET", "/api/cases/{case_id}"): (
        lambda c, t: c.get(f"/api/cases/{t.case_a}"),
        row(200, 200, 200, 404, 200, 404, 404, 403, 401),
    ),
    ("POST", "/api/cases/{case_id}/promises"): (
        lambda c, t: c.post(
            f"/api/cases/{t.case_a}/promises", json={"amount_fen": 10_000, "due": due()}
        ),
        row(201, 201, 201, 404, 403, 404, 404, 403, 401),
    ),
    # with a case_id the analysis is stored against the case: contact roles that reach it
    ("POST", "/api/conversations/analyze"): (
        lambda c, t: c.post(
            "/api/conversations/analyze",
            json={
                "utterances": [{"speaker": "debtor", "text": "我下周五还五百"}],
                "case_id": t.case_a,
            },
        ),
        row(200, 200, 200, 404, 403, 404, 404, 403, 401),
    ),
    # during a call: contact roles that reach the case; alerts are for those who audit
    ("POST", "/api/conversations/live"): (
        lambda c, t: c.post(
            "/api/conversations/live",
            json={
                "case_id": t.case_a,
                "call_ref": "matrix-call",
                "utterances": [{"speaker": "collector", "text": "您好，我是客服小王"}],
            },
        ),
        row(200, 200, 200, 404, 403, 404, 404, 403, 401),
    ),
    ("GET", "/api/conversations/alerts"): (
        lambda c, t: c.get("/api/conversations/alerts"),
        row(200, 200, 403, 403, 200, 403, 403, 403, 401),
    ),
    # no such alert: the permission is checked before the alert is looked for
    ("POST", "/api/conversations/alerts/{alert_id}/acknowledge"): (
        lambda c, t: c.post("/api/conversations/alerts/987654/acknowledge", json={}),
        row(404, 404, 403, 403, 404, 403, 403, 403, 401),
    ),
    # contacts go through the compliance gate; who asks is the signed-in user
    ("POST", "/api/cases/{case_id}/contact-decisions"): (
        lambda c, t: c.post(
            f"/api/cases/{t.case_a}/contact-decisions",
            json={"channel": "sms", "planned_at": soon()},
        ),
        row(201, 201, 201, 404, 403, 404, 404, 403, 401),
    ),
    ("POST", "/api/contact-decisions/batch"): (
        lambda c, t: c.post(
            "/api/contact-decisions/batch",
            json=[{"case_id": t.case_a, "channel": "sms", "planned_at": soon()}],
        ),
        row(201, 201, 201, 404, 403, 404, 404, 403, 401),
    ),
    ("POST", "/api/contact-decisions/{decision_id}/contacts"): (  # not the caller's decision
        lambda c, t: c.post(
            "/api/contact-decisions/999999/contacts",
            json={"attempted_at": soon(), "connected": False},
        ),
        row(404, 404, 404, 404, 403, 404, 404, 403, 401),
    ),
    ("GET", "/api/cases/{case_id}/contacts"): (
        lambda c, t: c.get(f"/api/cases/{t.case_a}/contacts"),
        row(200, 200, 200, 404, 200, 404, 404, 403, 401),
    ),
    # recordings and message text of a logged contact (attempt 999999 is nobody's)
    ("POST", "/api/cases/{case_id}/recordings"): (
        lambda c, t: c.post(
            f"/api/cases/{t.case_a}/recordings",
            data={"contact_attempt_id": "999999"},
            files={"recording": ("call.wav", b"RIFF....WAVE", "audio/wav")},
        ),
        row(404, 404, 404, 404, 403, 404, 404, 403, 401),
    ),
    ("POST", "/api/cases/{case_id}/messages"): (
        lambda c, t: c.post(
            f"/api/cases/{t.case_a}/messages",
            json={"contact_attempt_id": 999999, "body": "您好，请尽快还款。"},
        ),
        row(404, 404, 404, 404, 403, 404, 404, 403, 401),
    ),
    ("POST", "/api/contact-decisions/{decision_id}/override"): (
        lambda c, t: c.post(
            "/api/contact-decisions/999999/override",
            json={"written_reason": "debtor asked us to call back tonight"},
        ),
        row(404, 404, 403, 403, 403, 403, 403, 403, 401),
    ),
    ("POST", "/api/debtors/{debtor_id}/restrictions"): (
        lambda c, t: c.post(
            "/api/debtors/999999/restrictions", json={"flag": "dispute", "reason": "disputed"}
        ),
        row(404, 404, 403, 403, 404, 403, 403, 403, 401),
    ),
    ("GET", "/api/cases/{case_id}/personal-data/{kind}"): (
        lambda c, t: c.get(
            f"/api/cases/{t.case_a}/personal-data/id_number",
            params={"purpose": "核实身份 verify identity before a call"},
        ),
        row(200, 200, 200, 404, 200, 404, 404, 403, 401),
    ),
    ("GET", "/api/compliance/report"): (
        lambda c, t: c.get("/api/compliance/report", params=last_week()),
        row(200, 200, 403, 403, 200, 403, 403, 403, 401),
    ),
    # manager dashboard: admin, operations manager and compliance auditor read it
    ("GET", "/api/reports/dashboard"): (
        lambda c, t: c.get("/api/reports/dashboard", params=last_week()),
        row(200, 200, 403, 403, 200, 403, 403, 403, 401),
    ),
    ("GET", "/api/portal/debts"): (
        lambda c, t: c.get("/api/portal/debts"),
        row(403, 403, 403, 403, 403, 403, 403, 200, 401),
    ),
    ("GET", "/api/auth/me"): (
        lambda c, t: c.get("/api/auth/me"),
        row(200, 200, 200, 200, 200, 200, 200, 200, 401),
    ),
    # public by design
    ("POST", "/api/auth/token"): (
        lambda c, t: c.post(
            "/api/auth/token", data={"username": "agent2", "password": "debtflow-demo"}
        ),
        same(200),
    ),
    ("POST", "/api/auth/debtor/code"): (
        lambda c, t: c.post("/api/auth/debtor/code", json={"phone": "19900000000"}),
        same(202),
    ),
    ("POST", "/api/auth/debtor/token"): (
        lambda c, t: c.post(
            "/api/auth/debtor/token", data={"phone": "19900000000", "code": "000000"}
        ),
        same(401),
    ),
    ("GET", "/api/health"): (lambda c, t: c.get("/api/health"), same(200)),
    ("GET", "/openapi.json"): (lambda c, t: c.get("/openapi.json"), same(200)),
    ("GET", "/api/docs"): (lambda c, t: c.get("/api/docs"), same(200)),
    ("MOUNT", "/static"): (lambda c, t: c.get("/static/debtflow.css"), same(200)),
    ("GET", "/"): (lambda c, t: c.get("/"), same(307)),
    ("GET", "/login"): (lambda c, t: c.get("/login"), same(200)),
    ("POST", "/login"): (  # no sign-in CSRF cookie: refused whoever asks
        lambda c, t: c.post(
            "/login", data={"username": "agent1", "password": "x", "csrf_token": "forged"}
        ),
        same(403),
    ),
    ("GET", "/debtor/login"): (lambda c, t: c.get("/debtor/login"), same(200)),
    ("POST", "/debtor/login/code"): (
        lambda c, t: c.post("/debtor/login/code", data={"phone": "19900000000"}),
        same(403),
    ),
    ("POST", "/debtor/login/verify"): (
        lambda c, t: c.post("/debtor/login/verify", data={"phone": "1990000", "code": "1"}),
        same(403),
    ),
    ("GET", "/lang/{code}"): (lambda c, t: c.get("/lang/en?next=/login"), same(303)),
    # pages: session cookies; anonymous browsers are sent to /login
    ("GET", "/cases"): (
        lambda c, t: c.get("/cases"),
        row(200, 200, 200, 200, 200, 200, 200, 303, 303),
    ),
    ("GET", "/cases/{case_id}"): (
        lambda c, t: c.get(f"/cases/{t.case_a}"),
        row(200, 200, 200, 404, 200, 404, 404, 403, 303),
    ),
    ("POST", "/cases/{case_id}/promises"): (
        lambda c, t: c.post(
            f"/cases/{t.case_a}/promises",
            data={"amount_yuan": "120.50", "due": due(), "csrf_token": t.csrf},
        ),
        row(303, 303, 303, 404, 403, 404, 404, 404, 303),
    ),
    # agent workbench: contacts go through the gate (allowed or denied, the page answers 303
    # to the decision); notes and visit requests need a working role; the script is read-only
    ("POST", "/cases/{case_id}/contacts"): (
        lambda c, t: c.post(
            f"/cases/{t.case_a}/contacts", data={"channel": "sms", "csrf_token": t.csrf}
        ),
        row(303, 303, 303, 404, 403, 404, 404, 404, 303),
    ),
    ("POST", "/cases/{case_id}/notes"): (
        lambda c, t: c.post(
            f"/cases/{t.case_a}/notes", data={"body": "回访记录", "csrf_token": t.csrf}
        ),
        row(303, 303, 303, 404, 403, 404, 404, 404, 303),
    ),
    ("POST", "/cases/{case_id}/script"): (
        lambda c, t: c.post(
            f"/cases/{t.case_a}/script", data={"said": "我再想想", "csrf_token": t.csrf}
        ),
        row(200, 200, 200, 404, 200, 404, 404, 404, 303),
    ),
    ("POST", "/cases/{case_id}/field-visits"): (
        workbench_visit_request,
        row(303, 303, 303, 404, 403, 404, 404, 404, 303),
    ),
    ("GET", "/api/cases/{case_id}/notes"): (
        lambda c, t: c.get(f"/api/cases/{t.case_a}/notes"),
        row(200, 200, 200, 404, 200, 404, 404, 403, 401),
    ),
    ("POST", "/api/cases/{case_id}/notes"): (
        lambda c, t: c.post(f"/api/cases/{t.case_a}/notes", json={"body": "回访记录"}),
        row(201, 201, 201, 404, 403, 404, 404, 403, 401),
    ),
    ("GET", "/call-alerts"): (
        lambda c, t: c.get("/call-alerts"),
        row(200, 200, 403, 403, 200, 403, 403, 403, 303),
    ),
    # no such alert: the permission is checked before the alert is looked for
    ("POST", "/call-alerts/{alert_id}/acknowledge"): (
        lambda c, t: c.post("/call-alerts/987654/acknowledge", data={"csrf_token": t.csrf}),
        row(404, 404, 403, 403, 404, 403, 403, 403, 303),
    ),
    ("GET", "/dashboard"): (
        lambda c, t: c.get("/dashboard"),
        row(200, 200, 403, 403, 200, 403, 403, 403, 303),
    ),
    # field app: field collectors act on their own stops only (case A is an online agent's
    # case on nobody's route: 404); admins, managers and auditors read routes (naming whose)
    ("POST", "/api/field/requests"): (
        field_visit_request,
        row(201, 201, 201, 404, 403, 404, 404, 403, 401),
    ),
    ("POST", "/api/field/requests/{request_id}/cancel"): (
        lambda c, t: c.post("/api/field/requests/999999/cancel"),
        row(404, 404, 404, 404, 403, 404, 404, 403, 401),
    ),
    ("GET", "/api/field/route"): (
        lambda c, t: c.get("/api/field/route"),
        row(422, 422, 403, 200, 422, 200, 403, 403, 401),
    ),
    ("POST", "/api/field/stops/{case_id}/checkin"): (
        lambda c, t: c.post(
            f"/api/field/stops/{t.case_a}/checkin",
            json={"latitude": 30.27, "longitude": 120.15, "accuracy_m": 20},
        ),
        row(403, 403, 403, 404, 403, 404, 403, 403, 401),
    ),
    ("POST", "/api/field/stops/{case_id}/outcome"): (
        lambda c, t: c.post(f"/api/field/stops/{t.case_a}/outcome", json={"outcome": "not_home"}),
        row(403, 403, 403, 404, 403, 404, 403, 403, 401),
    ),
    ("POST", "/api/field/stops/{case_id}/files"): (
        lambda c, t: c.post(
            f"/api/field/stops/{t.case_a}/files",
            files={"file": ("door.jpg", FIELD_PHOTO, "image/jpeg")},
        ),
        row(403, 403, 403, 404, 403, 404, 403, 403, 401),
    ),
    ("GET", "/field"): (
        lambda c, t: c.get("/field"),
        row(200, 200, 403, 200, 200, 200, 403, 303, 303),
    ),
    ("POST", "/field/stops/{case_id}/outcome"): (
        lambda c, t: c.post(
            f"/field/stops/{t.case_a}/outcome", data={"outcome": "not_home", "csrf_token": t.csrf}
        ),
        row(403, 403, 403, 404, 403, 404, 403, 403, 303),
    ),
    ("POST", "/field/stops/{case_id}/files"): (
        lambda c, t: c.post(
            f"/field/stops/{t.case_a}/files",
            data={"csrf_token": t.csrf},
            files={"file": ("door.jpg", FIELD_PHOTO, "image/jpeg")},
        ),
        row(403, 403, 403, 404, 403, 404, 403, 403, 303),
    ),
    ("GET", "/portal"): (
        lambda c, t: c.get("/portal"),
        row(303, 303, 303, 303, 303, 303, 303, 200, 303),
    ),
    # debtor portal: a debtor reaches only their own cases (case A is not theirs: 404);
    # staff are refused (403); the webhook is public but must be signed (400 unsigned)
    ("GET", "/api/portal/cases/{case_id}/offers"): (
        lambda c, t: c.get(f"/api/portal/cases/{t.case_a}/offers"),
        row(403, 403, 403, 403, 403, 403, 403, 404, 401),
    ),
    ("POST", "/api/portal/cases/{case_id}/plan"): (
        lambda c, t: c.post(f"/api/portal/cases/{t.case_a}/plan", json={"term_months": 6}),
        row(403, 403, 403, 403, 403, 403, 403, 404, 401),
    ),
    ("GET", "/api/portal/cases/{case_id}/plan"): (
        lambda c, t: c.get(f"/api/portal/cases/{t.case_a}/plan"),
        row(403, 403, 403, 403, 403, 403, 403, 404, 401),
    ),
    ("POST", "/api/portal/cases/{case_id}/agreement/signature"): (
        lambda c, t: c.post(
            f"/api/portal/cases/{t.case_a}/agreement/signature",
            json={"signer_name": "张三", "read_confirmed": True},
        ),
        row(403, 403, 403, 403, 403, 403, 403, 404, 401),
    ),
    ("POST", "/api/portal/cases/{case_id}/payments"): (
        lambda c, t: c.post(
            f"/api/portal/cases/{t.case_a}/payments",
            json={"idempotency_key": "matrix-key-1", "amount_fen": 100},
        ),
        row(403, 403, 403, 403, 403, 403, 403, 404, 401),
    ),
    ("POST", "/api/portal/cases/{case_id}/disputes"): (
        lambda c, t: c.post(
            f"/api/portal/cases/{t.case_a}/disputes", data={"reason": "这笔欠款我已经还清了"}
        ),
        row(403, 403, 403, 403, 403, 403, 403, 404, 401),
    ),
    ("POST", "/api/portal/cases/{case_id}/legal-advice"): (
        lambda c, t: c.post(
            f"/api/portal/cases/{t.case_a}/legal-advice",
            json={"question": "利息是否合法？", "contact_channel": "call"},
        ),
        row(403, 403, 403, 403, 403, 403, 403, 404, 401),
    ),
    ("GET", "/api/portal/legal-advice"): (
        lambda c, t: c.get("/api/portal/legal-advice"),
        row(200, 200, 403, 403, 403, 403, 403, 403, 401),
    ),
    # no such request: the permission is checked before the request is looked for
    ("POST", "/api/portal/legal-advice/{request_id}/handled"): (
        lambda c, t: c.post(
            "/api/portal/legal-advice/987654/handled", json={"note": "已由合作律所王律师电话解答"}
        ),
        row(404, 404, 403, 403, 403, 403, 403, 403, 401),
    ),
    ("GET", "/api/portal/payments/mismatched"): (
        lambda c, t: c.get("/api/portal/payments/mismatched"),
        row(200, 200, 403, 403, 403, 403, 403, 403, 401),
    ),
    ("GET", "/api/portal/contact-preferences"): (
        lambda c, t: c.get("/api/portal/contact-preferences"),
        row(403, 403, 403, 403, 403, 403, 403, 200, 401),
    ),
    ("PUT", "/api/portal/contact-preferences"): (
        lambda c, t: c.put(
            "/api/portal/contact-preferences",
            json={"earliest_local": "09:00", "latest_local": "18:00", "channels": ["sms"]},
        ),
        row(403, 403, 403, 403, 403, 403, 403, 200, 401),
    ),
    ("POST", "/api/payments/webhook"): (
        # no payment provider is configured here: nothing can verify a webhook
        lambda c, t: c.post("/api/payments/webhook", content=b'{"id":"evt_forged"}'),
        same(503),
    ),
    ("GET", "/portal/cases/{case_id}"): (
        lambda c, t: c.get(f"/portal/cases/{t.case_a}"),
        row(403, 403, 403, 403, 403, 403, 403, 404, 303),
    ),
    ("GET", "/portal/cases/{case_id}/agreement/print"): (
        lambda c, t: c.get(f"/portal/cases/{t.case_a}/agreement/print"),
        row(403, 403, 403, 403, 403, 403, 403, 404, 303),
    ),
    ("POST", "/portal/cases/{case_id}/plan"): (
        lambda c, t: c.post(
            f"/portal/cases/{t.case_a}/plan", data={"term_months": "6", "csrf_token": t.csrf}
        ),
        row(403, 403, 403, 403, 403, 403, 403, 404, 303),
    ),
    ("POST", "/portal/cases/{case_id}/agreement/sign"): (
        lambda c, t: c.post(
            f"/portal/cases/{t.case_a}/agreement/sign",
            data={"signer_name": "张三", "read_confirmed": "yes", "csrf_token": t.csrf},
        ),
        row(403, 403, 403, 403, 403, 403, 403, 404, 303),
    ),
    ("POST", "/portal/cases/{case_id}/pay"): (
        lambda c, t: c.post(
            f"/portal/cases/{t.case_a}/pay",
            data={"payment_key": "matrix-page-key", "csrf_token": t.csrf},
        ),
        row(403, 403, 403, 403, 403, 403, 403, 404, 303),
    ),
    ("POST", "/portal/cases/{case_id}/dispute"): (
        lambda c, t: c.post(
            f"/portal/cases/{t.case_a}/dispute",
            data={"reason": "这笔欠款我已经还清了", "csrf_token": t.csrf},
        ),
        row(403, 403, 403, 403, 403, 403, 403, 404, 303),
    ),
    ("POST", "/portal/cases/{case_id}/legal-advice"): (
        lambda c, t: c.post(
            f"/portal/cases/{t.case_a}/legal-advice",
            data={"question": "利息是否合法？", "contact_channel": "call", "csrf_token": t.csrf},
        ),
        row(403, 403, 403, 403, 403, 403, 403, 404, 303),
    ),
    ("GET", "/portal/preferences"): (
        lambda c, t: c.get("/portal/preferences"),
        row(403, 403, 403, 403, 403, 403, 403, 200, 303),
    ),
    ("POST", "/portal/preferences"): (
        lambda c, t: c.post(
            "/portal/preferences",
            data={
                "earliest_local": "09:00",
                "latest_local": "18:00",
                "channels": "sms",
                "csrf_token": t.csrf,
            },
        ),
        row(403, 403, 403, 403, 403, 403, 403, 303, 303),
    ),
    ("GET", "/legal-advice"): (
        lambda c, t: c.get("/legal-advice"),
        row(200, 200, 403, 403, 403, 403, 403, 403, 303),
    ),
    ("POST", "/legal-advice/{request_id}/handled"): (
        lambda c, t: c.post(
            "/legal-advice/987654/handled",
            data={"note": "已由合作律所王律师电话解答", "csrf_token": t.csrf},
        ),
        row(404, 404, 403, 403, 403, 403, 403, 403, 303),
    ),
    # the simulated provider's pages: signed-in only, and off unless it is enabled
    ("GET", "/pay/sim/{payment_id}"): (
        lambda c, t: c.get("/pay/sim/sim_unknown"),
        row(404, 404, 404, 404, 404, 404, 404, 404, 303),
    ),
    ("POST", "/pay/sim/{payment_id}/confirm"): (
        lambda c, t: c.post("/pay/sim/sim_unknown/confirm", data={"csrf_token": t.csrf}),
        row(404, 404, 404, 404, 404, 404, 404, 404, 303),
    ),
    ("POST", "/logout"): (  # last: it ends the session
        lambda c, t: c.post("/logout", data={"csrf_token": t.csrf}),
        same(303),
    ),
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route, descending into included routers; mounts as MOUNT."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list) -> None:  # type: ignore[type-arg]
        for route in routes:
            nested = getattr(route, "effective_candidates", None)
            if nested is not None:
                walk(nested())
                continue
            path = route.path
            methods = getattr(route, "methods", None)
            if methods is None:
                found.add(("MOUNT", path))
                continue
            for method in methods - {"HEAD"}:
                found.add((method, path))

    walk(app.routes)
    return found


def test_every_route_is_in_the_matrix() -> None:
    routes = app_routes(create_app())
    assert ("GET", "/api/cases") in routes and ("POST", "/login") in routes
    unlisted = routes - set(MATRIX)
    assert not unlisted, f"routes with no authorisation decision in MATRIX: {sorted(unlisted)}"
    stale = set(MATRIX) - routes
    assert not stale, f"MATRIX lists routes the app no longer has: {sorted(stale)}"


def test_matrix_every_role_every_route(demo_world) -> None:  # type: ignore[no-untyped-def]
    agent_cases = demo_world.cases_of_collector[demo_world.callers[Role.ONLINE_AGENT].collector_id]
    case_a = min(agent_cases - demo_world.debtor_case_ids)
    failures = []
    for role in ROLES:
        api = demo_world.client(role)
        page = demo_world.client(role, cookie=True)
        csrf = demo_world.callers[role].csrf_token if role is not None else "none"
        target = Target(case_a, csrf)
        for (method, path), (send, expected) in MATRIX.items():
            client = api if path.startswith("/api/") else page
            response = send(client, target)
            if response.status_code != expected[role]:
                failures.append(
                    f"{role.value if role else 'anonymous'} {method} {path}: "
                    f"{response.status_code} (expected {expected[role]}) {response.text[:120]}"
                )
    assert not failures, "\n".join(failures)


def test_each_role_sees_exactly_its_scope(demo_world) -> None:  # type: ignore[no-untyped-def]
    world = demo_world
    for role, caller in world.callers.items():
        client = world.client(role)
        response = client.get("/api/cases", params={"limit": 500})
        if role == Role.DEBTOR:
            assert response.status_code == 403
            debts = client.get("/api/portal/debts").json()["items"]
            assert {d["case_id"] for d in debts} == world.debtor_case_ids
            assert world.debtor_case_ids, "the demo debtor has a debt"
            continue
        ids = {item["id"] for item in response.json()["items"]}
        assert response.json()["total"] == len(ids)
        if role in (Role.ADMIN, Role.OPERATIONS_MANAGER, Role.COMPLIANCE_AUDITOR):
            assert ids == world.all_case_ids
        else:
            assert caller.collector_id is not None
            assert ids == world.cases_of_collector[caller.collector_id]
            assert ids, f"{role.value} has cases in the demo"
    agent1 = world.client(Role.ONLINE_AGENT)
    for other in sorted(world.cases_of_collector[world.agent2_collector_id])[:3]:
        assert agent1.get(f"/api/cases/{other}").status_code == 404
        assert (
            agent1.post(
                f"/api/cases/{other}/promises", json={"amount_fen": 100, "due": due()}
            ).status_code
            == 404
        )
