"""The dashboard page and API through the app (SQLite and PostgreSQL): known rows show
their figures and charts; an empty database shows "no data"; other roles are refused."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.auth.deps import SESSION_COOKIE
from debtflow.db import get_engine, unit_of_work
from debtflow.migrate import upgrade
from debtflow.models import Collector, Role
from debtflow.models.enums import CollectorKind
from report.book import Book

PERIOD = {"since": "2026-11-01", "until": "2026-11-30"}
API_PERIOD = {"since": "2026-11-01T00:00:00+08:00", "until": "2026-12-01T00:00:00+08:00"}


def _signed_in(role: Role, username: str) -> tuple[TestClient, TestClient]:
    with unit_of_work() as session:
        collector_id = None
        if role is Role.ONLINE_AGENT:
            collector = Collector(
                code=f"C-{username}",
                name=username,
                kind=CollectorKind.ONLINE_AGENT,
                home_province="北京",
                home_city="北京",
            )
            session.add(collector)
            session.flush()
            collector_id = collector.id
        user = auth_service.create_user(
            session,
            username=username,
            role=role,
            password="debtflow-demo-pw",
            collector_id=collector_id,
        )
        token, _web = auth_service.start_session(session, user=user)
        api_token = auth_service.issue_api_token(session, user=user)
    page = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    page.cookies.set(SESSION_COOKIE, token)
    api = TestClient(create_app(), base_url="https://testserver")
    api.headers["Authorization"] = f"Bearer {api_token}"
    return page, api


@pytest.fixture
def app_db(database_url: str) -> str:
    upgrade(get_engine())
    return database_url


def test_empty_database_page_says_no_data(app_db: str) -> None:
    page, api = _signed_in(Role.OPERATIONS_MANAGER, "manager")
    response = page.get("/dashboard")
    assert response.status_code == 200
    assert 'id="no-data"' in response.text and "暂无数据" in response.text
    assert "<svg" in response.text  # the empty charts say so too
    page.cookies.set("lang", "en")
    english = page.get("/dashboard")
    assert "No data" in english.text and "Recovery rate" in english.text
    board = api.get("/api/reports/dashboard").json()
    assert board["overall"]["recovery_rate"] is None
    assert board["by_collector"] == [] and len(board["daily_collected"]) in (30, 31)


def test_known_rows_show_their_figures_and_charts(app_db: str) -> None:
    with unit_of_work() as session:
        book = Book(session)
        k1_name = book.k1.name
        creditor_a = book.a.creditor.id
    page, api = _signed_in(Role.COMPLIANCE_AUDITOR, "auditor")
    response = page.get("/dashboard", params=PERIOD)
    assert response.status_code == 200
    html = response.text
    assert 'id="no-data"' not in html
    assert "9.8%" in html  # recovery 40,000 / 410,000
    assert "66.7%" in html  # promises kept 2 of 3, and contacts allowed 4 of 6
    assert "37.5" not in html and ">38 <small>" in html  # median response, whole minutes
    assert k1_name in html
    for section in ("by-collector", "by-segment", "by-creditor", "rolls", "daily"):
        assert f'id="{section}"' in html
    charts = [c for c in html.split("<svg")[1:]]
    assert len(charts) >= 8
    for chart in charts:  # each SVG is well-formed XML
        ET.fromstring("<svg" + chart.split("</svg>")[0] + "</svg>")
    only_a = page.get("/dashboard", params={**PERIOD, "creditor_id": creditor_a})
    assert only_a.status_code == 200 and "20.0%" in only_a.text

    board = api.get("/api/reports/dashboard", params=API_PERIOD).json()
    assert board["overall"]["recovery_bp"] == 976
    assert board["overall"]["contacts_denied"] == 2
    assert board["overall"]["denials_overridden"] == 1
    assert board["overall"]["response_minutes_median"] == pytest.approx(37.5)
    assert board["roll_rates"][0]["roll_rate"]["M1"] == pytest.approx(0.5)
    assert {r["label"] for r in board["by_collector"]} >= {k1_name}


def test_other_roles_and_bad_input_are_refused(app_db: str) -> None:
    page, api = _signed_in(Role.ONLINE_AGENT, "agent9")
    assert page.get("/dashboard").status_code == 403
    assert api.get("/api/reports/dashboard").status_code == 403
    anonymous = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    assert anonymous.get("/dashboard").headers["location"].startswith("/login")
    assert anonymous.get("/api/reports/dashboard").status_code == 401
    page, api = _signed_in(Role.ADMIN, "admin9")
    assert api.get("/api/reports/dashboard", params={"creditor_id": 424242}).status_code == 404
    backwards = {"since": API_PERIOD["until"], "until": API_PERIOD["since"]}
    assert api.get("/api/reports/dashboard", params=backwards).status_code == 422
    naive = {"since": "2026-11-01T00:00:00", "until": "2026-11-02T00:00:00"}
    assert api.get("/api/reports/dashboard", params=naive).status_code == 422
    assert (
        page.get("/dashboard", params={"since": "2026-12-01", "until": "2026-11-01"}).status_code
        == 422
    )
    assert page.get("/dashboard", params={"since": "0001-01-01"}).status_code == 422
    # the last days the inputs allow are a period like any other (its end falls in 3000)
    last = page.get("/dashboard", params={"since": "2999-12-01", "until": "2999-12-31"})
    assert last.status_code == 200, last.text
    beyond = {"since": "2999-12-31T00:00:00+08:00", "until": "3000-01-02T00:00:00+08:00"}
    assert api.get("/api/reports/dashboard", params=beyond).status_code == 422
