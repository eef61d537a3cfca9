"""A page's optional query values (SQLite and PostgreSQL): an empty one — what a filter form
sends for "all" or a field left blank, and what its next-page link carries — reads as if it
were not sent, on every page; a value that is there is still checked."""

from __future__ import annotations

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.auth.deps import SESSION_COOKIE
from debtflow.db import get_engine, unit_of_work
from debtflow.migrate import upgrade
from debtflow.models import Role

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def admin(database_url: str) -> TestClient:
    """An admin signed in to an empty database."""
    upgrade(get_engine())
    with unit_of_work() as session:
        user = auth_service.create_user(
            session, username="filters", role=Role.ADMIN, password="debtflow-demo-pw"
        )
        token, _web = auth_service.start_session(session, user=user)
    client = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, token)
    return client


def _params(dependant: Dependant, kind: str) -> list[str]:
    """The names of a route's ``kind`` parameters, its dependencies' included."""
    names = [p.alias for p in getattr(dependant, kind)]
    for sub in dependant.dependencies:
        names += _params(sub, kind)
    return names


def _page_routes_with_query_values(client: TestClient) -> list[tuple[str, list[str]]]:
    found = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        if route.path == "/api" or route.path.startswith("/api/"):
            continue
        names = _params(route.dependant, "query_params")
        if names:
            path = route.path.format(**dict.fromkeys(_params(route.dependant, "path_params"), "1"))
            found.append((path, names))
    return found


def test_every_page_reads_an_empty_query_value_as_absent(admin: TestClient) -> None:
    routes = _page_routes_with_query_values(admin)
    paths = {path for path, _ in routes}
    assert {"/cases", "/cases/1", "/dashboard", "/call-alerts", "/field"} <= paths
    for path, names in routes:
        answer = admin.get(path, params={name: "" for name in names}, headers=HTML)
        assert answer.status_code != 422, (path, answer.text)


@pytest.mark.parametrize(
    ("path", "empty"),
    [
        ("/cases", {"bucket": "", "status": "", "page": ""}),
        ("/dashboard", {"creditor_id": "", "since": "", "until": ""}),
        ("/call-alerts", {"status": "", "severity": "", "case_id": ""}),
        ("/field", {"day": "", "collector_id": ""}),
    ],
)
def test_an_empty_filter_shows_what_no_filter_shows(
    admin: TestClient, path: str, empty: dict[str, str]
) -> None:
    plain = admin.get(path, headers=HTML)
    assert plain.status_code == 200
    answer = admin.get(path, params=empty, headers=HTML)
    assert answer.status_code == 200 and answer.text == plain.text


@pytest.mark.parametrize(
    "target",
    [
        "/cases?status=nonsense",
        "/cases?page=0",
        "/cases?page=x",
        "/call-alerts?status=all&severity=loud",
        "/call-alerts?case_id=0",
        "/dashboard?creditor_id=-1",
        "/dashboard?since=2026-13-01",
        "/field?collector_id=abc",
    ],
)
def test_a_value_that_is_there_is_still_checked(admin: TestClient, target: str) -> None:
    assert admin.get(target, headers=HTML).status_code == 422
