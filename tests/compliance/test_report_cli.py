"""``debtflow compliance-report report`` against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from compliance.world import make_world
from debtflow.cli.compliance_report import app
from debtflow.contact import service
from debtflow.db import get_engine
from debtflow.migrate import upgrade

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_report_prints_counts_per_collector_party_and_rule(database_url):
    upgrade(get_engine())
    with Session(get_engine()) as session:
        world = make_world(session)
        for hour, party in ((9, "in-house"), (23, "agency-a")):
            when = datetime(2026, 11, 20, hour, tzinfo=SHANGHAI)
            service.request_contact(
                session,
                case_id=world.case.id,
                channel="call",
                planned_at=when,
                collecting_party=party,
                requested_by=f"{party}-agent",
                now=when,
            )
        session.commit()
    runner = CliRunner()
    result = runner.invoke(
        app, ["report", "--since", "2026-11-20", "--until", "2026-11-20", "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [(r["key"], r["denied"]) for r in body["by_party"]] == [
        ("agency-a", 1),
        ("in-house", 0),
    ]
    assert body["by_rule"] == [{"reason": "quiet_hours", "denials": 1, "overridden": 0}]
    table = runner.invoke(app, ["report", "--since", "2026-11-20", "--until", "2026-11-20"])
    assert table.exit_code == 0 and "quiet_hours" in table.stdout
    empty = runner.invoke(app, ["report", "--since", "2026-11-21", "--until", "2026-11-21"])
    assert empty.exit_code == 0 and "quiet_hours" not in empty.stdout


def test_report_refuses_bad_days(database_url):
    runner = CliRunner()
    bad = runner.invoke(app, ["report", "--since", "20-11-2026", "--until", "2026-11-20"])
    assert bad.exit_code == 2 and "is not a date" in bad.stderr
    backwards = runner.invoke(app, ["report", "--since", "2026-11-21", "--until", "2026-11-20"])
    assert backwards.exit_code == 2 and "before --since" in backwards.stderr
    assert "Traceback" not in bad.output + backwards.output


def test_delete_records_says_whether_and_deletes_only_when_allowed(database_url):
    from debtflow.cli.main import app as debtflow

    upgrade(get_engine())
    with Session(get_engine()) as session:
        kept = make_world(session, tag="K")
        now = datetime.now(SHANGHAI)
        service.request_contact(
            session,
            case_id=kept.case.id,
            channel="sms",
            planned_at=now,
            collecting_party="in-house",
            requested_by="agent-1",
            now=now,
        )
        quiet = make_world(session, tag="Q")  # never contacted
        session.commit()
        kept_id, quiet_id = kept.debtor.id, quiet.debtor.id
    runner = CliRunner()
    recent = runner.invoke(debtflow, ["compliance", "delete-records", str(kept_id), "--apply"])
    assert recent.exit_code == 1, recent.output
    assert "kept: the retention period has not passed" in recent.stdout
    assert str(now.year + 2) in recent.stdout  # two years under the Chinese pack
    as_json = runner.invoke(debtflow, ["compliance", "delete-records", str(kept_id), "--json"])
    body = json.loads(as_json.stdout)
    assert body["verdict"] == "keep_retention_period" and body["applied"] is False
    dry = runner.invoke(debtflow, ["compliance", "delete-records", str(quiet_id)])
    assert dry.exit_code == 0 and "run again with --apply" in dry.stdout
    done = runner.invoke(debtflow, ["compliance", "delete-records", str(quiet_id), "--apply"])
    assert done.exit_code == 0 and "deleted:" in done.stdout
    unknown = runner.invoke(debtflow, ["compliance", "delete-records", "999999"])
    assert unknown.exit_code == 2 and "has no cases" in unknown.stderr
    with Session(get_engine()) as session:
        from debtflow.models import ContactDecision

        assert session.scalar(select(func.count()).select_from(ContactDecision)) == 1
