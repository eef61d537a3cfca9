"""Call caps counted across every party: CN 3 connected calls per local day, Reg F 7-in-7
and the 7 days after a conversation."""

from __future__ import annotations

from datetime import datetime

import pytest

from debtflow.core.compliance.gate import evaluate
from debtflow.core.compliance.reasons import ReasonCode

CN_DAY = "2025-03-04"


def _cn_calls(make_record, rows):
    """rows: (local time, channel, connected, party) on CN_DAY in Beijing time."""
    return [
        make_record(f"{CN_DAY}T{clock}+08:00", channel=channel, connected=connected, party=party)
        for clock, channel, connected, party in rows
    ]


@pytest.mark.parametrize(
    ("rows", "allowed"),
    [
        # the 3rd connected call of the day, previous two by two different parties
        ([("09:00:00", "call", True, "in-house"), ("10:00:00", "call", True, "agency-a")], True),
        # the 4th: three connected already, split across two parties
        (
            [
                ("09:00:00", "call", True, "in-house"),
                ("10:00:00", "call", True, "agency-a"),
                ("11:00:00", "call", True, "agency-a"),
            ],
            False,
        ),
        # AI voice counts as a connected call
        (
            [
                ("09:00:00", "ai_voice", True, "ai-bot"),
                ("10:00:00", "call", True, "agency-a"),
                ("11:00:00", "ai_voice", True, "ai-bot"),
            ],
            False,
        ),
        # unconnected attempts, SMS and visits are not connected calls
        (
            [
                ("09:00:00", "call", True, "in-house"),
                ("09:05:00", "call", False, "agency-a"),
                ("09:10:00", "call", False, "part-timer-7"),
                ("09:20:00", "sms", True, "in-house"),
                ("09:30:00", "visit", True, "field-12"),
                ("10:00:00", "call", True, "law-firm"),
            ],
            True,
        ),
    ],
)
def test_cn_daily_connected_call_cap_across_parties(
    cn_pack, make_intent, make_record, rows, allowed
):
    intent = make_intent(f"{CN_DAY}T15:00:00+08:00", party="agency-b", collector_id="c-9")
    decision = evaluate(intent, _cn_calls(make_record, rows), cn_pack)
    assert decision.allowed is allowed
    assert (ReasonCode.DAILY_CONNECTED_CALL_LIMIT in decision.reasons) is (not allowed)
    if not allowed:
        assert decision.next_allowed_at == datetime.fromisoformat("2025-03-05T08:00:00+08:00")


def test_cn_ai_voice_intent_is_capped_too(cn_pack, make_intent, make_record):
    history = _cn_calls(make_record, [(f"0{h}:00:00", "call", True, "in-house") for h in (8, 9)])
    history.append(make_record(f"{CN_DAY}T10:00:00+08:00", channel="call", party="agency-a"))
    decision = evaluate(
        make_intent(f"{CN_DAY}T15:00:00+08:00", channel="ai_voice"), history, cn_pack
    )
    assert decision.reasons == (ReasonCode.DAILY_CONNECTED_CALL_LIMIT,)


@pytest.mark.parametrize("channel", ["sms", "email", "visit"])
def test_cn_cap_does_not_block_other_channels(cn_pack, make_intent, make_record, channel):
    history = _cn_calls(make_record, [(f"{h:02d}:00:00", "call", True, "x") for h in (9, 10, 11)])
    decision = evaluate(make_intent(f"{CN_DAY}T15:00:00+08:00", channel=channel), history, cn_pack)
    assert decision.allowed


