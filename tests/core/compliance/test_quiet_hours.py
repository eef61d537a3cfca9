"""Quiet hours are evaluated in the debtor's LOCAL time, at the second boundaries."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from debtflow.core.compliance.contact import Channel, ContactIntent
from debtflow.core.compliance.gate import evaluate, local_instant
from debtflow.core.compliance.reasons import ReasonCode


@pytest.mark.parametrize(
    ("at", "tz", "allowed"),
    [
        ("2025-03-03T21:59:59+08:00", "Asia/Shanghai", True),
        ("2025-03-03T22:00:00+08:00", "Asia/Shanghai", False),
        ("2025-03-04T07:59:59+08:00", "Asia/Shanghai", False),
        ("2025-03-04T08:00:00+08:00", "Asia/Shanghai", True),
        ("2025-03-04T00:00:00+08:00", "Asia/Shanghai", False),
        # Same instants written in UTC: the debtor's zone decides, not the offset written.
        ("2025-03-03T13:59:59+00:00", "Asia/Shanghai", True),
        ("2025-03-03T14:00:00+00:00", "Asia/Shanghai", False),
        # Urumqi is UTC+6 in tzdata: 22:00 Beijing is 20:00 there, so allowed.
        ("2025-03-03T22:00:00+08:00", "Asia/Urumqi", True),
        ("2025-03-03T21:59:59+06:00", "Asia/Urumqi", True),
        ("2025-03-03T22:00:00+06:00", "Asia/Urumqi", False),
        ("2025-03-04T09:59:59+08:00", "Asia/Urumqi", False),  # 07:59:59 in Urumqi
        ("2025-03-04T10:00:00+08:00", "Asia/Urumqi", True),
    ],
)
def test_cn_quiet_hours_boundaries(cn_pack, make_intent, at, tz, allowed):
    decision = evaluate(make_intent(at, tz=tz), [], cn_pack)
    assert decision.allowed is allowed
    assert (ReasonCode.QUIET_HOURS in decision.reasons) is (not allowed)


@pytest.mark.parametrize(
    ("at", "allowed"),
    [
        ("2025-06-10T07:59:59-07:00", False),
        ("2025-06-10T08:00:00-07:00", True),
        ("2025-06-10T20:59:59-07:00", True),
        ("2025-06-10T21:00:00-07:00", False),  # a call placed at 21:00 runs after 21:00
        # Daylight saving starts 2025-03-09 02:00 in Los Angeles (PST -8 -> PDT -7).
        ("2025-03-09T15:00:00+00:00", True),  # 08:00 PDT (07:00 if PST were assumed)
        ("2025-03-09T14:59:59+00:00", False),
        ("2025-03-08T15:59:59+00:00", False),  # 07:59:59 PST the day before
        ("2025-03-08T16:00:00+00:00", True),
        # Daylight saving ends 2025-11-02 02:00 (PDT -7 -> PST -8).
        ("2025-11-02T15:59:59+00:00", False),  # 07:59:59 PST
        ("2025-11-02T16:00:00+00:00", True),
        ("2025-11-02T03:59:59+00:00", True),  # 20:59:59 PDT on 1 November
        ("2025-11-02T04:00:00+00:00", False),  # 21:00:00 PDT
    ],
)
def test_us_quiet_hours_in_los_angeles_across_daylight_saving(us_pack, make_intent, at, allowed):
    decision = evaluate(make_intent(at, tz="America/Los_Angeles"), [], us_pack)
    assert decision.allowed is allowed
    assert decision.reasons == (() if allowed else (ReasonCode.QUIET_HOURS,))


@pytest.mark.parametrize(
    ("at", "tz", "pack", "expected"),
    [
        ("2025-03-03T22:00:00+08:00", "Asia/Shanghai", "cn", "2025-03-04T08:00:00+08:00"),
        ("2025-03-04T07:59:59+08:00", "Asia/Shanghai", "cn", "2025-03-04T08:00:00+08:00"),
        ("2025-03-04T00:30:00+08:00", "Asia/Urumqi", "cn", "2025-03-04T08:00:00+06:00"),
        # After 21:00 PST on the eve of the spring change: next 08:00 is PDT.
        ("2025-03-08T21:30:00-08:00", "America/Los_Angeles", "us", "2025-03-09T08:00:00-07:00"),
        # After 21:00 PDT on the eve of the autumn change: next 08:00 is PST.
        ("2025-11-01T21:00:00-07:00", "America/Los_Angeles", "us", "2025-11-02T08:00:00-08:00"),
        ("2025-06-10T05:00:00-04:00", "America/New_York", "us", "2025-06-10T08:00:00-04:00"),
    ],
)
def test_quiet_hours_next_allowed_at(cn_pack, us_pack, make_intent, at, tz, pack, expected):
    rules = cn_pack if pack == "cn" else us_pack
    decision = evaluate(make_intent(at, tz=tz), [], rules)
    assert not decision.allowed
    assert decision.next_allowed_at == datetime.fromisoformat(expected)
    assert decision.next_allowed_at.utcoffset() == datetime.fromisoformat(expected).utcoffset()
    assert evaluate(make_intent(decision.next_allowed_at.isoformat(), tz=tz), [], rules).allowed


def test_allowed_contact_reports_its_own_time_as_next_allowed(cn_pack, make_intent):
    decision = evaluate(make_intent("2025-03-03T10:00:00+08:00"), [], cn_pack)
    assert decision.allowed
    assert decision.next_allowed_at == datetime.fromisoformat("2025-03-03T10:00:00+08:00")
    assert decision.pack_version == "cn-2025.1"


@pytest.mark.parametrize("channel", ["call", "sms", "email", "visit", "ai_voice"])
def test_quiet_hours_cover_every_channel(cn_pack, make_intent, channel):
    decision = evaluate(make_intent("2025-03-03T23:00:00+08:00", channel=channel), [], cn_pack)
    assert decision.reasons == (ReasonCode.QUIET_HOURS,)


@pytest.mark.parametrize(
    ("day", "wall", "zone", "expected_utc"),
    [
        (date(2025, 3, 9), time(2, 30), "America/New_York", "2025-03-09T07:00:00+00:00"),
        (date(2025, 3, 9), time(3, 0), "America/New_York", "2025-03-09T07:00:00+00:00"),
        (date(2024, 9, 8), time(0, 0), "America/Santiago", "2024-09-08T04:00:00+00:00"),
        (date(2025, 11, 2), time(1, 30), "America/New_York", "2025-11-02T05:30:00+00:00"),
    ],
)
def test_local_instant_handles_skipped_and_repeated_wall_times(day, wall, zone, expected_utc):
    found = local_instant(day, wall, ZoneInfo(zone))
    # timestamps: aware datetimes in a repeated hour never compare == across zones
    assert found.timestamp() == datetime.fromisoformat(expected_utc).timestamp()


def test_naive_planned_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        ContactIntent(
            at=datetime(2025, 3, 3, 10), debtor_tz=ZoneInfo("Asia/Shanghai"), channel=Channel.CALL
        )
