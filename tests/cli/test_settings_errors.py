"""A setting that cannot be used is one line naming it and exit 2, never a traceback: checked
once before any command (the console script's root) and wherever a command meets it."""

from __future__ import annotations

import base64

import pytest
from typer.testing import CliRunner

from debtflow.cli import creditor
from debtflow.cli.main import app
from debtflow.config import get_settings
from debtflow.db import get_engine
from factories import portfolio_rows, write_portfolio

runner = CliRunner()
KEY = base64.b64encode(b"k" * 32).decode()
INDEX = base64.b64encode(b"i" * 32).decode()


def refused(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert result.stdout == ""


@pytest.fixture
def settings_env(monkeypatch):
    """Set environment variables for one invocation; settings and engine re-read after."""
    with monkeypatch.context() as patch:

        def set_env(**values: str) -> None:
            for name, value in values.items():
                patch.setenv(name, value)
            get_settings.cache_clear()
            get_engine.cache_clear()

        yield set_env
    get_settings.cache_clear()
    get_engine.cache_clear()


BAD_SETTINGS = [
    (
        {"DEBTFLOW_PII_KEYS": f"k1:{KEY}"},
        "DEBTFLOW_PII_KEYS",
        "set both DEBTFLOW_PII_KEYS and DEBTFLOW_PII_INDEX_KEY",
    ),
    (
        {
            "DEBTFLOW_PII_KEYS": f"k1:{KEY}",
            "DEBTFLOW_PII_INDEX_KEY": INDEX,
            "DEBTFLOW_PII_CURRENT_KEY": "k2",
        },
        "DEBTFLOW_PII_CURRENT_KEY",
        "current key 'k2' is not in the key ring",
    ),
    ({"DEBTFLOW_DEFAULT_TIMEZONE": "Mars/X"}, "DEBTFLOW_DEFAULT_TIMEZONE", "'Mars/X' is not"),
    ({"DEBTFLOW_BUCKET_EDGES": "[30,20]"}, "DEBTFLOW_BUCKET_EDGES", "strictly increasing"),
    ({"DEBTFLOW_BUCKET_EDGES": "thirty"}, "DEBTFLOW_BUCKET_EDGES", "cannot be read"),
    ({"DEBTFLOW_DATABASE_URL": "bogus://x"}, "DEBTFLOW_DATABASE_URL", "unknown kind"),
    ({"DEBTFLOW_DATABASE_URL": "not a url"}, "DEBTFLOW_DATABASE_URL", "not a database URL"),
]


@pytest.mark.parametrize(("values", "setting", "reason"), BAD_SETTINGS)
def test_a_bad_setting_is_one_line_naming_it_before_any_command(
    database_url, settings_env, monkeypatch, values, setting, reason
):
    def served(*args, **kwargs):
        raise AssertionError("served with a bad setting")

    monkeypatch.setattr("uvicorn.run", served)
    settings_env(**values)
    # a command with no database of its own is refused too: the root checks first
    for args in (("creditor", "list"), ("serve", "--port", "8000"), ("db", "upgrade")):
        refused(runner.invoke(app, list(args), catch_exceptions=False), setting, reason)
    # a command group run on its own turns the error into the same line
    refused(runner.invoke(creditor.app, ["list"], catch_exceptions=False), setting, reason)


def test_a_database_file_that_is_not_sqlite_is_one_line(database_url, settings_env, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_bytes(b"these are not the tables you are looking for\n" * 200)
    settings_env(DEBTFLOW_DATABASE_URL=f"sqlite:///{junk}")
    for invoked in (
        runner.invoke(app, ["creditor", "list"], catch_exceptions=False),
        runner.invoke(app, ["demo", "--cases", "5", "--no-serve"], catch_exceptions=False),
    ):
        refused(invoked, "DEBTFLOW_DATABASE_URL", str(junk), "file is not a database")


def test_a_key_ring_without_the_key_that_sealed_stored_values_is_one_line(
    database_url, settings_env, tmp_path
):
    assert runner.invoke(app, ["creditor", "add", "BANK1", "第一银行"]).exit_code == 0
    path = write_portfolio(tmp_path / "p.csv", portfolio_rows(count=2))
    imported = runner.invoke(app, ["portfolio", "import", str(path), "--creditor", "BANK1"])
    assert imported.exit_code == 0, imported.output
    # production keys set, but the values were sealed under the development key file
    settings_env(DEBTFLOW_PII_KEYS=f"k9:{KEY}", DEBTFLOW_PII_INDEX_KEY=INDEX)
    result = runner.invoke(app, ["compliance", "rotate-pii-key"], catch_exceptions=False)
    refused(result, "stored personal data does not open", "not in the key ring", "PII_KEYS")


def test_a_broken_rules_file_stops_the_night_with_one_line(database_url, tmp_path, settings_env):
    """An operator's segmentation file whose first rule lost its conditions would put every
    case in one segment: the night refuses it, saying which rule."""
    rules = tmp_path / "segments.toml"
    rules.write_text(
        'version = "mine"\n[[rules]]\nname = "everyone"\nsegment = "potential"\n'
        'reasons = ["X"]\n[reasons.X]\nen = "x"\nzh = "x"\n'
        '[[rules]]\nname = "rest"\nsegment = "risk"\nreasons = ["X"]\n',
        encoding="utf-8",
    )
    settings_env(DEBTFLOW_SEGMENTATION_RULES=str(rules))
    refused(
        runner.invoke(app, ["nightly"]),
        "invalid setting DEBTFLOW_SEGMENTATION_RULES",
        "rule 1 (everyone) has no conditions",
    )
    settings_env(DEBTFLOW_SEGMENTATION_RULES=str(tmp_path))  # a folder, not a file
    refused(runner.invoke(app, ["nightly"]), "DEBTFLOW_SEGMENTATION_RULES", "cannot be read")


def test_an_experiment_file_that_is_not_utf8_is_one_line_naming_the_setting(
    database_url, tmp_path, settings_env
):
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe x")
    settings_env(DEBTFLOW_STRATEGY_EXPERIMENT=str(binary))
    for args in (["nightly"], ["strategy", "experiment-report"]):
        refused(
            runner.invoke(app, args),
            "invalid setting DEBTFLOW_STRATEGY_EXPERIMENT",
            str(binary),
            "not UTF-8",
        )
    settings_env(DEBTFLOW_STRATEGY_EXPERIMENT=str(tmp_path))  # a folder, not a file
    refused(runner.invoke(app, ["nightly"]), "DEBTFLOW_STRATEGY_EXPERIMENT", "cannot be read")
