"""`debtflow compliance check --pack NAME` reads one JSON object on stdin."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from debtflow.cli.compliance import app

runner = CliRunner()


def _check(body, *args: str):
    text = body if isinstance(body, str) else json.dumps(body)
    return runner.invoke(app, ["check", *args], input=text)


def test_cn_fourth_connected_call_across_two_parties_is_denied():
    body = {
        "at": "2025-03-04T15:00:00+08:00",
        "debtor_tz": "Asia/Shanghai",
        "channel": "call",
        "target": "debtor",
        "third_party_authorised": False,
        "debtor_unreachable": False,
        "flags": [],
        "history": [
            {
                "at": "2025-03-04T09:00:00+08:00",
                "channel": "call",
                "connected": True,
                "conversation": True,
                "party": "in-house",
            },
            {
                "at": "2025-03-04T01:30:00Z",
                "channel": "ai_voice",
                "connected": True,
                "conversation": False,
                "party": "agency-a",
            },
            {
                "at": "2025-03-04T11:00:00+08:00",
                "channel": "call",
                "connected": True,
                "conversation": False,
                "party": "agency-a",
            },
        ],
    }
    result = _check(body, "--pack", "cn-2025")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "allowed": False,
        "reasons": ["daily_connected_call_limit"],
        "pack_version": "cn-2025.1",
        "next_allowed_at": "2025-03-05T08:00:00+08:00",
    }
    body["history"].pop()
    assert json.loads(_check(body, "--pack", "cn-2025").stdout)["allowed"] is True


def test_defaults_for_optional_fields_use_the_packs_zone():
    result = _check({"at": "2025-06-10T12:30:00Z", "channel": "sms"}, "--pack", "us-regf")
    assert result.exit_code == 0
    # 12:30Z is 08:30 in New York (the us-regf default zone): allowed
    assert json.loads(result.stdout) == {
        "allowed": True,
        "reasons": [],
        "pack_version": "us-regf.2021-11",
        "next_allowed_at": "2025-06-10T08:30:00-04:00",
    }
    early = _check({"at": "2025-06-10T11:30:00Z", "channel": "sms"}, "--pack", "us-regf")
    assert json.loads(early.stdout)["reasons"] == ["quiet_hours"]


def test_flags_give_null_next_allowed_at():
    result = _check(
        {"at": "2025-03-04T10:00:00+08:00", "channel": "visit", "flags": ["do_not_contact"]},
        "--pack",
        "cn-2025",
    )
    assert json.loads(result.stdout) == {
        "allowed": False,
        "reasons": ["do_not_contact"],
        "pack_version": "cn-2025.1",
        "next_allowed_at": None,
    }


def test_third_party_with_script():
    body = {
        "at": "2025-03-04T10:00:00+08:00",
        "channel": "call",
        "target": "third_party",
        "third_party_authorised": True,
        "debtor_unreachable": True,
        "script": "您好，请转告张先生回电，谢谢。",
    }
    assert json.loads(_check(body, "--pack", "cn-2025").stdout)["allowed"] is True
    body["debtor_unreachable"] = False
    assert json.loads(_check(body, "--pack", "cn-2025").stdout)["reasons"] == [
        "third_party_debtor_reachable"
    ]
    body.update(debtor_unreachable=True, third_party_refused=True)
    assert json.loads(_check(body, "--pack", "cn-2025").stdout)["reasons"] == [
        "third_party_refused"
    ]


def test_override_file_tightens_and_loosening_file_is_refused(tmp_path):
    strict = tmp_path / "strict.toml"
    strict.write_text(
        '[override]\nname = "acme"\nbase_pack = "cn-2025"\n'
        '[rules.quiet_hours]\nallowed_until = "20:00"\n'
    )
    body = {"at": "2025-03-04T20:30:00+08:00", "channel": "call"}
    result = _check(body, "--pack", "cn-2025", "--override", str(strict))
    assert json.loads(result.stdout)["pack_version"] == "cn-2025.1+acme"
    assert json.loads(result.stdout)["reasons"] == ["quiet_hours"]
    loose = tmp_path / "loose.toml"
    loose.write_text(
        '[override]\nname = "acme"\nbase_pack = "cn-2025"\n'
        "[rules.daily_connected_calls]\nlimit = 5\n"
    )
    refused = _check(body, "--pack", "cn-2025", "--override", str(loose))
    assert refused.exit_code == 2
    assert "daily_connected_calls" in refused.stderr and "Traceback" not in refused.output


@pytest.mark.parametrize(
    ("stdin", "args", "message"),
    [
        ("not json", ("--pack", "cn-2025"), "not valid JSON"),
        ("[1, 2]", ("--pack", "cn-2025"), "one JSON object"),
        ('{"channel": "call"}', ("--pack", "cn-2025"), "missing field 'at'"),
        (
            '{"at": "2025-03-04T10:00:00", "channel": "call"}',
            ("--pack", "cn-2025"),
            "no UTC offset",
        ),
        ('{"at": "yesterday", "channel": "call"}', ("--pack", "cn-2025"), "ISO-8601"),
        (
            '{"at": "9999-12-31T23:00:00+08:00", "channel": "call"}',
            ("--pack", "cn-2025"),
            "at: '9999-12-31T23:00:00+08:00' is outside the years 1970–2999",
        ),
        (
            '{"at": "0001-01-01T00:00:00+08:00", "channel": "call"}',
            ("--pack", "us-regf"),
            "outside the years 1970–2999",
        ),
        (
            '{"at": "2025-03-04T10:00:00Z", "channel": "call",'
            ' "history": [{"at": "1969-12-31T23:59:59Z", "channel": "call"}]}',
            ("--pack", "cn-2025"),
            "history[0].at: '1969-12-31T23:59:59Z' is outside the years",
        ),
        (
            '{"at": "2025-03-04T10:00:00Z", "channel": "call",'
            ' "cooling_off_until": "3000-01-01T00:00:00Z"}',
            ("--pack", "cn-2025"),
            "cooling_off_until: '3000-01-01T00:00:00Z' is outside the years",
        ),
        ('{"at": "2025-03-04T10:00:00Z", "channel": "fax"}', ("--pack", "cn-2025"), "'fax'"),
        (
            '{"at": "2025-03-04T10:00:00Z", "channel": "call", "debtor_tz": "Mars/Base"}',
            ("--pack", "cn-2025"),
            "unknown IANA",
        ),
        (
            '{"at": "2025-03-04T10:00:00Z", "channel": "call", "flags": ["vip"]}',
            ("--pack", "cn-2025"),
            "known flags",
        ),
        (
            '{"at": "2025-03-04T10:00:00Z", "channel": "call", "debtor_unreachable": "yes"}',
            ("--pack", "cn-2025"),
            "true or false",
        ),
        (
            '{"at": "2025-03-04T10:00:00Z", "channel": "call", "history": [{"channel": "call"}]}',
            ("--pack", "cn-2025"),
            "history[0]: missing field 'at'",
        ),
        (
            '{"at": "2025-03-04T10:00:00Z", "channel": "call", "history": {}}',
            ("--pack", "cn-2025"),
            "history",
        ),
        (
            '{"at": "2025-03-04T10:00:00Z", "channel": "call", "colour": "red"}',
            ("--pack", "cn-2025"),
            "unknown field",
        ),
        (
            '{"at": "2025-03-04T10:00:00Z", "channel": "call"}',
            ("--pack", "xx-9"),
            "unknown rule pack",
        ),
    ],
)
def test_malformed_input_exits_2_with_a_clear_message(stdin, args, message):
    result = runner.invoke(app, ["check", *args], input=stdin, catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_moments_at_the_edges_of_the_accepted_years_are_decided():
    for at in ("1970-01-01T00:00:00+00:00", "2999-12-31T23:00:00-12:00"):
        result = _check({"at": at, "channel": "sms"}, "--pack", "cn-2025")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["pack_version"].startswith("cn-2025")


def test_missing_override_file_exits_2(tmp_path):
    result = _check(
        '{"at": "2025-03-04T10:00:00Z", "channel": "call"}',
        "--pack",
        "cn-2025",
        "--override",
        str(tmp_path / "absent.toml"),
    )
    assert result.exit_code == 2 and "cannot read override file" in result.stderr


def test_override_file_that_is_not_utf8_exits_2_and_a_bom_is_accepted(tmp_path):
    body = '{"at": "2025-03-04T20:30:00+08:00", "channel": "call"}'
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe x")
    result = _check(body, "--pack", "cn-2025", "--override", str(binary))
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and "is not UTF-8" in result.stderr
    assert str(binary) in result.stderr and result.stdout == ""
    with_bom = tmp_path / "bom.toml"
    with_bom.write_bytes(
        b"\xef\xbb\xbf" + b'[override]\nname = "acme"\nbase_pack = "cn-2025"\n'
        b'[rules.quiet_hours]\nallowed_until = "20:00"\n'
    )
    result = _check(body, "--pack", "cn-2025", "--override", str(with_bom))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reasons"] == ["quiet_hours"]


def test_packs_lists_shipped_packs():
    result = runner.invoke(app, ["packs"])
    assert result.exit_code == 0
    assert "cn-2025\tcn-2025.1\tCN" in result.stdout and "us-regf" in result.stdout
