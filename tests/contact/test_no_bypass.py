"""No route and no service writes a contact attempt without a gate decision.

1. Every module of the debtflow package is parsed: the only code that creates a
   ContactAttempt (constructor, insert(), bulk inserts, raw SQL) is
   ``debtflow.contact.repository.add_attempt``; the only caller of that is
   ``debtflow.contact.service.log_contact``, which asks the gate (``permit_attempt``) first.
2. Every route of the web app (with the contact and compliance routers) is enumerated; the
   only one that logs a contact calls ``log_contact``, and through HTTP it refuses an
   unknown decision and a denied one.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

import debtflow
from compliance.world import make_world
from debtflow.app import create_app
from debtflow.auth import service as auth_service
from debtflow.compliance import api as compliance_api
from debtflow.contact import api as contact_api
from debtflow.db import get_engine
from debtflow.migrate import upgrade
from debtflow.models import Role

PACKAGE = Path(debtflow.__file__).parent
RAW_INSERT = re.compile(r"insert\s+into\s+\"?contact_attempt\b", re.IGNORECASE)
BULK_WRITERS = {"insert", "bulk_insert_mappings", "bulk_save_objects", "insert_many"}


def _modules() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts)
        if ".migrations." in name:  # migrations move existing rows, they serve no contact
            continue
        found.append((name, ast.parse(path.read_text(encoding="utf-8"))))
    return found


def _functions(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _writes_attempt(node: ast.AST) -> bool:
    if isinstance(node, ast.Call):
        called = _name(node.func)
        if called == "ContactAttempt":
            return True
        if called in BULK_WRITERS and any(_name(arg) == "ContactAttempt" for arg in node.args):
            return True
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        return _name(node.value) == "ContactAttempt"
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(RAW_INSERT.search(node.value))
    return False


def _places(predicate) -> set[tuple[str, str]]:
    places = set()
    for module, tree in _modules():
        for function in _functions(tree):
            if any(predicate(node) for node in ast.walk(function)):
                places.add((module, function.name))
        # module level too (a write outside any function would be a bypass)
        top = [n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.ClassDef)]
        if any(predicate(node) for stmt in top for node in ast.walk(stmt)):
            places.add((module, "<module>"))
    return places


def test_only_the_contact_repository_creates_contact_attempts():
    assert _places(_writes_attempt) == {("debtflow.contact.repository", "add_attempt")}


def test_only_log_contact_calls_add_attempt_and_it_asks_the_gate_first():
    callers = _places(lambda node: isinstance(node, ast.Call) and _name(node.func) == "add_attempt")
    assert callers == {("debtflow.contact.service", "log_contact")}
    from debtflow.contact import service

    body = ast.parse(textwrap.dedent(inspect.getsource(service.log_contact)))
    calls = [_name(node.func) for node in ast.walk(body) if isinstance(node, ast.Call)]
    assert "permit_attempt" in calls
    assert calls.index("permit_attempt") < calls.index("add_attempt")


def api_routes(routes, prefix: str = "") -> list[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, also inside included routers (FastAPI 0.165
    keeps an included router as one lazy entry holding the original router)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            inner = prefix + getattr(context, "prefix", "")
            found.extend(api_routes(route.original_router.routes, inner))
        else:
            assert not hasattr(route, "endpoint") or route.path.startswith(
                ("/openapi", "/api/docs", "/docs", "/redoc")
            ), f"route {route} is not enumerated"
    return found


def _app():
    app = create_app()
    paths = {path for path, _ in api_routes(app.routes)}
    for router in (contact_api.router, compliance_api.router):
        if not {route.path for route in router.routes} <= paths:
            app.include_router(router)
    return app


def _called_names(function) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return {_name(node.func) or "" for node in ast.walk(tree) if isinstance(node, ast.Call)}


def test_every_route_is_enumerated_and_only_one_logs_contacts():
    routes = api_routes(_app().routes)
    paths = {path for path, _ in routes}
    assert {"/api/cases", "/api/health", "/api/cases/{case_id}/contact-decisions"} <= paths
    logging_routes = set()
    for path, route in routes:
        called = _called_names(route.endpoint)
        assert "add_attempt" not in called and "ContactAttempt" not in called, path
        if "log_contact" in called:
            logging_routes.update(f"{method} {path}" for method in route.methods)
    assert logging_routes == {"POST /api/contact-decisions/{decision_id}/contacts"}


def test_contact_logging_route_refuses_unknown_and_denied_decisions(database_url):
    upgrade(get_engine())
    with Session(get_engine()) as session:
        world = make_world(session)
        supervisor = auth_service.create_user(
            session, username="supervisor", password="long enough password", role=Role.ADMIN
        )
        token = auth_service.issue_api_token(session, user=supervisor)
        session.commit()
        case_id = world.case.id
    anonymous = TestClient(_app())
    assert anonymous.get(f"/api/cases/{case_id}/contacts").status_code == 401
    client = TestClient(_app(), headers={"Authorization": f"Bearer {token}"})
    late = datetime(2099, 11, 20, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")).isoformat()
    missing = client.post(
        "/api/contact-decisions/424242/contacts", json={"attempted_at": late, "connected": True}
    )
    assert missing.status_code == 404
    decision = client.post(
        f"/api/cases/{case_id}/contact-decisions",
        json={"channel": "call", "planned_at": late},
    )
    assert decision.status_code == 201
    body = decision.json()
    assert body["allowed"] is False and body["reasons"] == ["quiet_hours"]
    refused = client.post(
        f"/api/contact-decisions/{body['id']}/contacts",
        json={"attempted_at": late, "connected": True},
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "contact_not_permitted"
    assert client.get(f"/api/cases/{case_id}/contacts").json() == []
