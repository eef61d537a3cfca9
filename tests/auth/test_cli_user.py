"""``debtflow user`` (the sub-app, as the lead registers it) on SQLite and PostgreSQL."""

from __future__ import annotations

from typer.testing import CliRunner

from debtflow.auth import service
from debtflow.cli.common import ready_engine
from debtflow.cli.user import app
from debtflow.db import unit_of_work
from debtflow.models import Collector
from debtflow.models.enums import CollectorKind

runner = CliRunner()


def test_add_list_reset_password_and_errors(database_url):
    engine = ready_engine()
    with unit_of_work(engine) as session:
        session.add(
            Collector(
                code="DESK1",
                name="王坐席",
                kind=CollectorKind.ONLINE_AGENT,
                home_province="浙江",
                home_city="杭州",
            )
        )
    added = runner.invoke(
        app,
        ["add", "agent7", "--role", "online_agent", "--collector", "DESK1"],
        input="a long enough secret\na long enough secret\n",
    )
    assert added.exit_code == 0, added.output
    assert "created user agent7 (online_agent)" in added.output
    boss = runner.invoke(app, ["add", "boss", "--role", "admin", "--password", "boss password 1"])
    assert boss.exit_code == 0, boss.output

    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0 and "agent7" in listed.output and "boss" in listed.output

    bad_role = runner.invoke(app, ["add", "x1", "--role", "wizard", "--password", "p" * 12])
    assert bad_role.exit_code == 2 and "unknown role" in bad_role.output
    no_desk = runner.invoke(app, ["add", "x1", "--role", "field_agent", "--password", "p" * 12])
    assert no_desk.exit_code == 2 and "collector" in no_desk.output
    assert "Traceback" not in no_desk.output
    again = runner.invoke(app, ["add", "boss", "--role", "admin", "--password", "p" * 12])
    assert again.exit_code == 1 and "already exists" in again.output
    # asked for a password only when the user could be created: no prompt for a taken name
    # or a collector code that does not exist
    prompted = runner.invoke(app, ["add", "boss", "--role", "admin"], input="")
    assert prompted.exit_code == 1 and "user 'boss' already exists" in prompted.stderr
    assert "password" not in prompted.stdout
    prompted = runner.invoke(
        app, ["add", "x2", "--role", "online_agent", "--collector", "NOPE"], input=""
    )
    assert prompted.exit_code == 2 and "no collector with code 'NOPE'" in prompted.stderr
    assert "password" not in prompted.stdout

    with unit_of_work(engine) as session:
        for _ in range(service.MAX_FAILED_LOGINS):
            service.sign_in(session, username="agent7", password="wrong")
    with unit_of_work(engine) as session:
        assert (
            service.sign_in(session, username="agent7", password="a long enough secret").user
            is None
        )
    reset = runner.invoke(app, ["reset-password", "agent7", "--password", "another secret 22"])
    assert reset.exit_code == 0 and "lockout lifted" in reset.output
    with unit_of_work(engine) as session:
        assert service.sign_in(session, username="agent7", password="another secret 22").user
    missing = runner.invoke(app, ["reset-password", "ghost", "--password", "another secret 22"])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_add_for_a_debtor_not_on_file_is_refused_in_one_line(database_url):
    refused = runner.invoke(
        app,
        ["add", "d2", "--role", "debtor", "--debtor-id", "99999", "--phone", "13800001112"],
        catch_exceptions=False,
    )
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.strip().splitlines() == [
        "error: no debtor with id 99999; a debtor user signs in for a debtor on file"
    ]
    assert refused.stdout == ""
    with unit_of_work(ready_engine()) as session:
        assert service.list_users(session) == []
