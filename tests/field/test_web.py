"""The field app through HTTP: JSON API and phone pages on a fresh database (SQLite and
PostgreSQL), with the clock of the routes fixed at 10:00 on the route's day."""

from __future__ import annotations

import hashlib
import html as html_module
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.auth.deps import SESSION_COOKIE
from debtflow.compliance import service as compliance_service
from debtflow.db import get_engine, unit_of_work
from debtflow.field import api as field_api
from debtflow.field import pages as field_pages
from debtflow.migrate import upgrade
from debtflow.models import ContactDecision, FieldCheckin
from field.world import DAY, HOME, at, make_field_world

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8


@dataclass
class Site:
    case_id: int
    debtor_id: int
    field_collector_id: int
    tokens: dict[str, str]
    sessions: dict[str, tuple[str, str]]

    def api(self, who: str) -> TestClient:
        client = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
        client.headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return client

    def browser(self, who: str) -> tuple[TestClient, str]:
        client = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
        token, csrf = self.sessions[who]
        client.cookies.set(SESSION_COOKIE, token)
        return client, csrf


@pytest.fixture
def site(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    upgrade(get_engine())
    monkeypatch.setattr(field_api, "utcnow", lambda: at(10))
    monkeypatch.setattr(field_pages, "utcnow", lambda: at(10))
    monkeypatch.setattr(field_pages, "business_today", lambda: DAY)
    with unit_of_work() as session:
        world = make_field_world(session)
        world.route(session, collector=world.field, case_ids=[world.case.id])
        people = {
            "field": world.field_user,
            "other": world.other_field_user,
            "manager": world.manager,
            "auditor": world.auditor,
        }
        tokens = {k: auth_service.issue_api_token(session, user=u) for k, u in people.items()}
        sessions = {}
        for key, user in people.items():
            token, web_session = auth_service.start_session(session, user=user)
            sessions[key] = (token, web_session.csrf_token)
        found = Site(world.case.id, world.debtor.id, world.field.id, tokens, sessions)
    yield found


def count(model) -> int:
    with unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_check_in_outcome_and_photo_through_the_api(site):
    field = site.api("field")
    checked = field.post(
        f"/api/field/stops/{site.case_id}/checkin",
        json={"latitude": HOME[0] + 0.01, "longitude": HOME[1], "accuracy_m": 30},
    )
    assert checked.status_code == 201, checked.text
    body = checked.json()
    assert body["latitude_micro"] == 30_284_100 and body["far"] is True
    assert body["distance_m"] == 1112
    photo = field.post(
        f"/api/field/stops/{site.case_id}/files",
        files={"file": ("door.jpg", JPEG, "image/jpeg")},
    )
    assert photo.status_code == 201, photo.text
    assert photo.json()["sha256"] == hashlib.sha256(JPEG).hexdigest()
    done = field.post(
        f"/api/field/stops/{site.case_id}/outcome",
        json={"outcome": "promise", "promise_amount_fen": 30_000, "promise_due": "2026-11-27"},
    )
    assert done.status_code == 201, done.text
    assert done.json()["outcome"] == "promise" and done.json()["promise_id"] is not None
    route = site.api("manager").get(
        "/api/field/route", params={"day": DAY.isoformat(), "collector_id": site.field_collector_id}
    )
    assert route.status_code == 200
    (stop,) = route.json()["stops"]
    assert stop["debtor_name"] == "王*明" and stop["files"] == 1
    assert stop["checkin"]["outcome"] == "promise"
    assert route.json()["map"]["polyline"]


def test_denied_visit_answers_the_reasons_and_keeps_only_the_decision(site):
    with unit_of_work() as session:
        compliance_service.set_restriction(
            session,
            debtor_id=site.debtor_id,
            flag="dispute",
            reason="debtor disputes the amount",
            set_by="compliance",
            now=at(8),
        )
    refused = site.api("field").post(
        f"/api/field/stops/{site.case_id}/checkin",
        json={"latitude": HOME[0], "longitude": HOME[1], "accuracy_m": 10},
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "visit_not_permitted"
    assert any("dispute" in r for r in refused.json()["reasons"])
    assert count(FieldCheckin) == 0
    assert count(ContactDecision) == 1


def test_refusals_over_http(site):
    field = site.api("field")
    no_checkin = field.post(
        f"/api/field/stops/{site.case_id}/outcome", json={"outcome": "not_home"}
    )
    assert no_checkin.status_code == 409 and no_checkin.json()["error"] == "checkin_required"
    early_file = field.post(
        f"/api/field/stops/{site.case_id}/files", files={"file": ("door.jpg", JPEG, "image/jpeg")}
    )
    assert early_file.status_code == 409
    assert early_file.json()["error"] == "checkin_required_for_upload"
    assert "before uploading" in early_file.json()["detail"]
    other = site.api("other").post(
        f"/api/field/stops/{site.case_id}/checkin",
        json={"latitude": HOME[0], "longitude": HOME[1], "accuracy_m": 10},
    )
    assert other.status_code == 404
    assert (
        site.api("other")
        .get("/api/field/route", params={"collector_id": site.field_collector_id})
        .status_code
        == 404
    )
    auditor = site.api("auditor").post(
        f"/api/field/stops/{site.case_id}/checkin",
        json={"latitude": HOME[0], "longitude": HOME[1], "accuracy_m": 10},
    )
    assert auditor.status_code == 403
    bad = field.post(
        f"/api/field/stops/{site.case_id}/checkin",
        json={"latitude": 95, "longitude": HOME[1], "accuracy_m": 10},
    )
    assert bad.status_code == 422
    field.post(
        f"/api/field/stops/{site.case_id}/checkin",
        json={"latitude": HOME[0], "longitude": HOME[1], "accuracy_m": 10},
    )
    too_big = field.post(
        f"/api/field/stops/{site.case_id}/files",
        files={"file": ("big.jpg", JPEG + bytes(20 * 1024 * 1024), "image/jpeg")},
    )
    assert too_big.status_code == 413 and "20 MB" in too_big.json()["detail"]
    wrong = field.post(
        f"/api/field/stops/{site.case_id}/files",
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )
    assert wrong.status_code == 415
    empty = field.post(
        f"/api/field/stops/{site.case_id}/files",
        files={"file": ("door.jpg", b"", "image/jpeg")},
    )
    assert empty.status_code == 422 and empty.json()["error"] == "empty_file"
    request = site.api("manager").post(
        "/api/field/requests", json={"case_id": site.case_id, "reason": "   "}
    )
    assert request.status_code == 422


def test_route_page_list_and_map_and_outcome_form(site):
    browser, csrf = site.browser("field")
    page = browser.get("/field", params={"day": DAY.isoformat()})
    assert page.status_code == 200
    html = page.text
    assert "王*明" in html and "王小明" not in html
    assert "浙江杭州西湖区文三路1号" in html
    svg = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "<polyline" in svg and "<circle" in svg
    assert "<image" not in svg and 'href="http' not in svg  # drawn here, no map tiles
    assert "8,123.45" in html  # the balance
    assert f'data-case-id="{site.case_id}"' in html  # the check-in button
    assert "/static/field.js" in html
    # the outcome form is refused before a check-in, with the message on the page
    refused = browser.post(
        f"/field/stops/{site.case_id}/outcome", data={"outcome": "not_home", "csrf_token": csrf}
    )
    assert refused.status_code == 409 and "check in" in refused.text
    assert "请先在债务人地址签到" in refused.text, "said in the page's language"
    early_file = browser.post(
        f"/field/stops/{site.case_id}/files",
        data={"csrf_token": csrf},
        files={"file": ("door.jpg", JPEG, "image/jpeg")},
    )
    assert early_file.status_code == 409
    assert "请先在债务人地址签到，再上传照片或录音。" in early_file.text, "about the upload"
    assert "再记录外访结果" not in early_file.text
    forged = browser.post(
        f"/field/stops/{site.case_id}/outcome", data={"outcome": "not_home", "csrf_token": "x"}
    )
    assert forged.status_code == 403
    # field.js posts the position to the JSON API with the session cookie and CSRF header
    payload = {"latitude": HOME[0], "longitude": HOME[1], "accuracy_m": 8}
    without_token = browser.post(f"/api/field/stops/{site.case_id}/checkin", json=payload)
    assert without_token.status_code == 403
    checked = browser.post(
        f"/api/field/stops/{site.case_id}/checkin", json=payload, headers={"X-CSRF-Token": csrf}
    )
    assert checked.status_code == 201, checked.text
    assert count(FieldCheckin) == 1
    saved = browser.post(
        f"/field/stops/{site.case_id}/outcome",
        data={"outcome": "met_debtor", "note": "同意下周来电", "csrf_token": csrf},
    )
    assert saved.status_code == 303
    empty = browser.post(
        f"/field/stops/{site.case_id}/files",
        data={"csrf_token": csrf},
        files={"file": ("door.jpg", b"", "image/jpeg")},
    )
    assert empty.status_code == 422 and "文件是空的" in empty.text
    assert "不支持该文件类型" not in empty.text
    uploaded = browser.post(
        f"/field/stops/{site.case_id}/files",
        data={"csrf_token": csrf},
        files={"file": ("door.jpg", JPEG, "image/jpeg")},
    )
    assert uploaded.status_code == 303
    after = browser.get("/field", params={"day": DAY.isoformat()}).text
    assert "同意下周来电" in after and "见到债务人" in after


def test_manager_picks_an_agent_and_reads_without_acting(site):
    browser, _ = site.browser("manager")
    picker = browser.get("/field")
    assert picker.status_code == 200 and 'name="collector_id"' in picker.text
    page = browser.get(
        "/field", params={"day": DAY.isoformat(), "collector_id": site.field_collector_id}
    )
    assert page.status_code == 200
    assert "王*明" in page.text
    assert 'class="field-checkin"' not in page.text
    assert 'action="/field/stops/' not in page.text


@pytest.mark.parametrize(
    ("lang", "outcome", "party", "reason"),
    [("zh", "承诺还款", "自营", "休息时间"), ("en", "promise to pay", "in-house", "quiet")],
)
def test_a_visits_outcome_and_the_gates_reasons_are_worded(site, lang, outcome, party, reason):
    """The case page words a field visit's outcome (not "promise"), the party and direction;
    the field app hands field.js the gate's reason codes in words, for a refused check-in."""
    from debtflow.web.i18n import catalog

    field = site.api("field")
    checked = field.post(
        f"/api/field/stops/{site.case_id}/checkin",
        json={"latitude": HOME[0], "longitude": HOME[1], "accuracy_m": 10},
    )
    assert checked.status_code == 201, checked.text
    done = field.post(
        f"/api/field/stops/{site.case_id}/outcome",
        json={"outcome": "promise", "promise_amount_fen": 30_000, "promise_due": "2026-11-27"},
    )
    assert done.status_code == 201, done.text
    manager, _csrf = site.browser("manager")
    manager.cookies.set("lang", lang)
    html = manager.get(f"/cases/{site.case_id}").text
    contacts = html[html.index('id="contacts"') :]
    contacts = contacts[: contacts.index("</section>")]
    (row,) = re.findall(r"<tr data-attempt=\"\d+\">(.*?)</tr>", contacts, re.S)
    assert f"<td>{outcome}</td>" in row and "<td>promise</td>" not in row
    assert party in row and catalog(lang)["direction.outbound"] in row
    if lang == "zh":
        assert "in-house" not in row and "outbound" not in row

    browser, _csrf = site.browser("field")
    browser.cookies.set("lang", lang)
    page = browser.get("/field", params={"day": DAY.isoformat()}).text
    found = re.search(r"data-reason-words='([^']*)'", page)
    assert found is not None
    words = json.loads(html_module.unescape(found.group(1)))
    assert words["quiet_hours"] == catalog(lang)["gate.quiet_hours"]
    assert reason in words["quiet_hours"].lower()
