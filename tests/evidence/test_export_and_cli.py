"""Export → offline verify round trip from a real database, and the CLI's exit codes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from debtflow import evidence
from debtflow.cli.evidence import app
from debtflow.db import get_engine, unit_of_work
from debtflow.migrate import upgrade
from debtflow.models import Account, Case
from debtflow.payment import service as payment_service
from debtflow.portfolio import service as portfolio_service
from debtflow.promise import service as promise_service
from debtflow.verify import main as verify_main
from factories import TODAY, make_creditor, portfolio_rows, write_portfolio

runner = CliRunner()
T0 = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)


@pytest.fixture
def demo_case(database_url, tmp_path) -> int:
    """Two imported cases; the first with a promise, a payment and a call recording."""
    upgrade(get_engine())
    with unit_of_work() as session:
        make_creditor(session)
        path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=2, seed=3))
        portfolio_service.import_portfolio(
            session, path=path, creditor_code="TESTBANK", today=TODAY
        )
        accounts = session.scalars(select(Account).order_by(Account.id)).all()
        case_id = accounts[0].case_id
        promise_service.record(
            session, case_id=case_id, amount_fen=80_000, due=date(2026, 11, 28), made_on=TODAY
        )
        evidence.append(
            session,
            kind="recording",
            case_id=case_id,
            occurred_at=T0,
            payload={"seconds": 184, "agent": "A-12"},
            files=[evidence.AttachedFile(b"RIFF\x00\x01WAVE recorded call", "audio/wav")],
        )
        payment_service.book(
            session,
            account_id=accounts[0].id,
            amount_fen=20_000,
            paid_at=T0 + timedelta(days=1),
            reference="BANK-1",
        )
        other = accounts[1].case_id
        promise_service.record(
            session, case_id=other, amount_fen=1_000, due=date(2026, 11, 30), made_on=TODAY
        )
        assert session.get(Case, case_id) is not None
    return case_id


def test_an_exported_case_verifies_offline_and_any_flipped_byte_is_named(
    demo_case, tmp_path, capsys
):
    out = tmp_path / "case.zip"
    result = runner.invoke(app, ["export", str(demo_case), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert verify_main([str(out)]) == 0
    assert "VALID" in capsys.readouterr().out
    package = out.read_bytes()
    for position in (40, len(package) // 3, len(package) // 2, len(package) - 30):
        broken = bytearray(package)
        broken[position] ^= 0x01
        damaged = tmp_path / f"broken-{position}.zip"
        damaged.write_bytes(bytes(broken))
        assert verify_main([str(damaged)]) == 1
        report = capsys.readouterr().out
        assert "INVALID" in report
        assert "  - " in report  # one line per problem, naming what broke


def test_export_reuses_a_covering_head_and_signs_one_when_needed(demo_case, tmp_path):
    assert runner.invoke(app, ["head"]).exit_code == 0
    first = runner.invoke(app, ["export", str(demo_case), "--out", str(tmp_path / "a.zip")])
    second = runner.invoke(app, ["export", str(demo_case), "--out", str(tmp_path / "b.zip")])
    assert first.exit_code == second.exit_code == 0
    with unit_of_work() as session:
        heads = session.execute(text("SELECT count(*) FROM evidence_tree_head")).scalar()
        assert heads == 1
        evidence.append(session, kind="message", case_id=demo_case, occurred_at=T0, payload={})
    assert (
        runner.invoke(app, ["export", str(demo_case), "--out", str(tmp_path / "c.zip")]).exit_code
        == 0
    )
    with unit_of_work() as session:
        assert session.execute(text("SELECT count(*) FROM evidence_tree_head")).scalar() == 2
    assert verify_main([str(tmp_path / "c.zip")]) == 0


def test_cli_audit_is_clean_then_reports_tampering(demo_case, drop_guards):
    clean = runner.invoke(app, ["audit"])
    assert clean.exit_code == 0, clean.output
    assert "audit clean" in clean.output
    with unit_of_work() as session:
        drop_guards(session)
        session.execute(
            text("UPDATE evidence_leaf SET canonical_bytes = :v WHERE idx = 1"), {"v": b"{}"}
        )
    tampered = runner.invoke(app, ["audit"])
    assert tampered.exit_code == 1
    as_json = runner.invoke(app, ["audit", "--json", "--skip-files"])
    assert as_json.exit_code == 1
    assert '"clean": false' in as_json.output and "leaf #1" in as_json.output
    assert "leaf #1: stored leaf hash" in tampered.output
    assert "audit found" in tampered.output


def test_cli_audit_reports_leaf_bytes_rewritten_as_text_as_tampering(demo_case, drop_guards):
    with unit_of_work() as session:
        drop_guards(session)
        session.execute(
            text("UPDATE evidence_leaf SET canonical_bytes = :v WHERE idx = 1"), {"v": "{}"}
        )
    tampered = runner.invoke(app, ["audit"], catch_exceptions=False)
    assert tampered.exit_code == 1, tampered.output
    assert "TAMPERED leaf #1: stored" in tampered.stderr
    assert "error: audit found" in tampered.stderr
    assert "Traceback" not in tampered.output


def test_cli_head_and_key_rotation(demo_case):
    head = runner.invoke(app, ["head"])
    assert head.exit_code == 0 and "signed tree head #1" in head.output
    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    listing = runner.invoke(app, ["keys", "list"])
    assert listing.exit_code == 0
    assert listing.output.count("retired") == 1 and listing.output.count("active") == 1
    assert runner.invoke(app, ["audit"]).exit_code == 0


def test_cli_usage_errors_exit_2(demo_case, tmp_path):
    missing = runner.invoke(app, ["export", "999999", "--out", str(tmp_path / "x.zip")])
    assert missing.exit_code == 2 and "no evidence" in missing.output
    no_dir = runner.invoke(app, ["export", str(demo_case), "--out", str(tmp_path / "no/x.zip")])
    assert no_dir.exit_code == 2 and "does not exist" in no_dir.output
    is_dir = runner.invoke(app, ["export", str(demo_case), "--out", str(tmp_path)])
    assert is_dir.exit_code == 2
    assert runner.invoke(app, ["export", "abc", "--out", "x.zip"]).exit_code == 2
    assert runner.invoke(app, ["export", str(demo_case)]).exit_code == 2
    assert not Path(tmp_path / "x.zip").exists()
