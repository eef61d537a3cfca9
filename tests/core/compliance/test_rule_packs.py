"""Shipped packs, holidays, and creditor overrides that tighten but never loosen."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time

import pytest

from debtflow.core.compliance.gate import evaluate, history_days_needed
from debtflow.core.compliance.reasons import ReasonCode
from debtflow.core.compliance.rule_pack import (
    PackError,
    PackLoosenedError,
    apply_override,
    load_pack,
    shipped_pack_names,
)


def _override(body: str, base: str = "cn-2025") -> dict:
    return tomllib.loads(f'[override]\nname = "acme"\nbase_pack = "{base}"\n{body}')


def test_shipped_packs_load_with_sources(cn_pack, us_pack):
    assert {"cn-2025", "us-regf"} <= set(shipped_pack_names())
    assert cn_pack.quiet_hours.allowed_from == time(
        8
    ) and cn_pack.quiet_hours.allowed_until == time(22)
    assert cn_pack.daily_connected_calls.limit == 3
    assert us_pack.quiet_hours.allowed_until == time(21)
    assert (us_pack.seven_day_calls.limit, us_pack.seven_day_calls.days) == (7, 7)
    assert us_pack.post_conversation.days == 7
    assert (cn_pack.retention_years, us_pack.retention_years) == (2, 3)
    for pack in (cn_pack, us_pack):
        rules = [
            pack.quiet_hours,
            pack.daily_connected_calls,
            pack.seven_day_calls,
            pack.post_conversation,
            pack.holidays,
            pack.third_party,
            pack.stop_flags,
        ]
        assert all(rule.source.strip() for rule in rules if rule is not None)
    assert history_days_needed(cn_pack) == 1 and history_days_needed(us_pack) == 7


def test_unknown_pack_names_the_shipped_ones():
    with pytest.raises(PackError, match="cn-2025, us-regf"):
        load_pack("xx-1999")


def test_holidays_block_only_when_enabled(cn_pack, make_intent):
    national_day = make_intent("2025-10-01T10:00:00+08:00")
    assert evaluate(national_day, [], cn_pack).allowed
    strict = apply_override(cn_pack, _override("[rules.holidays]\nenabled = true\n"))
    decision = evaluate(national_day, [], strict)
    assert decision.reasons == (ReasonCode.PUBLIC_HOLIDAY,)
    assert decision.next_allowed_at == datetime.fromisoformat("2025-10-09T08:00:00+08:00")
    assert decision.pack_version == "cn-2025.1+acme"
    assert evaluate(make_intent("2025-10-09T08:00:00+08:00"), [], strict).allowed
    # the local date decides: 23:30Z on 8 October is 07:30 on 9 October in Beijing
    early = evaluate(make_intent("2025-10-08T15:59:59+00:00"), [], strict)
    assert set(early.reasons) == {ReasonCode.PUBLIC_HOLIDAY, ReasonCode.QUIET_HOURS}


def test_override_can_add_holiday_dates(cn_pack, make_intent):
    strict = apply_override(
        cn_pack, _override("[rules.holidays]\nenabled = true\ndates = [2025-03-04]\n")
    )
    assert date(2025, 10, 1) in strict.holidays.dates
    decision = evaluate(make_intent("2025-03-04T10:00:00+08:00"), [], strict)
    assert decision.reasons == (ReasonCode.PUBLIC_HOLIDAY,)


@pytest.mark.parametrize(
    ("body", "at", "allowed"),
    [
        ('[rules.quiet_hours]\nallowed_until = "21:00"\n', "2025-03-04T21:00:00+08:00", False),
        ('[rules.quiet_hours]\nallowed_until = "21:00"\n', "2025-03-04T20:59:59+08:00", True),
        ('[rules.quiet_hours]\nallowed_from = "09:00"\n', "2025-03-04T08:30:00+08:00", False),
        ("[rules.daily_connected_calls]\nlimit = 2\n", "2025-03-04T15:00:00+08:00", False),
        ("[rules.daily_connected_calls]\nlimit = 3\n", "2025-03-04T15:00:00+08:00", True),
        # a rule the base pack lacks may be added whole
        (
            '[rules.seven_day_calls]\nlimit = 5\ndays = 7\nchannels = ["call"]\n'
            'source = "policy"\n',
            "2025-03-04T15:00:00+08:00",
            True,
        ),
    ],
)
def test_tightening_overrides_apply(cn_pack, make_intent, make_record, body, at, allowed):
    pack = apply_override(cn_pack, _override(body))
    history = [make_record(f"2025-03-04T{h}:00:00+08:00") for h in ("09", "10")]
    assert evaluate(make_intent(at), history, pack).allowed is allowed


@pytest.mark.parametrize(
    ("base", "body", "rule", "words"),
    [
        ("cn-2025", '[rules.quiet_hours]\nallowed_from = "07:30"\n', "quiet_hours", "earlier"),
        ("cn-2025", '[rules.quiet_hours]\nallowed_until = "22:30"\n', "quiet_hours", "later"),
        ("cn-2025", '[rules.quiet_hours]\nchannels = ["call"]\n', "quiet_hours", "drops"),
        ("cn-2025", "[rules.daily_connected_calls]\nlimit = 4\n", "daily_connected_calls", "more"),
        ("cn-2025", "[rules.third_party]\nrequires_authorisation = false\n", "third_party", "off"),
        (
            "cn-2025",
            "[rules.third_party]\nrequires_debtor_unreachable = false\n",
            "third_party",
            "off",
        ),
        ("us-regf", "[rules.seven_day_calls]\nlimit = 8\n", "seven_day_calls", "more"),
        ("us-regf", "[rules.seven_day_calls]\ndays = 6\n", "seven_day_calls", "less"),
        ("us-regf", "[rules.post_conversation]\ndays = 5\n", "post_conversation", "less"),
        ("us-regf", "retention_years = 1\n", "retention_years", "less"),
    ],
)
def test_loosening_override_fails_naming_the_rule(base, body, rule, words):
    with pytest.raises(PackLoosenedError, match=words) as caught:
        apply_override(load_pack(base), _override(body, base))
    assert caught.value.rule == rule
    assert f"rule {rule!r}" in str(caught.value)
    assert "may only tighten" in str(caught.value)


def test_holiday_rule_cannot_be_switched_off_once_on(cn_pack):
    strict = apply_override(cn_pack, _override("[rules.holidays]\nenabled = true\n"))
    with pytest.raises(PackLoosenedError, match="holidays"):
        apply_override(strict, _override("[rules.holidays]\nenabled = false\n"))


def test_third_party_cannot_be_reopened_once_closed(cn_pack, make_intent):
    closed = apply_override(cn_pack, _override("[rules.third_party]\npermitted = false\n"))
    intent = make_intent(
        "2025-03-04T10:00:00+08:00",
        target="third_party",
        debtor_unreachable=True,
        third_party_authorised=True,
        script_text="请转告他回电。",
    )
    assert evaluate(intent, [], closed).reasons == (ReasonCode.THIRD_PARTY_NOT_PERMITTED,)
    with pytest.raises(PackLoosenedError, match="third_party"):
        apply_override(closed, _override("[rules.third_party]\npermitted = true\n"))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('[override]\nname = "acme"\nbase_pack = "us-regf"\n', "written for pack 'us-regf'"),
        ('[override]\nname = "acme"\nbase_pack = "cn-2025"\n[rules.curfew]\nx = 1\n', "unknown"),
        (
            '[override]\nname = "acme"\nbase_pack = "cn-2025"\n[rules.quiet_hours]\nstart = "9"\n',
            "unknown field",
        ),
        (
            '[override]\nname = "acme"\nbase_pack = "cn-2025"\n[rules.quiet_hours]\n'
            'allowed_from = "nine"\n',
            "HH:MM",
        ),
        (
            '[override]\nname = "acme"\nbase_pack = "cn-2025"\n[rules.daily_connected_calls]\n'
            'limit = "2"\n',
            "expected int",
        ),
        ('[override]\nbase_pack = "cn-2025"\n', "missing field 'name'"),
    ],
)
def test_malformed_override_is_refused_clearly(cn_pack, document, message):
    with pytest.raises(PackError, match=message):
        apply_override(cn_pack, tomllib.loads(document))
