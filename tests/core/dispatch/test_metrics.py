"""Match-accuracy rule and the per-day dispatch metrics."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from debtflow.core.dispatch.features import (
    CaseProfile,
    Channel,
    CollectorProfile,
    CollectorType,
    MatchInputError,
    ProductType,
    Segment,
)
from debtflow.core.dispatch.metrics import (
    AssignmentRecord,
    daily_dispatch_metrics,
    first_contact_after,
    fits_case_needs,
    match_accuracy,
    percentile,
    reassignment_rate,
    response_minutes,
)

CASE = CaseProfile(
    case_id=1,
    days_past_due=40,
    balance_fen=500_000,
    segment=Segment.POTENTIAL,
    propensity=0.5,
    product=ProductType.CONSUMER,
    region="Hangzhou",
    reachable=frozenset({Channel.PHONE, Channel.VISIT}),
)
AGENT = CollectorProfile(
    collector_id=5,
    kind=CollectorType.ONLINE_AGENT,
    regions=frozenset({"Shanghai"}),
    channels=frozenset({Channel.PHONE}),
    open_cases=0,
    capacity_cases=50,
    cost_per_case_fen=1_000,
)


def test_a_plain_case_fits_an_online_agent_anywhere() -> None:
    verdict = fits_case_needs(CASE, AGENT)
    assert verdict.fits and verdict.unmet == ()


@pytest.mark.parametrize(
    "case_changes, collector_changes, unmet",
    [
        ({"emotions": {"angry": 2, "calm": 2}}, {}, ("communicative",)),
        ({"emotions": {"angry": 2}}, {"style_tags": frozenset({"empathetic"})}, ()),
        ({"segment": Segment.RISK}, {}, ("legal_minded",)),
        ({"intents": {"evade": 1, "promise": 1}}, {"legal_skill": 0.5}, ()),
        ({"intents": {"evade": 1, "promise": 3}}, {}, ()),  # 25 % deliberate: not yet
        (
            {"product": ProductType.SMALL_BUSINESS, "industry": "Textiles"},
            {"industries": frozenset({"textiles "})},
            (),
        ),
        (
            {"product": ProductType.SMALL_BUSINESS, "industry": "Textiles"},
            {},
            ("industry_experience",),
        ),
        ({"dialect": "Cantonese"}, {}, ("dialect",)),
        ({"reachable": frozenset({Channel.VISIT})}, {}, ("reachable",)),
        (
            {},
            {"kind": CollectorType.FIELD_AGENT, "channels": frozenset({Channel.VISIT})},
            ("region",),
        ),
    ],
)
def test_documented_rules(
    case_changes: dict[str, object], collector_changes: dict[str, object], unmet: tuple[str, ...]
) -> None:
    verdict = fits_case_needs(replace(CASE, **case_changes), replace(AGENT, **collector_changes))  # type: ignore[arg-type]
    assert verdict.unmet == unmet
    assert verdict.fits is (unmet == ())


def test_a_law_firm_fits_a_deliberate_defaulter_without_dialect_or_region() -> None:
    firm = replace(
        AGENT, kind=CollectorType.LAW_FIRM, channels=frozenset({Channel.LETTER, Channel.PHONE})
    )
    verdict = fits_case_needs(replace(CASE, segment=Segment.RISK, dialect="Hakka"), firm)
    assert verdict.fits


def test_several_unmet_needs_are_all_listed_in_rule_order() -> None:
    field = replace(AGENT, kind=CollectorType.FIELD_AGENT, channels=frozenset({Channel.VISIT}))
    needy = replace(CASE, segment=Segment.RISK, emotions={"angry": 1}, dialect="Wu")
    assert fits_case_needs(needy, field).unmet == (
        "region",
        "communicative",
        "legal_minded",
        "dialect",
    )


T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def record(
    minutes_after: int | None,
    *,
    fits: bool = True,
    reassignment: bool = False,
    at: datetime = T0,
) -> AssignmentRecord:
    return AssignmentRecord(
        case_id=1,
        collector_id=5,
        assigned_at=at,
        fits=fits,
        first_contact_at=None if minutes_after is None else at + timedelta(minutes=minutes_after),
        reassignment=reassignment,
    )


def test_daily_metrics_group_by_local_day() -> None:
    late_evening = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # 01:00 on Dec 2 in Shanghai
    records = [
        record(10),
        record(30, fits=False),
        record(None, reassignment=True),
        record(50),
        record(5, at=late_evening, reassignment=True),
    ]
    rows = daily_dispatch_metrics(records, timezone="Asia/Shanghai")
    assert [r.day for r in rows] == [date(2026, 12, 1), date(2026, 12, 2)]
    first, second = rows
    assert first.assignments == 4
    assert first.match_accuracy == 0.75
    assert first.reassignment_rate == 0.25
    assert first.contacted == 3
    assert first.response_minutes_median == 30
    assert first.response_minutes_p90 == pytest.approx(46.0)
    assert (second.assignments, second.reassignment_rate) == (1, 1.0)
    # in UTC all five fall on Dec 1
    assert [r.assignments for r in daily_dispatch_metrics(records, timezone="UTC")] == [5]


def test_the_response_is_the_first_contact_of_the_assignment_itself() -> None:
    at = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)
    earlier = [at - timedelta(hours=3), at - timedelta(minutes=1)]
    assert first_contact_after(at, earlier) is None  # worked before, not since
    assert first_contact_after(at, []) is None
    contacts = [*earlier, at, at + timedelta(hours=1)]
    assert first_contact_after(at, contacts) == at  # at the very moment counts
    assert first_contact_after(at, contacts[3:], until=at + timedelta(hours=1)) is None
    with pytest.raises(MatchInputError):
        first_contact_after(at.replace(tzinfo=None), contacts)


def test_empty_inputs_give_no_figures_rather_than_zeros() -> None:
    assert daily_dispatch_metrics([]) == []
    assert match_accuracy([]) is None
    assert reassignment_rate([]) is None
    assert percentile([], 0.5) is None
    rows = daily_dispatch_metrics([record(None)])
    assert rows[0].contacted == 0 and rows[0].response_minutes_median is None


def test_bad_records_are_refused() -> None:
    with pytest.raises(MatchInputError, match="before assignment"):
        response_minutes(record(-5))
    naive = AssignmentRecord(1, 5, datetime(2026, 12, 1, 9), fits=True)
    with pytest.raises(MatchInputError, match="timezone-aware"):
        daily_dispatch_metrics([naive])
    with pytest.raises(MatchInputError, match="time zone"):
        daily_dispatch_metrics([record(1)], timezone="Nowhere/City")
    with pytest.raises(MatchInputError):
        percentile([1.0], 1.5)


@pytest.mark.parametrize(
    "regions, fits",
    [
        (frozenset({"浙江"}), True),
        (frozenset({"全国"}), True),
        (frozenset({"杭州"}), True),
        (frozenset({"宁波", "江苏"}), False),
    ],
)
def test_a_field_agent_fits_by_city_province_or_nationwide(
    regions: frozenset[str], fits: bool
) -> None:
    """The one region rule of eligibility: city, province or '全国' (it was the city only)."""
    case = replace(CASE, region="杭州", province="浙江")
    field = replace(
        AGENT, kind=CollectorType.FIELD_AGENT, regions=regions, channels=frozenset({Channel.VISIT})
    )
    verdict = fits_case_needs(case, field)
    assert verdict.fits is fits
    assert verdict.unmet == (() if fits else ("region",))
