"""Match values: documented priors, costs, reasons, explanations, bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtflow.core.dispatch.explain import explain_case, render_explanation
from debtflow.core.dispatch.features import (
    CaseProfile,
    Channel,
    CollectorProfile,
    CollectorType,
    MatchInputError,
    ProductType,
    Segment,
    pair_features,
    tabulate,
)
from debtflow.core.dispatch.geo import GeoPoint
from debtflow.core.dispatch.match import (
    DEFAULT_PRIORS,
    PAIR_FEATURES,
    MatchPriors,
    all_pairs,
    make_reason,
    pair_contributions,
    score_pairs,
)

# 10:00 in Shanghai (UTC+8): inside contact hours
MORNING = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
# 23:30 in Shanghai: quiet hours
NIGHT = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
PHONE = frozenset({Channel.PHONE, Channel.SMS})
VISIT = frozenset({Channel.VISIT})
HANGZHOU = GeoPoint(30.27, 120.15)


def case(**overrides: object) -> CaseProfile:
    base = CaseProfile(
        case_id=1,
        days_past_due=40,
        balance_fen=1_000_000,
        segment=Segment.POTENTIAL,
        propensity=0.4,
        product=ProductType.CONSUMER,
        region="Hangzhou",
        reachable=frozenset({Channel.PHONE, Channel.VISIT}),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def collector(**overrides: object) -> CollectorProfile:
    base = CollectorProfile(
        collector_id=100,
        kind=CollectorType.ONLINE_AGENT,
        regions=frozenset({"Hangzhou"}),
        channels=PHONE,
        open_cases=20,
        capacity_cases=100,
        cost_per_case_fen=2_000,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def values(
    cases: list[CaseProfile], collectors: list[CollectorProfile], at: datetime = MORNING
) -> np.ndarray:
    """value_fen as a (cases, collectors) matrix."""
    ct, kt = tabulate(cases, collectors, scene_time=at)
    ci, ki = all_pairs(len(cases), len(collectors))
    scores = score_pairs(ct, kt, ci, ki, scene_time=at)
    return scores.value_fen.reshape(len(cases), len(collectors))


def best(c: CaseProfile, collectors: list[CollectorProfile]) -> int:
    return collectors[int(np.argmax(values([c], collectors)[0]))].collector_id


PLAIN = collector(collector_id=1)


def test_emotional_debtor_goes_to_the_communicative_collector() -> None:
    talker = collector(collector_id=2, style_tags=frozenset({"communicative"}))
    angry = case(emotions={"angry": 4, "calm": 1})
    calm = case(emotions={"calm": 5})
    assert best(angry, [PLAIN, talker]) == 2
    v = values([calm], [PLAIN, talker])[0]
    assert v[0] == v[1]  # the style tag alone earns nothing on a calm debtor


def test_deliberate_defaulter_goes_to_the_legal_minded_collector() -> None:
    lawyerly = collector(collector_id=2, legal_skill=0.9)
    evasive = case(segment=Segment.RISK, intents={"evade": 3})
    assert best(evasive, [PLAIN, lawyerly]) == 2


def test_small_business_owner_goes_to_industry_experience() -> None:
    caterer = collector(collector_id=2, industries=frozenset({"Catering"}))
    owner = case(product=ProductType.SMALL_BUSINESS, industry="catering")
    other = case(product=ProductType.SMALL_BUSINESS, industry="logistics")
    assert best(owner, [PLAIN, caterer]) == 2
    v = values([other], [PLAIN, caterer])[0]
    assert v[0] == v[1]


def test_same_dialect_and_region_count() -> None:
    speaker = collector(collector_id=2, dialects=frozenset({"wu"}))
    elsewhere = collector(collector_id=3, regions=frozenset({"Chengdu"}))
    c = case(dialect="Wu")
    v = values([c], [PLAIN, speaker, elsewhere])[0]
    assert v[1] > v[0] > v[2]


def test_unreachable_channel_makes_a_pair_nearly_worthless() -> None:
    phone_only = case(reachable=frozenset({Channel.PHONE}))
    field = collector(collector_id=2, kind=CollectorType.FIELD_AGENT, channels=VISIT)
    v = values([phone_only], [PLAIN, field])[0]
    assert v[1] < v[0] / 5


def test_nearby_field_agent_beats_a_distant_one_and_travel_costs() -> None:
    near = collector(
        collector_id=2,
        kind=CollectorType.FIELD_AGENT,
        channels=VISIT,
        location=GeoPoint(30.28, 120.16),
        cost_per_km_fen=100,
    )
    far = replace(near, collector_id=3, location=GeoPoint(31.23, 121.47))  # Shanghai
    c = case(location=HANGZHOU)
    ct, kt = tabulate([c], [near, far], scene_time=MORNING)
    scores = score_pairs(ct, kt, *all_pairs(1, 2), scene_time=MORNING)
    assert scores.value_fen[0] > scores.value_fen[1]
    assert scores.distance_km[1] > 100 > 2 > scores.distance_km[0]
    # round trip at 1 yuan per km on top of the fixed cost
    assert scores.cost_fen[1] - 2_000 == pytest.approx(scores.distance_km[1] * 2 * 100, abs=1)


def test_overloaded_collector_loses_value() -> None:
    busy = collector(collector_id=2, open_cases=100, capacity_cases=100)
    v = values([case()], [PLAIN, busy])[0]
    assert v[0] > v[1]


def test_debtor_local_time_drives_the_contact_feature() -> None:
    c = case()
    ct, kt = tabulate([c], [PLAIN], scene_time=MORNING)
    index = np.array([0])
    column = PAIR_FEATURES.index("contactable_now")
    morning = pair_features(ct, kt, index, index, scene_time=MORNING).matrix[0, column]
    ct, kt = tabulate([c], [PLAIN], scene_time=NIGHT)
    night = pair_features(ct, kt, index, index, scene_time=NIGHT).matrix[0, column]
    assert (morning, night) == (1.0, 0.0)
    # the same instant (02:00 UTC) is 21:00 the day before in New York: quiet hours there
    ct, kt = tabulate([case(timezone="America/New_York")], [PLAIN], scene_time=MORNING)
    assert pair_features(ct, kt, index, index, scene_time=MORNING).matrix[0, column] == 0.0


def test_value_is_probability_times_balance_less_cost_in_whole_fen() -> None:
    part_timer = collector(collector_id=2, kind=CollectorType.PART_TIME, commission_bp=1_200)
    ct, kt = tabulate([case()], [PLAIN, part_timer], scene_time=MORNING)
    scores = score_pairs(ct, kt, *all_pairs(1, 2), scene_time=MORNING)
    assert scores.value_fen.dtype == np.int64
    for p in range(2):
        expected = scores.probability[p] * 1_000_000
        assert scores.expected_recovery_fen[p] == round(expected)
        assert scores.value_fen[p] == scores.expected_recovery_fen[p] - scores.cost_fen[p]
    # the part-timer's commission: 12 % of the expected recovery on top of the fixed cost
    assert scores.cost_fen[1] == round(2_000 + 0.12 * scores.probability[1] * 1_000_000)


def test_later_cases_are_less_likely_to_pay() -> None:
    v = values([case(days_past_due=10), case(days_past_due=300)], [PLAIN])
    assert v[0, 0] > v[1, 0]


def test_reasons_name_the_strongest_factors_in_both_languages() -> None:
    talker = collector(collector_id=2, style_tags=frozenset({"communicative"}))
    angry = case(emotions={"angry": 3})
    ct, kt = tabulate([angry], [talker], scene_time=MORNING)
    scores = score_pairs(ct, kt, *all_pairs(1, 1), scene_time=MORNING)
    reasons = scores.reasons(0)
    assert reasons[0].code == "emotional_communicative"
    assert reasons[0].logit > 0
    assert "communicative" in reasons[0].en and "沟通" in reasons[0].zh
    assert [abs(r.logit) for r in reasons] == sorted((abs(r.logit) for r in reasons), reverse=True)


def test_explanation_names_the_runner_up_and_what_decided() -> None:
    lawyerly = collector(collector_id=2, legal_skill=0.9)
    evasive = case(case_id=9, segment=Segment.RISK, intents={"evade": 3})
    ct, kt = tabulate([evasive], [PLAIN, lawyerly], scene_time=MORNING)
    scores = score_pairs(ct, kt, *all_pairs(1, 2), scene_time=MORNING)
    explanation = explain_case(scores, ct, kt, case_id=9, scene_time=MORNING)
    assert explanation.chosen.collector_id == 2
    assert explanation.runner_up is not None and explanation.runner_up.collector_id == 1
    assert explanation.margin_fen == explanation.chosen.value_fen - explanation.runner_up.value_fen
    assert explanation.margin_fen > 0
    assert explanation.deciding[0].code == "deliberate_legal"
    english = render_explanation(explanation)
    chinese = render_explanation(explanation, language="zh")
    assert "runner-up: collector 1" in english and "legal" in english
    assert "次选" in chinese and "法律" in chinese
    # a manager's override: explain the assignment to the plain collector instead
    overridden = explain_case(scores, ct, kt, case_id=9, scene_time=MORNING, chosen_collector_id=1)
    assert overridden.margin_fen < 0
    with pytest.raises(MatchInputError):
        explain_case(scores, ct, kt, case_id=9, scene_time=MORNING, chosen_collector_id=77)
    with pytest.raises(MatchInputError):
        explain_case(scores, ct, kt, case_id=10, scene_time=MORNING)
    with pytest.raises(MatchInputError):
        render_explanation(explanation, language="fr")


def test_sparse_pairs_score_the_same_as_the_full_product() -> None:
    rng = np.random.default_rng(3)
    cases = [
        case(
            case_id=i,
            days_past_due=int(rng.integers(1, 400)),
            propensity=float(rng.random()),
            emotions={"angry": int(rng.integers(0, 3)), "calm": 1},
        )
        for i in range(20)
    ]
    collectors = [
        collector(collector_id=100 + k, legal_skill=float(rng.random())) for k in range(7)
    ]
    ct, kt = tabulate(cases, collectors, scene_time=MORNING)
    full = score_pairs(ct, kt, *all_pairs(20, 7), scene_time=MORNING)
    pick = rng.choice(140, size=30, replace=False)
    sparse = score_pairs(
        ct, kt, full.case_index[pick], full.collector_index[pick], scene_time=MORNING
    )
    assert np.array_equal(sparse.value_fen, full.value_fen[pick])
    assert np.array_equal(sparse.reason_codes, full.reason_codes[pick])


@pytest.mark.parametrize(
    "bad, message",
    [
        (case(propensity=1.5), "propensity"),
        (case(balance_fen=-1), "balance"),
        (case(days_past_due=-3), "days past due"),
        (case(timezone="Mars/Olympus"), "time zone"),
    ],
)
def test_bad_case_profiles_are_refused(bad: CaseProfile, message: str) -> None:
    with pytest.raises(MatchInputError, match=message):
        tabulate([bad], [PLAIN], scene_time=MORNING)


def test_bad_collectors_pairs_and_priors_are_refused() -> None:
    with pytest.raises(MatchInputError, match="legal skill"):
        tabulate([case()], [collector(legal_skill=2.0)], scene_time=MORNING)
    with pytest.raises(MatchInputError, match="commission"):
        tabulate([case()], [collector(commission_bp=20_000)], scene_time=MORNING)
    with pytest.raises(MatchInputError, match="timezone-aware"):
        tabulate([case()], [PLAIN], scene_time=datetime(2026, 12, 1, 10))
    ct, kt = tabulate([case()], [PLAIN], scene_time=MORNING)
    with pytest.raises(MatchInputError, match="out of range"):
        score_pairs(ct, kt, np.array([0]), np.array([1]), scene_time=MORNING)
    with pytest.raises(MatchInputError, match="equally long"):
        score_pairs(ct, kt, np.array([0, 0]), np.array([0]), scene_time=MORNING)
    with pytest.raises(MatchInputError, match="weights"):
        MatchPriors(weights=(1.0, 2.0))
    assert len(DEFAULT_PRIORS.weights) == len(PAIR_FEATURES)


def test_no_pairs_score_to_empty_arrays() -> None:
    ct, kt = tabulate([case()], [PLAIN], scene_time=MORNING)
    empty = np.array([], dtype=np.int64)
    scores = score_pairs(ct, kt, empty, empty, scene_time=MORNING)
    assert scores.value_fen.shape == (0,) and scores.reason_codes.shape == (0, 3)


# ----------------------------------------------- deciding reasons are true of the pair


def _explained(c: CaseProfile, collectors: list[CollectorProfile]):  # type: ignore[no-untyped-def]
    ct, kt = tabulate([c], collectors, scene_time=MORNING)
    scores = score_pairs(ct, kt, *all_pairs(1, len(collectors)), scene_time=MORNING)
    return explain_case(scores, ct, kt, case_id=c.case_id, scene_time=MORNING)


def test_a_law_firm_runner_up_is_named_as_the_runner_ups_drawback() -> None:
    law_firm = collector(collector_id=2, kind=CollectorType.LAW_FIRM, channels=PHONE)
    explanation = _explained(case(), [PLAIN, law_firm])
    assert explanation.chosen.collector_id == 1  # the online agent, not the law firm
    early = [r for r in explanation.deciding if r.code == "law_firm_early"]
    assert len(early) == 1 and early[0].about == "runner_up" and early[0].logit > 0
    english = render_explanation(explanation)
    chinese = render_explanation(explanation, language="zh")
    # never "law firm appropriate at this stage" for an online agent on a plain case
    assert "appropriate" not in english and "现阶段适合律所介入" not in chinese
    assert "against the runner-up: too early for a law firm" in english
    assert "次选不利：尚未到需要律所介入的阶段" in chinese


def test_a_far_field_runner_up_is_named_far_not_the_chosen_one_near() -> None:
    far = collector(
        collector_id=2,
        kind=CollectorType.FIELD_AGENT,
        channels=VISIT | PHONE,
        location=GeoPoint(30.27, 121.5),  # about 130 km east of the debtor
    )
    explanation = _explained(case(location=HANGZHOU), [PLAIN, far])
    assert explanation.chosen.collector_id == 1
    far_reason = [r for r in explanation.deciding if r.code == "field_far"]
    assert len(far_reason) == 1 and far_reason[0].about == "runner_up"
    english = render_explanation(explanation)
    chinese = render_explanation(explanation, language="zh")
    assert "not far" not in english and "距离债务人不远" not in chinese
    assert "against the runner-up: field collector far from the debtor" in english
    assert "次选不利：外访人员距离债务人较远" in chinese


def test_what_the_chosen_collector_has_is_still_said_of_the_chosen_one() -> None:
    lawyerly = collector(collector_id=2, legal_skill=0.9)
    explanation = _explained(case(segment=Segment.RISK, intents={"evade": 3}), [PLAIN, lawyerly])
    legal = explanation.deciding[0]
    assert (legal.code, legal.about) == ("deliberate_legal", "chosen")
    assert legal.en == "signs of deliberate default and a legal-minded collector"


KINDS = list(CollectorType)


@settings(max_examples=150, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(KINDS), min_size=2, max_size=4),
    segment=st.sampled_from(list(Segment)),
    dpd=st.integers(0, 700),
    legal=st.lists(st.floats(0, 1), min_size=4, max_size=4),
    track=st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=4, max_size=4),
    east_km=st.lists(st.floats(0, 300), min_size=4, max_size=4),
    loads=st.lists(st.integers(0, 120), min_size=4, max_size=4),
    chosen_slot=st.integers(0, 3),
)
def test_every_deciding_reason_is_true_of_the_collector_it_names(
    kinds: list[CollectorType],
    segment: Segment,
    dpd: int,
    legal: list[float],
    track: list[float | None],
    east_km: list[float],
    loads: list[int],
    chosen_slot: int,
) -> None:
    """'chosen' reasons count for the chosen pair, 'runner_up' ones against the runner-up:
    the same sign rule as each pair's own reasons, so the text is true of that collector."""
    team = [
        collector(
            collector_id=10 + k,
            kind=kind,
            channels=PHONE | VISIT,
            legal_skill=legal[k],
            open_cases=loads[k],
            recovery_by_segment={} if track[k] is None else {segment: track[k]},
            location=GeoPoint(30.27, 120.15 + east_km[k] / 96.0),
        )
        for k, kind in enumerate(kinds)
    ]
    c = case(segment=segment, days_past_due=dpd, location=HANGZHOU, intents={"evade": 1})
    ct, kt = tabulate([c], team, scene_time=MORNING)
    scores = score_pairs(ct, kt, *all_pairs(1, len(team)), scene_time=MORNING)
    chosen_id = team[chosen_slot % len(team)].collector_id
    explanation = explain_case(
        scores, ct, kt, case_id=1, scene_time=MORNING, chosen_collector_id=chosen_id
    )
    assert explanation.runner_up is not None
    ids = [k.collector_id for k in team]
    own = {
        ids[int(scores.collector_index[p])]: dict(zip(PAIR_FEATURES, features_row, strict=False))
        for p, features_row in enumerate(
            pair_contributions(
                ct, kt, scores.case_index, scores.collector_index, scene_time=MORNING
            ).contributions
        )
    }
    for reason in explanation.deciding:
        assert reason.logit > 0
        if reason.about == "chosen":
            assert own[chosen_id][reason.code] > 0
            assert reason.en == make_reason(reason.code, 1.0).en
        else:
            assert reason.about == "runner_up"
            assert own[explanation.runner_up.collector_id][reason.code] < 0
            assert make_reason(reason.code, -1.0).en in reason.en
            assert make_reason(reason.code, -1.0).zh in reason.zh
