from fastapi.testclient import TestClient

from debtflow.app import create_app
from debtflow.models import Role


def test_health_is_public_cases_need_a_token(demo_world):
    client = TestClient(create_app(), base_url="https://testserver")
    assert client.get("/api/health").json()["status"] == "ok"
    assert client.get("/api/cases").status_code == 401
    assert client.get("/api/cases").headers["www-authenticate"] == "Bearer"

    manager = demo_world.client(Role.OPERATIONS_MANAGER)
    page = manager.get("/api/cases", params={"limit": 10})
    assert page.status_code == 200
    body = page.json()
    assert body["total"] >= 38 and len(body["items"]) == 10
    first = body["items"][0]
    assert {"id", "bucket", "days_past_due", "outstanding_fen", "status"} <= set(first)
    assert manager.get(f"/api/cases/{first['id']}").json()["id"] == first["id"]

    # past PostgreSQL's INTEGER (SQLite's are 64-bit: simply not found), past 64 bits
    assert manager.get("/api/cases/99999999999").status_code in (404, 422)
    too_big = manager.get(f"/api/cases/{2**64 + 1}")
    assert too_big.status_code == 422 and too_big.json()["error"] == "invalid_input"
    missing = manager.get("/api/cases/999999")
    assert missing.status_code == 404 and "does not exist" in missing.json()["detail"]
    assert manager.get("/api/cases", params={"limit": 0}).status_code == 422

    html = demo_world.client(Role.OPERATIONS_MANAGER, cookie=True).get(
        "/cases", params={"bucket": first["bucket"]}
    )
    assert html.status_code == 200
    assert "全部案件" in html.text and first["bucket"] in html.text
    assert client.get("/static/debtflow.css").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/auth/token" in spec["paths"] and "/cases" not in spec["paths"]


def test_anonymous_callers_are_refused_before_their_input_is_checked(demo_world):
    """The sign-in checks run in the request's thread (``debtflow.web.routing``), but an
    anonymous caller is refused where FastAPI called them before: ahead of the validation
    of parameters and bodies, so it learns nothing about them and a browser is sent to the
    sign-in page rather than shown a validation error."""
    client = TestClient(create_app(), base_url="https://testserver", follow_redirects=False)
    assert client.get("/api/cases", params={"limit": 0}).status_code == 401
    assert client.get("/api/cases/not-a-number").status_code == 401
    posted = client.post("/api/cases/1/contact-decisions", json={"channel": 12})
    assert posted.status_code == 401 and posted.headers["www-authenticate"] == "Bearer"
    page = client.get("/cases", params={"page": 0})
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    assert client.get("/cases/not-a-number").status_code == 303
    # a token that is no longer valid is refused too (its check reads the database)
    stale = {"Authorization": "Bearer no-such-token"}
    assert client.get("/api/cases", headers=stale).status_code == 401
    client.cookies.set("debtflow_session", "no-such")
    assert client.get("/cases").status_code == 303
