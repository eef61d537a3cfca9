from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from debtflow.core.compliance.contact import ContactFlag
from debtflow.core.compliance.gate import evaluate
from debtflow.core.compliance.reasons import ReasonCode
from debtflow.core.compliance.supervisor_override import OverrideRefused, override_deny

GRANTED = datetime.fromisoformat("2025-03-04T22:05:00+08:00")
REASON = "Debtor asked on the recorded call at 21:40 to be called back at 22:10 tonight."


@pytest.fixture
def quiet_hours_deny(cn_pack, make_intent):
    return evaluate(make_intent("2025-03-04T22:10:00+08:00"), [], cn_pack)


def test_override_of_a_deny_returns_a_record(cn_pack, quiet_hours_deny):
    record = override_deny(
        quiet_hours_deny,
        cn_pack,
        supervisor_id="sup-1",
        collector_id="c-7",
        written_reason=f"  {REASON}  ",
        granted_at=GRANTED,
    )
    assert record.overridden_reasons == (ReasonCode.QUIET_HOURS,)
    assert record.written_reason == REASON
    assert record.pack_version == "cn-2025.1"
    assert record.contact_at == quiet_hours_deny.at
    other = override_deny(
        quiet_hours_deny,
        cn_pack,
        supervisor_id="sup-1",
        collector_id="c-7",
        written_reason=REASON + " Confirmed by SMS.",
        granted_at=GRANTED,
    )
    assert other.fingerprint != record.fingerprint and len(record.fingerprint) == 64


@pytest.mark.parametrize(
    ("supervisor", "collector", "reason", "message"),
    [
        ("sup-1", "c-7", "ok", "at least"),
        ("sup-1", "c-7", "   ", "at least"),
        ("sup-1", "c-7", "aaaaaaaaaaaaaaaaaaaaaaaaa", "not a sentence"),
        ("c-7", "c-7", REASON, "own contact"),
        ("", "c-7", REASON, "supervisor id"),
    ],
)
def test_bad_overrides_are_refused(
    cn_pack, quiet_hours_deny, supervisor, collector, reason, message
):
    with pytest.raises(OverrideRefused, match=message):
        override_deny(
            quiet_hours_deny,
            cn_pack,
            supervisor_id=supervisor,
            collector_id=collector,
            written_reason=reason,
            granted_at=GRANTED,
        )


def test_an_allow_cannot_be_overridden(cn_pack, make_intent):
    allowed = evaluate(make_intent("2025-03-04T10:00:00+08:00"), [], cn_pack)
    with pytest.raises(OverrideRefused, match="already allowed"):
        override_deny(
            allowed,
            cn_pack,
            supervisor_id="s",
            collector_id="c",
            written_reason=REASON,
            granted_at=GRANTED,
        )


@pytest.mark.parametrize(
    ("flag", "pack_name", "overridable"),
    [
        (ContactFlag.DO_NOT_CONTACT, "cn", False),
        (ContactFlag.LEGAL_HOLD, "cn", False),
        (ContactFlag.ATTORNEY, "us", False),
        (ContactFlag.DISPUTE, "us", False),
        (ContactFlag.DISPUTE, "cn", True),
        (ContactFlag.HARDSHIP_COOLING_OFF, "cn", True),
    ],
)
def test_pack_decides_which_denies_are_final(
    cn_pack, us_pack, make_intent, flag, pack_name, overridable
):
    pack = cn_pack if pack_name == "cn" else us_pack
    decision = evaluate(make_intent("2025-03-04T10:00:00+08:00", flags=frozenset({flag})), [], pack)

    def attempt():
        return override_deny(
            decision,
            pack,
            supervisor_id="s",
            collector_id="c",
            written_reason=REASON,
            granted_at=GRANTED,
        )

    if overridable:
        assert attempt().overridden_reasons == decision.reasons
    else:
        with pytest.raises(OverrideRefused, match=flag.value.split("_")[0]):
            attempt()


def test_decision_from_another_pack_version_is_refused(cn_pack, quiet_hours_deny):
    with pytest.raises(OverrideRefused, match="pack"):
        override_deny(
            replace(quiet_hours_deny, pack_version="cn-2024.9"),
            cn_pack,
            supervisor_id="s",
            collector_id="c",
            written_reason=REASON,
            granted_at=GRANTED,
        )


def test_naive_grant_time_is_refused(cn_pack, quiet_hours_deny):
    with pytest.raises(ValueError, match="timezone-aware"):
        override_deny(
            quiet_hours_deny,
            cn_pack,
            supervisor_id="s",
            collector_id="c",
            written_reason=REASON,
            granted_at=datetime(2025, 3, 4, 22, 5),
        )
