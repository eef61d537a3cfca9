"""The compliance report through the API says what `compliance report --json` says,
deny rate included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from debtflow.models import Role


def test_the_api_report_carries_the_deny_rate(demo_world):
    agent = demo_world.client(Role.ONLINE_AGENT)
    case_id = min(demo_world.cases_of_collector[demo_world.callers[Role.ONLINE_AGENT].collector_id])
    now = datetime.now(UTC)
    for _ in range(2):
        asked = agent.post(
            f"/api/cases/{case_id}/contact-decisions",
            json={"channel": "call", "planned_at": now.isoformat()},
        )
        assert asked.status_code == 201, asked.text
    report = demo_world.client(Role.OPERATIONS_MANAGER).get(
        "/api/compliance/report",
        params={
            "since": (now - timedelta(days=1)).isoformat(),
            "until": (now + timedelta(days=1)).isoformat(),
        },
    )
    assert report.status_code == 200, report.text
    rows = report.json()["by_collector"] + report.json()["by_party"]
    assert rows and sum(r["decisions"] for r in report.json()["by_collector"]) >= 2
    for row in rows:
        assert row["deny_rate"] == (row["denied"] / row["decisions"] if row["decisions"] else 0)
