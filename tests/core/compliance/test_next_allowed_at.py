"""next_allowed_at is the EARLIEST allowed moment: allowed there, denied one second before,
and denied everywhere sampled in between (random histories, both packs, several zones)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from debtflow.core.compliance.contact import Channel, ContactFlag, ContactIntent, ContactRecord
from debtflow.core.compliance.gate import evaluate, history_days_needed
from debtflow.core.compliance.rule_pack import apply_override, load_pack

PACKS = {
    "cn-2025": load_pack("cn-2025"),
    "us-regf": load_pack("us-regf"),
}
PACKS["cn-strict"] = apply_override(
    PACKS["cn-2025"],
    {
        "override": {"name": "strict", "base_pack": "cn-2025"},
        "rules": {"holidays": {"enabled": True}},
    },
)
ZONES = ["Asia/Shanghai", "Asia/Urumqi", "America/Los_Angeles", "America/New_York"]
# around the 2025 US daylight-saving changes and the October Golden Week
ANCHORS = [
    datetime(2025, 3, 8, tzinfo=UTC),
    datetime(2025, 10, 30, tzinfo=UTC),
    datetime(2025, 9, 29, tzinfo=UTC),
]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[ContactIntent, list[ContactRecord], str]:
    anchor = draw(st.sampled_from(ANCHORS))
    start = anchor + timedelta(seconds=draw(st.integers(0, 6 * 86400)))
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    records = [
        ContactRecord(
            at=start - timedelta(seconds=draw(st.integers(0, 9 * 86400))),
            channel=draw(st.sampled_from(list(Channel))),
            connected=draw(st.booleans()),
            conversation=draw(st.booleans()) and draw(st.booleans()),
            party=draw(st.sampled_from(["in-house", "agency", "bot", "field"])),
        )
        for _ in range(draw(st.integers(0, 14)))
    ]
    cooling = draw(st.none() | st.integers(0, 5 * 86400))
    intent = ContactIntent(
        at=start,
        debtor_tz=zone,
        channel=draw(st.sampled_from([Channel.CALL, Channel.AI_VOICE, Channel.SMS])),
        flags=frozenset({ContactFlag.HARDSHIP_COOLING_OFF}) if cooling is not None else frozenset(),
        cooling_off_until=None if cooling is None else start + timedelta(seconds=cooling),
    )
    return intent, records, draw(st.sampled_from(sorted(PACKS)))


def _at(intent: ContactIntent, moment: datetime) -> ContactIntent:
    return ContactIntent(
        at=moment,
        debtor_tz=intent.debtor_tz,
        channel=intent.channel,
        flags=intent.flags,
        cooling_off_until=intent.cooling_off_until,
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.randoms(use_true_random=False))
def test_next_allowed_at_is_the_earliest_allowed_moment(scenario, rng):
    intent, records, pack_name = scenario
    pack = PACKS[pack_name]
    decision = evaluate(intent, records, pack)
    found = decision.next_allowed_at
    assert found is not None  # only timed rules are in play here
    assert found >= intent.at
    assert evaluate(_at(intent, found), records, pack).allowed
    if decision.allowed:
        assert found == intent.at
        return
    one_second_before = found - timedelta(seconds=1)
    if one_second_before >= intent.at:
        assert not evaluate(_at(intent, one_second_before), records, pack).allowed
    span = (found - intent.at).total_seconds()
    for _ in range(40):
        probe = intent.at + timedelta(seconds=rng.uniform(0, span))
        if probe < found:
            assert not evaluate(_at(intent, probe), records, pack).allowed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_documented_history_slice_is_enough(scenario):
    """A service passing only records from intent.at - (history_days_needed + 1) days on
    gets exactly the decision the full history gives."""
    intent, records, pack_name = scenario
    pack = PACKS[pack_name]
    cutoff = intent.at - timedelta(days=history_days_needed(pack) + 1)
    sliced = [record for record in records if record.at >= cutoff]
    assert evaluate(intent, sliced, pack) == evaluate(intent, records, pack)