@pytest.mark.parametrize(
    ("record_times", "tz", "allowed"),
    [
        # 23:30 Beijing the evening before is written 15:30Z on the same UTC date: not today.
        (
            ["2025-03-03T15:30:00+00:00", "2025-03-04T01:00:00+00:00", "2025-03-04T02:00:00+00:00"],
            "Asia/Shanghai",
            True,
        ),
        # 00:00:00 Beijing is today.
        (
            ["2025-03-03T16:00:00+00:00", "2025-03-04T01:00:00+00:00", "2025-03-04T02:00:00+00:00"],
            "Asia/Shanghai",
            False,
        ),
        # In Urumqi (UTC+6) 17:30Z on 3 March is 23:30 on 3 March, so only two today.
        (
            ["2025-03-03T17:30:00+00:00", "2025-03-04T03:00:00+00:00", "2025-03-04T04:00:00+00:00"],
            "Asia/Urumqi",
            True,
        ),
        (
            ["2025-03-03T18:00:00+00:00", "2025-03-04T03:00:00+00:00", "2025-03-04T04:00:00+00:00"],
            "Asia/Urumqi",
            False,
        ),
    ],
)
def test_cn_day_is_the_debtors_local_day(
    cn_pack, make_intent, make_record, record_times, tz, allowed
):
    history = [make_record(at, party=f"p{i}") for i, at in enumerate(record_times)]
    decision = evaluate(make_intent("2025-03-04T07:00:00+00:00", tz=tz), history, cn_pack)
    assert decision.allowed is allowed


# ---------------------------------------------------------------- Regulation F

NY = "America/New_York"


def _us_calls(make_record, times, **extra):
    return [make_record(at, connected=False, **extra) for at in times]


@pytest.mark.parametrize(
    ("times", "allowed", "next_allowed"),
    [
        # 6 calls in the 7 local days 4-10 June: a 7th is fine
        ([f"2025-06-{d:02d}T10:00:00-04:00" for d in (4, 5, 6, 7, 8, 9)], True, None),
        # 7 calls, the oldest on 4 June (day 1 of the window ending 10 June): the 8th is refused
        (
            [f"2025-06-{d:02d}T10:00:00-04:00" for d in (4, 5, 6, 7, 8, 9, 10)],
            False,
            "2025-06-11T08:00:00-04:00",
        ),
        # oldest at 23:59:59 on 3 June falls out of the window: 6 left
        (
            ["2025-06-03T23:59:59-04:00"]
            + [f"2025-06-{d:02d}T10:00:00-04:00" for d in (5, 6, 7, 8, 9, 10)],
            True,
            None,
        ),
        # 7 calls all today (unanswered attempts count under Reg F)
        (
            [f"2025-06-10T{h:02d}:00:00-04:00" for h in range(8, 15)],
            False,
            "2025-06-17T08:00:00-04:00",
        ),
        # records later than the planned time count for every 7-day window containing it:
        # 9 June + 11..16 June is at most 6 in any window holding 10 June ...
        ([f"2025-06-{d:02d}T10:00:00-04:00" for d in (9, 11, 12, 13, 14, 15, 16)], True, None),
        # ... but 10..16 June is 7 in one window, and stays so until 17 June
        (
            [f"2025-06-{d:02d}T10:00:00-04:00" for d in (10, 11, 12, 13, 14, 15, 16)],
            False,
            "2025-06-17T08:00:00-04:00",
        ),
    ],
)
def test_regf_seven_calls_in_seven_days(
    us_pack, make_intent, make_record, times, allowed, next_allowed
):
    intent = make_intent("2025-06-10T16:00:00-04:00", tz=NY, debt_id="D1")
    decision = evaluate(intent, _us_calls(make_record, times, debt_id="D1"), us_pack)
    assert decision.allowed is allowed
    assert (ReasonCode.SEVEN_DAY_CALL_LIMIT in decision.reasons) is (not allowed)
    if next_allowed is not None:
        assert decision.next_allowed_at == datetime.fromisoformat(next_allowed)


def test_regf_counts_per_debt(us_pack, make_intent, make_record):
    times = [f"2025-06-{d:02d}T10:00:00-04:00" for d in (4, 5, 6, 7, 8, 9, 10)]
    other_debt = _us_calls(make_record, times, debt_id="D2")
    assert evaluate(
        make_intent("2025-06-10T16:00:00-04:00", tz=NY, debt_id="D1"), other_debt, us_pack
    ).allowed
    unknown_debt = _us_calls(make_record, times, debt_id=None)
    decision = evaluate(
        make_intent("2025-06-10T16:00:00-04:00", tz=NY, debt_id="D1"), unknown_debt, us_pack
    )
    assert decision.reasons == (ReasonCode.SEVEN_DAY_CALL_LIMIT,)


