"""One region rule (core.dispatch.features.covers_region) for eligibility, fit and the
`same_region` match feature: a collector covers a case in its city or its province, and a
nationwide ('全国') collector covers every case. No database needed."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtflow.core.dispatch.features import (
    PAIR_FEATURES,
    CaseProfile,
    Channel,
    ProductType,
    Segment,
    pair_features,
    tabulate,
)
from debtflow.core.dispatch.geo import GeoPoint
from debtflow.core.dispatch.metrics import fits_case_needs
from debtflow.dispatch.profiles import CaseEntry, collector_entry, eligible

MORNING = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
HANGZHOU = GeoPoint(30.27, 120.15)
SAME_REGION = PAIR_FEATURES.index("same_region")


def field_agent(regions: list[str], collector_id: int = 7):  # type: ignore[no-untyped-def]
    return collector_entry(
        SimpleNamespace(
            id=collector_id,
            kind="field_agent",
            tags=[],
            regions=regions,
            latitude=30.3,
            longitude=120.2,
            capacity_hours_week=40,
            code=f"FD{collector_id:04d}",
            name="外访员",
        )
    )


def field_case(city: str = "杭州", province: str | None = "浙江") -> CaseEntry:
    profile = CaseProfile(
        case_id=1,
        days_past_due=120,
        balance_fen=2_000_000,
        segment=Segment.POTENTIAL,
        propensity=0.4,
        product=ProductType.CONSUMER,
        region=city,
        province=province,
        reachable=frozenset({Channel.PHONE, Channel.VISIT}),
        location=HANGZHOU,
    )
    return CaseEntry(profile=profile, need="field", province=province, current_collector_id=None)


def same_region(case: CaseEntry, collector) -> float:  # type: ignore[no-untyped-def]
    cases, collectors = tabulate([case.profile], [collector.profile], scene_time=MORNING)
    features = pair_features(cases, collectors, [0], [0], scene_time=MORNING)  # type: ignore[arg-type]
    return float(features.matrix[0, SAME_REGION])


@pytest.mark.parametrize(
    "regions, covered",
    [
        (["浙江"], True),  # the province
        (["全国"], True),  # nationwide
        ([], True),  # no regions on file reads as nationwide
        (["杭州"], True),  # the city
        ([" 杭州 ", "宁波"], True),
        (["宁波"], False),
        (["江苏", "南京"], False),
    ],
)
def test_eligibility_fit_and_same_region_apply_one_rule(regions: list[str], covered: bool) -> None:
    case, agent = field_case(), field_agent(regions)
    assert eligible(case, agent) is covered
    verdict = fits_case_needs(case.profile, agent.profile)
    assert ("region" not in verdict.unmet) is covered
    assert verdict.fits is covered  # nothing else is unmet here
    assert same_region(case, agent) == (1.0 if covered else 0.0)


PLACES = ["杭州", "宁波", "浙江", "江苏", "南京", "全国", "Hangzhou", " 浙江 "]


@settings(max_examples=200, deadline=None)
@given(
    regions=st.lists(st.sampled_from(PLACES), max_size=3),
    city=st.sampled_from(["杭州", "宁波", "南京", "hangzhou", ""]),
    province=st.one_of(st.none(), st.sampled_from(["浙江", "江苏", " 浙江"])),
)
def test_the_three_never_disagree(regions: list[str], city: str, province: str | None) -> None:
    case, agent = field_case(city, province), field_agent(regions)
    allowed = eligible(case, agent)
    assert ("region" not in fits_case_needs(case.profile, agent.profile).unmet) is allowed
    assert same_region(case, agent) == (1.0 if allowed else 0.0)
