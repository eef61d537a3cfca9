from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from debtflow.core.compliance.qa_sampling import QaPolicy, SampleReason, qa_select
from debtflow.core.compliance.retention import DeletionVerdict, deletion_decision, keep_until

SALT = b"qa-salt-2025"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CALLS = [f"call-{n}" for n in range(20_000)]


def test_random_share_is_about_five_percent_and_stable():
    policy = QaPolicy()
    picks = [qa_select(c, risk=0.0, policy=policy, salt=SALT) for c in CALLS]
    chosen = sum(p.selected for p in picks)
    assert 870 <= chosen <= 1130  # 5 % of 20,000 within 4 standard deviations
    assert all(p.reason is SampleReason.RANDOM for p in picks if p.selected)
    again = [qa_select(c, risk=0.0, policy=policy, salt=SALT) for c in CALLS[:500]]
    assert again == picks[:500]
    other_salt = [qa_select(c, risk=0.0, policy=policy, salt=b"x").selected for c in CALLS]
    assert other_salt != [p.selected for p in picks]


def test_risk_adds_reviews_in_proportion():
    policy = QaPolicy(random_share=0.05, risk_extra_share=0.5)
    low = [qa_select(c, risk=0.0, policy=policy, salt=SALT) for c in CALLS]
    high = [qa_select(c, risk=1.0, policy=policy, salt=SALT) for c in CALLS]
    # random picks stay picked; expected share at risk 1.0 is 0.05 + 0.95 * 0.5 = 52.5 %
    assert all(h.selected for lo, h in zip(low, high, strict=True) if lo.selected)
    share = sum(h.selected for h in high) / len(CALLS)
    assert 0.50 <= share <= 0.55
    assert any(h.reason is SampleReason.RISK for h in high)


def test_forced_and_bad_input():
    policy = QaPolicy()
    assert (
        qa_select("c1", risk=0.0, policy=policy, salt=SALT, forced=True).reason
        is SampleReason.FORCED
    )
    with pytest.raises(ValueError, match="risk"):
        qa_select("c1", risk=1.5, policy=policy, salt=SALT)
    with pytest.raises(ValueError, match="empty"):
        qa_select("", risk=0.1, policy=policy, salt=SALT)
    with pytest.raises(ValueError, match="random_share"):
        QaPolicy(random_share=-0.1)


@pytest.mark.parametrize(
    ("last", "jurisdiction", "expected"),
    [
        ("2025-03-04T10:00:00+08:00", "CN", date(2027, 3, 4)),
        ("2025-03-04T10:00:00-05:00", "US", date(2028, 3, 4)),
        ("2024-02-29T10:00:00+08:00", "CN", date(2026, 3, 1)),
    ],
)
def test_keep_until(last, jurisdiction, expected):
    moment = datetime.fromisoformat(last)
    assert keep_until(moment, jurisdiction, zone=moment.tzinfo) == expected


def test_retention_counts_from_the_local_date_of_the_last_activity():
    """The database hands back UTC: 00:30 on 2 March in Shanghai is 16:30 on 1 March UTC.
    China keeps two full years from the debtor's local 2 March, so not on 1 March 2025."""
    last = datetime(2023, 3, 1, 16, 30, tzinfo=UTC)
    assert keep_until(last, "CN", zone=SHANGHAI) == date(2025, 3, 2)
    on_first = deletion_decision(
        last_activity=last,
        jurisdiction="CN",
        zone=SHANGHAI,
        today=date(2025, 3, 1),
        legal_hold=False,
    )
    assert on_first.verdict is DeletionVerdict.KEEP_RETENTION_PERIOD
    assert on_first.keep_until == date(2025, 3, 2)
    on_second = deletion_decision(
        last_activity=last,
        jurisdiction="CN",
        zone=SHANGHAI,
        today=date(2025, 3, 2),
        legal_hold=False,
    )
    assert on_second.verdict is DeletionVerdict.DELETE
    # the same instant for a debtor in New York was still 1 March there
    assert keep_until(last, "CN", zone=ZoneInfo("America/New_York")) == date(2025, 3, 1)


@pytest.mark.parametrize(
    ("today", "hold", "verdict"),
    [
        (date(2027, 3, 3), False, DeletionVerdict.KEEP_RETENTION_PERIOD),
        (date(2027, 3, 4), False, DeletionVerdict.DELETE),
        (date(2030, 1, 1), True, DeletionVerdict.KEEP_LEGAL_HOLD),
        (date(2026, 1, 1), True, DeletionVerdict.KEEP_LEGAL_HOLD),
    ],
)
def test_deletion_request(today, hold, verdict):
    decision = deletion_decision(
        last_activity=datetime.fromisoformat("2025-03-04T10:00:00+08:00"),
        jurisdiction="CN",
        zone=SHANGHAI,
        today=today,
        legal_hold=hold,
    )
    assert decision.verdict is verdict
    assert decision.may_delete is (verdict is DeletionVerdict.DELETE)


def test_creditor_minimum_extends_retention_and_bad_input_fails():
    last = datetime.fromisoformat("2025-03-04T10:00:00+08:00")
    assert keep_until(last, "CN", zone=SHANGHAI, minimum_years=5) == date(2030, 3, 4)
    with pytest.raises(ValueError, match="jurisdiction"):
        keep_until(last, "FR", zone=SHANGHAI)
    with pytest.raises(ValueError, match="timezone-aware"):
        keep_until(datetime(2025, 3, 4), "CN", zone=SHANGHAI)
