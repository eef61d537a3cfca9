"""The `debtflow` command end to end, on a fresh SQLite and PostgreSQL database."""

from __future__ import annotations

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

from debtflow.cli.common import business_today
from debtflow.cli.main import app
from debtflow.config import get_settings
from debtflow.db import get_engine
from debtflow.models import Account, BucketTransition, Case, CaseStatusChange
from factories import portfolio_rows, write_portfolio

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def assert_refused(result, code: int, *fragments: str) -> None:
    """Refused as the CLI refuses: the exit status, one ``error:`` line on stderr naming
    the fault, nothing on stdout, no traceback."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert result.stdout == ""


def table_counts():
    with get_engine().connect() as connection:
        return tuple(
            connection.scalar(select(func.count()).select_from(m))
            for m in (Account, Case, BucketTransition)
        )


def test_bad_file_lists_errors_exits_non_zero_and_changes_nothing(database_url, tmp_path):
    assert invoke("creditor", "add", "BANK1", "第一银行").exit_code == 0
    good = write_portfolio(tmp_path / "good.csv", portfolio_rows(count=5))
    assert invoke("portfolio", "import", str(good), "--creditor", "BANK1").exit_code == 0
    before = table_counts()

    rows = portfolio_rows(count=4, start=100)
    rows[0]["phone"] = "12345"
    rows[2]["original_amount"] = "lots"
    bad = write_portfolio(tmp_path / "bad.csv", rows)
    result = invoke("portfolio", "import", str(bad), "--creditor", "BANK1")
    assert result.exit_code == 1
    assert "row 2, column phone" in result.output
    assert "row 4, column original_amount" in result.output
    assert "nothing was imported" in result.output
    assert table_counts() == before


def test_an_amount_too_large_for_the_database_is_a_bad_row_in_dry_run_and_real_import(
    database_url, tmp_path
):
    invoke("creditor", "add", "BANK1", "第一银行")
    rows = portfolio_rows(count=3)
    rows[1]["principal"] = "99999999999999999999.99"
    path = write_portfolio(tmp_path / "huge.csv", rows)
    for extra in (("--dry-run",), ()):
        result = invoke("portfolio", "import", str(path), "--creditor", "BANK1", *extra)
        assert result.exit_code == 1, result.output
        assert "row 3, column principal: amount 99999999999999999999.99 is more than" in (
            result.stderr
        )
        assert "nothing was imported" in result.stderr
    assert table_counts() == (0, 0, 0)
    skipped = invoke("portfolio", "import", str(path), "--creditor", "BANK1", "--skip-invalid")
    assert skipped.exit_code == 0, skipped.output
    assert table_counts()[0] == 2


def test_skip_invalid_and_dry_run(database_url, tmp_path):
    invoke("creditor", "add", "BANK1", "第一银行")
    rows = portfolio_rows(count=4)
    rows[1]["id_number"] = "123"
    path = write_portfolio(tmp_path / "mixed.csv", rows)
    dry = invoke(
        "portfolio", "import", str(path), "--creditor", "BANK1", "--dry-run", "--skip-invalid"
    )
    assert dry.exit_code == 0 and "dry run" in dry.output
    assert table_counts()[0] == 0
    real = invoke("portfolio", "import", str(path), "--creditor", "BANK1", "--skip-invalid")
    assert real.exit_code == 0
    assert table_counts()[0] == 3
    assert (tmp_path / "mixed.rejects.csv").exists()


def test_skip_invalid_with_rejects_in_a_missing_folder_is_refused_up_front(database_url, tmp_path):
    invoke("creditor", "add", "BANK1", "第一银行")
    rows = portfolio_rows(count=4)
    rows[1]["id_number"] = "123"
    path = write_portfolio(tmp_path / "mixed.csv", rows)
    rejects = tmp_path / "nonexistent" / "dir" / "rej.csv"
    result = invoke(
        "portfolio", "import", str(path), "--creditor", "BANK1", "--skip-invalid",
        "--rejects", str(rejects),
    )  # fmt: skip
    assert_refused(
        result, 2, f"cannot write rejected rows to {rejects}", "does not exist", "nothing was"
    )
    assert table_counts() == (0, 0, 0)


def test_rejects_onto_the_portfolio_file_itself_is_refused_up_front(database_url, tmp_path):
    invoke("creditor", "add", "BANK1", "第一银行")
    rows = portfolio_rows(count=4)
    rows[1]["id_number"] = "123"
    path = write_portfolio(tmp_path / "mixed.csv", rows)
    original = path.read_bytes()
    for extra in ((), ("--dry-run",)):
        result = invoke(
            "portfolio", "import", str(path), "--creditor", "BANK1", "--skip-invalid",
            "--rejects", str(tmp_path / "." / "mixed.csv"), *extra,
        )  # fmt: skip
        assert_refused(result, 2, "it is the portfolio file", "overwrite", "nothing was")
    assert table_counts() == (0, 0, 0)
    assert path.read_bytes() == original


def test_nightly_twice_changes_nothing_the_second_time(database_url, tmp_path):
    invoke("creditor", "add", "BANK1", "第一银行")
    invoke(
        "portfolio",
        "import",
        str(write_portfolio(tmp_path / "p.csv", portfolio_rows(count=20))),
        "--creditor",
        "BANK1",
    )
    first = invoke("nightly", "--as-of", "2026-11-20")
    assert first.exit_code == 0
    after_first = table_counts()
    second = invoke("nightly", "--as-of", "2026-11-20")
    assert second.exit_code == 0
    assert "changes written: 0" in second.output
    assert table_counts() == after_first


def test_nightly_refuses_a_date_after_today_and_later_runs_still_work(database_url, tmp_path):
    invoke("creditor", "add", "BANK1", "第一银行")
    path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=5))
    assert invoke("portfolio", "import", str(path), "--creditor", "BANK1").exit_code == 0
    before = table_counts()
    tomorrow = business_today() + timedelta(days=1)
    for day in (tomorrow, date(2099, 1, 1)):
        refused = invoke("nightly", "--as-of", day.isoformat())
        assert_refused(refused, 2, f"cannot age the portfolio for {day}", "after today")
    assert table_counts() == before
    today = invoke("nightly")
    assert today.exit_code == 0, today.output
    assert "already aged" not in today.output


def test_creditor_add_keeps_the_pack_unless_named_and_refuses_an_unknown_one(database_url):
    assert invoke("creditor", "add", "X1", "Foo", "--pack", "us-regf").exit_code == 0
    assert invoke("creditor", "add", "X1", "Foo Renamed").exit_code == 0
    listed = invoke("creditor", "list").stdout
    assert "Foo Renamed" in listed and "us-regf" in listed and "cn-2025" not in listed
    refused = invoke("creditor", "add", "X1", "Foo Again", "--pack", "nope")
    assert_refused(refused, 2, "unknown compliance pack 'nope'", "cn-2025, us-regf")
    listed = invoke("creditor", "list").stdout
    assert "Foo Renamed" in listed and "us-regf" in listed and "Foo Again" not in listed


def test_usage_errors_are_readable(database_url, tmp_path):
    invoke("creditor", "add", "BANK1", "第一银行")
    missing = invoke("portfolio", "import", str(tmp_path / "nope.csv"), "--creditor", "BANK1")
    assert missing.exit_code == 2 and "no such file" in missing.output
    unknown = invoke(
        "portfolio",
        "import",
        str(write_portfolio(tmp_path / "p.csv", portfolio_rows(count=1))),
        "--creditor",
        "NOPE",
    )
    assert unknown.exit_code == 2 and "unknown creditor" in unknown.output
    bad_date = invoke("nightly", "--as-of", "yesterday")
    assert bad_date.exit_code == 2 and "not a date" in bad_date.output
    bad_move = invoke("case", "move", "1", "flying")
    assert bad_move.exit_code == 2 and "unknown status" in bad_move.output


def test_case_move_refuses_illegal_transition(database_url, tmp_path):
    invoke("creditor", "add", "BANK1", "第一银行")
    invoke(
        "portfolio",
        "import",
        str(write_portfolio(tmp_path / "p.csv", portfolio_rows(count=1))),
        "--creditor",
        "BANK1",
    )
    assert invoke("case", "move", "1", "settled").exit_code == 0
    refused = invoke("case", "move", "1", "active")
    assert refused.exit_code == 1
    assert "cannot move case from settled to active" in refused.output
    assert "settled" in invoke("case", "show", "1").output


def test_case_show_prints_status_changes_in_the_business_time_zone(
    database_url, tmp_path, monkeypatch
):
    invoke("creditor", "add", "BANK1", "第一银行")
    path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=1))
    invoke("portfolio", "import", str(path), "--creditor", "BANK1")
    assert invoke("case", "move", "1", "settled").exit_code == 0
    with get_engine().connect() as connection:
        changed_at = connection.scalar(select(CaseStatusChange.changed_at))
    for zone in ("Asia/Shanghai", "America/New_York"):
        monkeypatch.setenv("DEBTFLOW_DEFAULT_TIMEZONE", zone)
        get_settings.cache_clear()
        local = changed_at.astimezone(ZoneInfo(zone))
        shown = invoke("case", "show", "1")
        assert shown.exit_code == 0, shown.output
        assert f"{local:%Y-%m-%d %H:%M} {zone} new → settled by cli" in shown.stdout


def test_serve_refuses_a_port_out_of_range_before_touching_the_database(database_url, monkeypatch):
    def served(*args, **kwargs):
        raise AssertionError(f"served on port {kwargs.get('port')}")

    monkeypatch.setattr("uvicorn.run", served)  # a regression fails here instead of serving
    for port in ("99999", "65536", "-1"):
        refused = invoke("serve", "--port", port)
        assert_refused(refused, 2, f"--port must be 1–65535 (or 0: any free port), not {port}")
    assert_refused(invoke("serve", "--workers", "0"), 2, "--workers must be at least 1")
    refused = invoke("demo", "--cases", "30", "--port", "99999")
    assert_refused(refused, 2, "--port must be 1–65535")
    assert not inspect(get_engine()).has_table("account")  # not even migrated


def test_demo_builds_summarises_and_does_not_serve_with_no_serve(database_url):
    result = invoke("demo", "--cases", "60", "--seed", "3", "--no-serve")
    assert result.exit_code == 0, result.output
    assert "open cases per bucket" in result.output
    assert "online_agent" in result.output and "field_agent" in result.output
    assert table_counts()[0] == 60
    refused = invoke("demo", "--cases", "60", "--no-serve")
    assert refused.exit_code == 1 and "--reset" in refused.output
    assert invoke("demo", "--cases", "30", "--no-serve", "--reset").exit_code == 0
    assert table_counts()[0] == 30


def _csv_bytes(rows, encodings):
    """A CSV of ``rows`` whose lines (header first) are encoded one by one."""
    columns = sorted({k for r in rows for k in r})
    lines = [",".join(columns)] + [",".join(r.get(c, "") for c in columns) for r in rows]
    return b"".join((line + "\r\n").encode(e) for line, e in zip(lines, encodings, strict=True))


def test_files_mixing_utf8_and_gbk_are_refused_naming_the_line(database_url, tmp_path):
    assert invoke("creditor", "add", "BANK1", "第一银行").exit_code == 0
    rows = portfolio_rows(count=4)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + _csv_bytes(rows, ["utf-8", "utf-8", "utf-8", "gbk", "utf-8"]))
    assert_refused(
        invoke("portfolio", "import", str(bom), "--creditor", "BANK1"), 2, "line 4", "offset"
    )
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes(_csv_bytes(rows, ["utf-8", "utf-8", "gbk", "gbk", "utf-8"]))
    assert_refused(
        invoke("portfolio", "import", str(mixed), "--creditor", "BANK1"), 2, "line 3", "mixes"
    )
    assert table_counts() == (0, 0, 0)

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(_csv_bytes(rows, ["gbk"] * 5))
    result = invoke("portfolio", "import", str(gbk), "--creditor", "BANK1")
    assert result.exit_code == 0
    assert "encoding: gbk" in result.stdout


DAYS_OUT_OF_RANGE = [
    (("compliance", "report", "--since", "2026-01-01", "--until", "9999-12-31"), "--until"),
    (("compliance", "report", "--since", "0001-01-01", "--until", "2026-01-01"), "--since"),
    (("dispatch", "metrics", "--day", "0001-01-01"), "--day"),
    (("dispatch", "routes", "--day", "3000-01-01"), "--day"),
    (("nightly", "--as-of", "1969-12-31"), "--as-of"),
    (("strategy", "experiment-report", "--until", "9999-12-31"), "--until"),
]


def test_a_day_outside_the_platforms_years_is_refused_by_every_command(database_url):
    for args, option in DAYS_OUT_OF_RANGE:
        day = args[args.index(option) + 1]
        assert_refused(invoke(*args), 2, f"{option} {day} is outside the years 1970–2999")
    for first, last in (("1970-01-01", "1970-01-01"), ("2999-12-31", "2999-12-31")):
        edge = invoke("compliance", "report", "--since", first, "--until", last, "--json")
        assert edge.exit_code == 0, edge.output


def test_compliance_report_json_gives_the_period_in_iso_8601(database_url):
    result = invoke(
        "compliance", "report", "--since", "2026-11-01", "--until", "2026-11-30", "--json"
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert (answer["since"], answer["until"]) == (
        "2026-11-01T00:00:00+08:00",
        "2026-12-01T00:00:00+08:00",
    )