def test_regf_ai_voice_and_all_parties_count(us_pack, make_intent, make_record):
    history = [
        make_record(f"2025-06-{d:02d}T10:00:00-04:00", channel=ch, connected=False, party=party)
        for d, ch, party in [
            (4, "call", "agency-a"),
            (5, "ai_voice", "bot"),
            (6, "call", "law-firm"),
            (7, "ai_voice", "bot"),
            (8, "call", "in-house"),
            (9, "call", "agency-b"),
            (10, "ai_voice", "bot"),
        ]
    ]
    decision = evaluate(make_intent("2025-06-10T16:00:00-04:00", tz=NY), history, us_pack)
    assert decision.reasons == (ReasonCode.SEVEN_DAY_CALL_LIMIT,)
    sms = make_intent("2025-06-10T16:00:00-04:00", tz=NY, channel="sms")
    assert evaluate(sms, history, us_pack).allowed


@pytest.mark.parametrize(
    ("conversation_at", "call_at", "allowed"),
    [
        ("2025-06-02T10:00:00-04:00", "2025-06-02T15:00:00-04:00", False),  # same day
        ("2025-06-02T10:00:00-04:00", "2025-06-08T20:59:59-04:00", False),  # day 7
        ("2025-06-02T10:00:00-04:00", "2025-06-09T08:00:00-04:00", True),  # day 8
        ("2025-06-02T20:59:00-04:00", "2025-06-09T08:00:00-04:00", True),
        # the conversation's local day decides: 00:30Z on 3 June is 2 June in New York
        ("2025-06-03T00:30:00+00:00", "2025-06-09T08:00:00-04:00", True),
        ("2025-06-03T04:00:00+00:00", "2025-06-09T08:00:00-04:00", False),
        # across the spring daylight-saving change
        ("2025-03-03T10:00:00-05:00", "2025-03-10T08:00:00-04:00", True),
        ("2025-03-03T10:00:00-05:00", "2025-03-09T20:00:00-04:00", False),
    ],
)
def test_regf_no_call_within_seven_days_after_conversation(
    us_pack, make_intent, make_record, conversation_at, call_at, allowed
):
    history = [make_record(conversation_at, conversation=True, debt_id="D1")]
    decision = evaluate(make_intent(call_at, tz=NY, debt_id="D1"), history, us_pack)
    assert decision.allowed is allowed
    assert (ReasonCode.POST_CONVERSATION_WAIT in decision.reasons) is (not allowed)


def test_regf_conversation_wait_next_allowed_and_scope(us_pack, make_intent, make_record):
    talk = make_record("2025-03-03T10:00:00-05:00", conversation=True, debt_id="D1")
    intent = make_intent("2025-03-04T10:00:00-05:00", tz=NY, debt_id="D1")
    decision = evaluate(intent, [talk], us_pack)
    assert decision.next_allowed_at == datetime.fromisoformat("2025-03-10T08:00:00-04:00")
    # a conversation about another debt, or by SMS, does not start the wait
    other = make_record("2025-03-03T10:00:00-05:00", conversation=True, debt_id="D2")
    assert evaluate(intent, [other], us_pack).allowed
    texted = make_record("2025-03-03T10:00:00-05:00", channel="sms", conversation=True)
    assert evaluate(intent, [texted], us_pack).allowed
    # an email is not a telephone call: not blocked by the wait
    email = make_intent("2025-03-04T10:00:00-05:00", tz=NY, debt_id="D1", channel="email")
    assert evaluate(email, [talk], us_pack).allowed


def test_several_reasons_are_all_reported(us_pack, make_intent, make_record):
    history = [
        make_record(f"2025-06-10T{h:02d}:00:00-04:00", connected=False) for h in range(8, 14)
    ]
    history.append(make_record("2025-06-10T14:00:00-04:00", conversation=True))
    decision = evaluate(make_intent("2025-06-10T22:00:00-04:00", tz=NY), history, us_pack)
    assert set(decision.reasons) == {
        ReasonCode.QUIET_HOURS,
        ReasonCode.SEVEN_DAY_CALL_LIMIT,
        ReasonCode.POST_CONVERSATION_WAIT,
    }
    assert decision.next_allowed_at == datetime.fromisoformat("2025-06-17T08:00:00-04:00")
