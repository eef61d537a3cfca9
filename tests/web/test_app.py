from fastapi.testclient import TestClient
from typer.testing import CliRunner

from debtflow.app import create_app
from debtflow.cli.main import app as cli


def test_health_cases_api_and_case_page(database_url):
    assert CliRunner().invoke(cli, ["demo", "--cases", "40", "--no-serve"]).exit_code == 0
    client = TestClient(create_app())
    assert client.get("/api/health").json()["status"] == "ok"

    page = client.get("/api/cases", params={"limit": 10})
    assert page.status_code == 200
    body = page.json()
    assert body["total"] >= 38 and len(body["items"]) == 10
    first = body["items"][0]
    assert {"id", "bucket", "days_past_due", "outstanding_fen", "status"} <= set(first)
    assert client.get(f"/api/cases/{first['id']}").json()["id"] == first["id"]

    missing = client.get("/api/cases/999999")
    assert missing.status_code == 404 and "does not exist" in missing.json()["detail"]
    assert client.get("/api/cases", params={"limit": 0}).status_code == 422

    html = client.get("/cases", params={"bucket": first["bucket"]})
    assert html.status_code == 200
    assert "案件列表" in html.text and first["bucket"] in html.text
    assert client.get("/static/debtflow.css").status_code == 200
