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
