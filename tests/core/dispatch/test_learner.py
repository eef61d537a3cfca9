"""Learning from outcomes: values move the right way, seeded, serialisable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from debtflow.core.dispatch.features import (
    CONTEXT_COUNT,
    CaseProfile,
    Channel,
    CollectorProfile,
    CollectorType,
    MatchInputError,
    ProductType,
    Segment,
    case_context,
    tabulate,
)
from debtflow.core.dispatch.learner import (
    DispatchOutcome,
    OutcomeLearner,
    outcome_reward,
)
from debtflow.core.dispatch.match import all_pairs, score_pairs

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
TALKER = CollectorProfile(
    collector_id=1,
    kind=CollectorType.ONLINE_AGENT,
    regions=frozenset({"Hangzhou"}),
    channels=frozenset({Channel.PHONE}),
    open_cases=10,
    capacity_cases=100,
    cost_per_case_fen=2_000,
    style_tags=frozenset({"communicative"}),
)
STEADY = replace(TALKER, collector_id=2, style_tags=frozenset())


def debtor(case_id: int, angry: bool) -> CaseProfile:
    return CaseProfile(
        case_id=case_id,
        days_past_due=45,
        balance_fen=1_000_000,
        segment=Segment.POTENTIAL,
        propensity=0.35,
        product=ProductType.CONSUMER,
        region="Hangzhou",
        reachable=frozenset({Channel.PHONE}),
        emotions={"angry": 4, "calm": 1} if angry else {"calm": 5},
    )


def simulate(learner: OutcomeLearner, outcomes: int, seed: int) -> None:
    """Truth: STEADY recovers 60 % of angry debtors, TALKER only 20 % (priors say the
    opposite); on calm debtors both recover what the priors expect."""
    rng = np.random.default_rng(seed)
    cases = [debtor(i, angry=bool(i % 2)) for i in range(outcomes)]
    ct, kt = tabulate(cases, [TALKER, STEADY], scene_time=NOW)
    ci, ki = all_pairs(len(cases), 2)
    prior = score_pairs(ct, kt, ci, ki, scene_time=NOW).probability.reshape(-1, 2)
    context = case_context(ct, np.arange(len(cases)))
    for row, c in enumerate(cases):
        k = int(rng.integers(0, 2))
        angry = row % 2 == 1
        truth = (0.2 if k == 0 else 0.6) if angry else prior[row, k]
        recovered = c.balance_fen if rng.random() < truth else 0
        learner.record(
            collector_id=(TALKER, STEADY)[k].collector_id,
            context=context[row],
            prior_probability=float(prior[row, k]),
            outcome=DispatchOutcome(balance_fen=c.balance_fen, recovered_fen=recovered),
        )


def value_table(learner: OutcomeLearner | None) -> np.ndarray:
    """(calm, angry) × (TALKER, STEADY) expected values in fen."""
    ct, kt = tabulate([debtor(1000, False), debtor(1001, True)], [TALKER, STEADY], scene_time=NOW)
    scores = score_pairs(ct, kt, *all_pairs(2, 2), scene_time=NOW, learner=learner)
    return scores.value_fen.reshape(2, 2)


def test_outcomes_shift_values_towards_the_collector_who_really_recovers() -> None:
    before = value_table(None)
    assert before[1, 0] > before[1, 1]  # priors: angry debtor → communicative TALKER
    learner = OutcomeLearner(seed=7)
    simulate(learner, 600, seed=11)
    after = value_table(learner)
    assert after[1, 1] > before[1, 1] + 50_000  # STEADY gains ≥ ¥500 on angry debtors
    assert after[1, 0] < before[1, 0] - 200_000  # TALKER loses ≥ ¥2,000 on them
    assert after[1, 1] > after[1, 0]  # and the ranking flips
    # on calm debtors the priors were right: the gap between the two moves far less
    calm_move = abs((after[0, 1] - after[0, 0]) - (before[0, 1] - before[0, 0]))
    angry_move = (after[1, 1] - after[1, 0]) - (before[1, 1] - before[1, 0])
    assert calm_move < angry_move / 3


def test_learned_reason_appears_in_the_explanation() -> None:
    learner = OutcomeLearner(seed=7)
    simulate(learner, 600, seed=11)
    ct, kt = tabulate([debtor(1001, True)], [STEADY], scene_time=NOW)
    scores = score_pairs(ct, kt, *all_pairs(1, 1), scene_time=NOW, learner=learner)
    learned = [r for r in scores.reasons(0) if r.code == "learned_from_outcomes"]
    assert learned and learned[0].logit > 0
    assert "better than expected" in learned[0].en


def test_collectors_without_history_keep_the_priors() -> None:
    learner = OutcomeLearner(seed=1)
    simulate(learner, 50, seed=2)
    newcomer = replace(STEADY, collector_id=99)
    ct, kt = tabulate([debtor(1, True)], [newcomer], scene_time=NOW)
    with_learner = score_pairs(ct, kt, *all_pairs(1, 1), scene_time=NOW, learner=learner)
    without = score_pairs(ct, kt, *all_pairs(1, 1), scene_time=NOW)
    assert with_learner.value_fen[0] == without.value_fen[0]
    assert learner.outcomes_seen(99) == 0 and learner.outcomes_seen(2) > 0


def adjustments(learner: OutcomeLearner, explore: bool) -> np.ndarray:
    cases = [debtor(i, angry=bool(i % 3)) for i in range(200)]
    ct, _ = tabulate(cases, [TALKER], scene_time=NOW)
    context = case_context(ct, np.arange(200))
    ids = np.full(200, STEADY.collector_id)
    return learner.adjustment(context, ids, ct.case_ids, explore=explore)


def test_exploration_is_seeded_and_takes_its_share() -> None:
    def trained(seed: int, share: float) -> OutcomeLearner:
        learner = OutcomeLearner(seed=seed, exploration_share=share)
        simulate(learner, 200, seed=5)
        return learner

    a, b = trained(3, 0.25), trained(3, 0.25)
    first_a, first_b = adjustments(a, True), adjustments(b, True)
    assert np.array_equal(first_a, first_b)  # same seed, same stream, same answer
    mean = adjustments(a, False)
    explored = ~np.isclose(first_a, mean)
    assert 0.1 < explored.mean() < 0.4  # about a quarter of the cases explore
    # the next round explores other cases / other samples
    assert not np.array_equal(adjustments(a, True), first_a)
    assert not np.array_equal(adjustments(trained(4, 0.25), True), first_a)
    assert np.array_equal(adjustments(trained(3, 0.0), True), mean)


def test_state_round_trips_through_json_and_bytes() -> None:
    learner = OutcomeLearner(seed=9, exploration_share=0.3, prior_strength=2.0, noise=0.1)
    simulate(learner, 120, seed=4)
    adjustments(learner, True)  # advance the round counter
    text = learner.to_json()
    restored = OutcomeLearner.from_json(text)
    again = OutcomeLearner.from_bytes(learner.to_bytes())
    assert restored.round == learner.round == 1
    assert restored.outcomes_seen(2) == learner.outcomes_seen(2)
    assert learner.to_json() == restored.to_json()
    expected = adjustments(learner, True)  # round 1 of the original
    for copy in (restored, again):
        assert np.array_equal(adjustments(copy, True), expected)


@pytest.mark.parametrize(
    "state",
    ["not json", '{"version": 99}', '{"version": 1}', "[]"],
)
def test_broken_state_is_refused(state: str) -> None:
    with pytest.raises(MatchInputError):
        OutcomeLearner.from_json(state)


def test_state_with_wrong_shapes_is_refused() -> None:
    learner = OutcomeLearner()
    simulate(learner, 10, seed=1)
    text = learner.to_json().replace('"dimension": 8', '"dimension": 3')
    with pytest.raises(MatchInputError, match="shape"):
        OutcomeLearner.from_json(text)


def test_reward_counts_money_first_then_promise_then_contact() -> None:
    assert outcome_reward(DispatchOutcome(balance_fen=1000, recovered_fen=250)) == 0.25
    assert outcome_reward(DispatchOutcome(balance_fen=1000, recovered_fen=5000)) == 1.0
    assert outcome_reward(DispatchOutcome(balance_fen=1000, promised=True)) == 0.3
    assert outcome_reward(DispatchOutcome(balance_fen=1000, contacted=True)) == 0.1
    assert outcome_reward(DispatchOutcome(balance_fen=1000)) == 0.0


def test_bad_learner_input_is_refused() -> None:
    with pytest.raises(MatchInputError):
        OutcomeLearner(exploration_share=1.5)
    with pytest.raises(MatchInputError):
        DispatchOutcome(balance_fen=0)
    with pytest.raises(MatchInputError):
        DispatchOutcome(balance_fen=10, recovered_fen=-1)
    learner = OutcomeLearner()
    outcome = DispatchOutcome(balance_fen=100)
    with pytest.raises(MatchInputError, match="entries"):
        learner.record(collector_id=1, context=np.ones(3), prior_probability=0.5, outcome=outcome)
    with pytest.raises(MatchInputError, match="prior probability"):
        learner.record(
            collector_id=1, context=np.ones(CONTEXT_COUNT), prior_probability=2, outcome=outcome
        )
    with pytest.raises(MatchInputError, match="finite"):
        learner.record(
            collector_id=1,
            context=np.full(CONTEXT_COUNT, np.nan),
            prior_probability=0.5,
            outcome=outcome,
        )
