"""`debtflow dispatch explain | override | assign | metrics | routes` through the CLI."""

from __future__ import annotations

from sqlalchemy import select, update
from typer.testing import CliRunner

from debtflow.cli.dispatch_ops import app
from debtflow.collector import service as collector_service
from debtflow.db import unit_of_work
from debtflow.demo.collectors import generate_collectors
from debtflow.migrate import upgrade
from debtflow.models import Case, Collector
from debtflow.nightly import service as nightly
from debtflow.portfolio import service as portfolio_service
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio

runner = CliRunner()


def build(tmp_path):
    from debtflow.db import get_engine

    upgrade(get_engine())
    with unit_of_work() as session:
        make_creditor(session)
        path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=12, seed=2))
        portfolio_service.import_portfolio(
            session, path=path, creditor_code="TESTBANK", today=TODAY
        )
        collector_service.save_many(session, specs=generate_collectors(cases=240, seed=3))
        session.flush()
        nightly.run(session, as_of=TODAY)
        return session.scalars(select(Case.id).order_by(Case.id)).all()


def test_commands_on_a_dispatched_portfolio(database_url, tmp_path):
    case_ids = build(tmp_path)
    result = runner.invoke(app, ["explain", str(case_ids[0]), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "runner-up:" in result.output and "expected value" in result.output

    with unit_of_work() as session:
        holder = session.get(Collector, session.get(Case, case_ids[0]).assigned_collector_id)
        target = "ON0001" if holder.code != "ON0001" else "ON0002"  # someone else
    result = runner.invoke(app, ["override", str(case_ids[0]), target, "--reason", "dialect"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["explain", str(case_ids[0]), "--lang", "en"])
    assert "override by cli: dialect" in result.output

    with unit_of_work() as session:
        session.execute(
            update(Case).where(Case.id == case_ids[1]).values(assigned_collector_id=None)
        )
    result = runner.invoke(app, ["assign", str(case_ids[1])])
    assert result.exit_code == 0, result.output
    assert "ms)" in result.output

    result = runner.invoke(app, ["metrics"])
    assert result.exit_code == 0, result.output
    assert "match accuracy" in result.output


def test_bad_input_is_one_line_on_stderr(database_url, tmp_path):
    case_ids = build(tmp_path)
    result = runner.invoke(app, ["explain", "999999"])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.output
    result = runner.invoke(app, ["override", str(case_ids[0]), "NOPE", "--reason", "x"])
    assert result.exit_code == 2 and "NOPE" in result.stderr
    result = runner.invoke(app, ["override", str(case_ids[0]), "ON0002", "--reason", " "])
    assert result.exit_code == 2 and "reason" in result.stderr
    result = runner.invoke(app, ["assign", str(case_ids[0])])
    assert result.exit_code == 1 and "already" in result.stderr
    result = runner.invoke(app, ["routes", "--day", "not-a-day"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["routes", "--day", "2020-01-01"])
    assert result.exit_code == 1 and "no route" in result.stderr


def test_an_override_onto_a_full_collector_needs_over_capacity(database_url, tmp_path):
    case_ids = build(tmp_path)
    with unit_of_work() as session:
        session.execute(
            update(Collector).where(Collector.code == "ON0002").values(capacity_hours_week=0)
        )
        case_id = session.scalars(
            select(Case.id)
            .join(Collector, Collector.id == Case.assigned_collector_id)
            .where(Collector.code != "ON0002", Case.id.in_(case_ids))
            .order_by(Case.id)
        ).first()
    args = ["override", str(case_id), "ON0002", "--reason", "dialect"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "capacity 0" in result.stderr
    result = runner.invoke(app, [*args, "--over-capacity"])
    assert result.exit_code == 0, result.output
    with unit_of_work() as session:
        assert (
            session.get(Case, case_id).assigned_collector_id
            == session.scalars(select(Collector.id).where(Collector.code == "ON0002")).one()
        )
