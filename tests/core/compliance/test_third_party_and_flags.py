"""Third-party contact conditions and the stop flags."""

from __future__ import annotations

from datetime import datetime

import pytest

from debtflow.core.compliance.contact import ContactFlag
from debtflow.core.compliance.gate import evaluate, script_disclosures
from debtflow.core.compliance.reasons import ReasonCode as R

NEUTRAL_CN = "您好，我们想联系张先生，请您转告他回电 400-000-0000，谢谢。"
NEUTRAL_US = "Hello, this is Sam from Acme. Please ask John to call us back at 555-0100."


@pytest.mark.parametrize(
    ("unreachable", "authorised", "script", "reasons"),
    [
        (True, True, NEUTRAL_CN, ()),
        (False, True, NEUTRAL_CN, (R.THIRD_PARTY_DEBTOR_REACHABLE,)),
        (True, False, NEUTRAL_CN, (R.THIRD_PARTY_NOT_AUTHORISED,)),
        (False, False, NEUTRAL_CN, (R.THIRD_PARTY_DEBTOR_REACHABLE, R.THIRD_PARTY_NOT_AUTHORISED)),
        (True, True, None, (R.THIRD_PARTY_SCRIPT_MISSING,)),
        (True, True, "   ", (R.THIRD_PARTY_SCRIPT_MISSING,)),
        (
            True,
            True,
            "请转告张先生，他的信用卡已经逾期三个月。",
            (R.THIRD_PARTY_SCRIPT_DISCLOSES_DEBT,),
        ),
        (True, True, "请转告张先生尽快还款。", (R.THIRD_PARTY_SCRIPT_DISCLOSES_DEBT,)),
    ],
)
def test_cn_third_party_contact_rules(
    cn_pack, make_intent, unreachable, authorised, script, reasons
):
    intent = make_intent(
        "2025-03-04T10:00:00+08:00",
        target="third_party",
        debtor_unreachable=unreachable,
        third_party_authorised=authorised,
        script_text=script,
    )
    decision = evaluate(intent, [], cn_pack)
    assert decision.reasons == reasons
    assert decision.allowed is (not reasons)
    # waiting does not make a third-party condition true
    assert (decision.next_allowed_at is None) is bool(reasons)


@pytest.mark.parametrize(
    ("script", "discloses"),
    [
        (NEUTRAL_US, False),
        ("Please tell John he OWES us money.", True),
        ("Call us about John's past due account.", True),
        ("This is a debt collector calling for John.", True),
        ("Tell John his DEBTS are being collected.", True),
        ("Please ask Owen to call back about the power cut.", False),
        ("We are calling about the collective payment scheme.", True),
        ("Our collective would like John to call back.", False),
    ],
)
def test_us_third_party_script_check(us_pack, make_intent, script, discloses):
    intent = make_intent(
        "2025-06-10T10:00:00-04:00",
        tz="America/New_York",
        target="third_party",
        debtor_unreachable=True,
        third_party_authorised=True,
        script_text=script,
    )
    decision = evaluate(intent, [], us_pack)
    assert (R.THIRD_PARTY_SCRIPT_DISCLOSES_DEBT in decision.reasons) is discloses
    assert bool(script_disclosures(script, us_pack.third_party.forbidden_terms)) is discloses


def test_a_third_party_who_refused_is_not_contacted_again(cn_pack, make_intent):
    base = {
        "target": "third_party",
        "debtor_unreachable": True,
        "third_party_authorised": True,
        "script_text": NEUTRAL_CN,
    }
    assert evaluate(make_intent("2025-03-04T10:00:00+08:00", **base), [], cn_pack).allowed
    refused = make_intent("2025-03-04T10:00:00+08:00", third_party_refused=True, **base)
    decision = evaluate(refused, [], cn_pack)
    assert decision.reasons == (R.THIRD_PARTY_REFUSED,)
    assert decision.next_allowed_at is None


def test_third_party_contact_still_respects_quiet_hours(cn_pack, make_intent):
    intent = make_intent(
        "2025-03-04T22:30:00+08:00",
        target="third_party",
        debtor_unreachable=True,
        third_party_authorised=True,
        script_text=NEUTRAL_CN,
    )
    decision = evaluate(intent, [], cn_pack)
    assert decision.reasons == (R.QUIET_HOURS,)
    assert decision.next_allowed_at == datetime.fromisoformat("2025-03-05T08:00:00+08:00")


@pytest.mark.parametrize(
    ("flag", "reason"),
    [
        (ContactFlag.DO_NOT_CONTACT, R.DO_NOT_CONTACT),
        (ContactFlag.DISPUTE, R.DISPUTE),
        (ContactFlag.HARDSHIP_COOLING_OFF, R.HARDSHIP_COOLING_OFF),
        (ContactFlag.LEGAL_HOLD, R.LEGAL_HOLD),
        (ContactFlag.ATTORNEY, R.ATTORNEY_REPRESENTED),
    ],
)
@pytest.mark.parametrize("pack_name", ["cn", "us"])
@pytest.mark.parametrize("channel", ["call", "sms", "visit"])
def test_each_flag_stops_contact_with_no_next_time(
    cn_pack, us_pack, make_intent, flag, reason, pack_name, channel
):
    pack = cn_pack if pack_name == "cn" else us_pack
    intent = make_intent(
        "2025-06-10T12:00:00+08:00", tz="Asia/Shanghai", channel=channel, flags=frozenset({flag})
    )
    decision = evaluate(intent, [], pack)
    assert not decision.allowed
    assert decision.reasons == (reason,)
    assert decision.next_allowed_at is None


@pytest.mark.parametrize(
    ("at", "until", "allowed", "next_allowed"),
    [
        (
            "2025-03-04T10:00:00+08:00",
            "2025-03-10T12:00:00+08:00",
            False,
            "2025-03-10T12:00:00+08:00",
        ),
        # cooling-off ends at night: the next allowed time is the next morning
        (
            "2025-03-04T10:00:00+08:00",
            "2025-03-10T23:00:00+08:00",
            False,
            "2025-03-11T08:00:00+08:00",
        ),
        (
            "2025-03-10T12:00:00+08:00",
            "2025-03-10T12:00:00+08:00",
            True,
            "2025-03-10T12:00:00+08:00",
        ),
    ],
)
def test_hardship_cooling_off_with_an_end(cn_pack, make_intent, at, until, allowed, next_allowed):
    intent = make_intent(
        at,
        flags=frozenset({ContactFlag.HARDSHIP_COOLING_OFF}),
        cooling_off_until=datetime.fromisoformat(until),
    )
    decision = evaluate(intent, [], cn_pack)
    assert decision.allowed is allowed
    assert decision.reasons == (() if allowed else (R.HARDSHIP_COOLING_OFF,))
    assert decision.next_allowed_at == datetime.fromisoformat(next_allowed)


def test_flags_combine_with_timed_reasons_and_keep_next_null(cn_pack, make_intent):
    intent = make_intent("2025-03-04T23:00:00+08:00", flags=frozenset({ContactFlag.DISPUTE}))
    decision = evaluate(intent, [], cn_pack)
    assert decision.reasons == (R.DISPUTE, R.QUIET_HOURS)
    assert decision.next_allowed_at is None
