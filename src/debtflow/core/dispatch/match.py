"""Match value of a (case, collector) pair: P(recovery) × balance − cost of working it.

    logit P = logit(propensity) − dpd_decay × min(DPD / 365, 2) + Σ weight_f × feature_f

The weights are the documented priors of docs/matching.md (emotional debtor →
communicative collector, deliberate defaulter → legal-minded, small-business owner →
industry experience, same region / dialect, a nearby field agent, ...). A learner
(`learner.py`) may then shift the probability per collector from observed outcomes.

Cost = the collector's cost per case + round-trip travel for field agents + commission on
the expected recovery. Values are integer fen. Each pair keeps its top reasons (feature
codes with their logit contribution) so an assignment can be explained.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from debtflow.core.dispatch.features import (
    FEATURE_COUNT,
    PAIR_FEATURES,
    CaseTable,
    CollectorTable,
    FloatArray,
    IntArray,
    MatchInputError,
    PairFeatures,
    case_context,
    pair_features,
)

LEARNED = "learned_from_outcomes"
REASON_CODES: tuple[str, ...] = (*PAIR_FEATURES, LEARNED)
REASONS_KEPT = 3
PROBABILITY_FLOOR = 0.001
PROBABILITY_CEILING = 0.999

# code -> (English when it counts for the pair, when against, zh-CN for, zh-CN against)
REASON_TEXT: dict[str, tuple[str, str, str, str]] = {
    "emotional_communicative": (
        "emotional debtor and a communicative collector",
        "emotional debtor but the collector is not known as communicative",
        "债务人情绪波动大，催收员善于沟通",
        "债务人情绪波动大，但催收员沟通风格不匹配",
    ),
    "deliberate_legal": (
        "signs of deliberate default and a legal-minded collector",
        "signs of deliberate default but little legal skill",
        "债务人有恶意逃废债迹象，催收员具备法律专长",
        "债务人有恶意逃废债迹象，但催收员法律能力不足",
    ),
    "business_industry": (
        "small-business owner and the collector knows the industry",
        "small-business owner outside the collector's industries",
        "小微企业主，催收员有同行业经验",
        "小微企业主，催收员缺乏该行业经验",
    ),
    "hardship_empathetic": (
        "debtor in hardship and an empathetic collector",
        "debtor in hardship but the collector is not empathetic",
        "债务人处于困难期，催收员富有同理心",
        "债务人处于困难期，但催收员同理心不足",
    ),
    "rural_rural": (
        "rural borrower and a collector used to village work",
        "rural borrower but no village experience",
        "农村借款人，催收员熟悉乡村工作",
        "农村借款人，但催收员缺乏乡村经验",
    ),
    "same_region": (
        "collector covers the debtor's region",
        "collector does not cover the debtor's region",
        "催收员负责债务人所在地区",
        "催收员不负责债务人所在地区",
    ),
    "same_dialect": (
        "collector speaks the debtor's dialect",
        "collector does not speak the debtor's dialect",
        "催收员会说债务人的方言",
        "催收员不会说债务人的方言",
    ),
    "field_nearby": (
        "field collector close to the debtor",
        "field collector not close to the debtor",
        "外访人员距离债务人较近",
        "外访人员距离债务人不近",
    ),
    "field_far": (
        "field collector not far from the debtor",
        "field collector far from the debtor",
        "外访人员距离债务人不远",
        "外访人员距离债务人较远",
    ),
    "contactable_now": (
        "debtor's local time allows contact now",
        "debtor's local time is outside contact hours",
        "债务人当地时间当前可以联系",
        "债务人当地时间不在可联系时段",
    ),
    "no_shared_channel": (
        "the debtor is reachable on the collector's channels",
        "the debtor is not reachable on any channel the collector works",
        "债务人可通过催收员使用的渠道联系",
        "债务人无法通过催收员使用的任何渠道联系",
    ),
    "overloaded": (
        "collector has room for more cases",
        "collector is near or over capacity",
        "催收员仍有余量",
        "催收员在办案件接近或超过上限",
    ),
    "segment_track_record": (
        "collector recovers well on this segment lately",
        "collector recovers poorly on this segment lately",
        "催收员近期在该类客群回款较好",
        "催收员近期在该类客群回款较差",
    ),
    "law_firm_late_risk": (
        "late risk case suited to a law firm",
        "late risk case not suited to this law firm",
        "逾期较久的高风险案件，适合律所处理",
        "逾期较久的高风险案件，不适合该律所",
    ),
    "law_firm_early": (
        "law firm appropriate at this stage",
        "too early for a law firm: not a legal case yet",
        "现阶段适合律所介入",
        "尚未到需要律所介入的阶段",
    ),
    "field_large_balance": (
        "large balance worth a visit",
        "large balance but a visit is costly",
        "欠款金额较大，值得上门拜访",
        "欠款金额较大，但上门成本高",
    ),
    LEARNED: (
        "this collector did better than expected on similar cases",
        "this collector did worse than expected on similar cases",
        "该催收员在类似案件上的实际表现优于预期",
        "该催收员在类似案件上的实际表现低于预期",
    ),
}


@dataclass(frozen=True)
class MatchPriors:
    """Logit weights per pair feature (order of PAIR_FEATURES) and the lateness decay."""

    weights: tuple[float, ...]
    dpd_decay: float = 0.8  # logit points lost per year past due

    def __post_init__(self) -> None:
        if len(self.weights) != FEATURE_COUNT:
            raise MatchInputError(f"priors need {FEATURE_COUNT} weights, got {len(self.weights)}")


PRIOR_WEIGHTS: dict[str, float] = {
    "emotional_communicative": 0.8,
    "deliberate_legal": 0.9,
    "business_industry": 0.7,
    "hardship_empathetic": 0.5,
    "rural_rural": 0.5,
    "same_region": 0.4,
    "same_dialect": 0.3,
    "field_nearby": 0.6,
    "field_far": -0.4,
    "contactable_now": 0.15,
    "no_shared_channel": -3.0,
    "overloaded": -0.8,
    "segment_track_record": 2.0,
    "law_firm_late_risk": 0.8,
    "law_firm_early": -1.2,
    "field_large_balance": 0.4,
}
DEFAULT_PRIORS = MatchPriors(weights=tuple(PRIOR_WEIGHTS[name] for name in PAIR_FEATURES))


class ProbabilityAdjuster(Protocol):
    """What a learner offers the scorer: a probability shift per pair."""

    def adjustment(
        self, context: FloatArray, collector_ids: IntArray, case_ids: IntArray, *, explore: bool
    ) -> FloatArray: ...


@dataclass(frozen=True)
class MatchReason:
    code: str
    logit: float  # contribution to the log-odds of recovery (negative: counts against)
    en: str
    zh: str


@dataclass(frozen=True)
class PairScores:
    case_index: IntArray
    collector_index: IntArray
    probability: FloatArray
    expected_recovery_fen: IntArray
    cost_fen: IntArray
    value_fen: IntArray
    reason_codes: IntArray  # (pairs, REASONS_KEPT) indices into REASON_CODES
    reason_logits: FloatArray  # (pairs, REASONS_KEPT), 0 where fewer reasons apply
    distance_km: FloatArray

    def reasons(self, pair: int) -> tuple[MatchReason, ...]:
        """Top reasons of one pair, strongest first, in readable English and zh-CN."""
        out: list[MatchReason] = []
        for code_index, logit in zip(
            self.reason_codes[pair], self.reason_logits[pair], strict=True
        ):
            if logit == 0.0:
                continue
            out.append(make_reason(REASON_CODES[int(code_index)], float(logit)))
        return tuple(out)


def make_reason(code: str, logit: float) -> MatchReason:
    en_for, en_against, zh_for, zh_against = REASON_TEXT[code]
    favourable = logit > 0
    return MatchReason(
        code=code,
        logit=logit,
        en=en_for if favourable else en_against,
        zh=zh_for if favourable else zh_against,
    )


def _logit(p: FloatArray) -> FloatArray:
    clipped = np.clip(p, PROBABILITY_FLOOR, PROBABILITY_CEILING)
    result: FloatArray = np.log(clipped / (1.0 - clipped))
    return result


def _sigmoid(z: FloatArray) -> FloatArray:
    result: FloatArray = 1.0 / (1.0 + np.exp(-z))
    return result


@dataclass(frozen=True)
class PairContributions:
    """Everything `score_pairs` computes before ranking reasons (used by explanations)."""

    features: PairFeatures
    contributions: FloatArray  # (pairs, len(REASON_CODES)) logit points
    probability: FloatArray


def pair_contributions(
    cases: CaseTable,
    collectors: CollectorTable,
    case_index: IntArray,
    collector_index: IntArray,
    *,
    scene_time: datetime,
    priors: MatchPriors = DEFAULT_PRIORS,
    learner: ProbabilityAdjuster | None = None,
    explore: bool = False,
) -> PairContributions:
    features = pair_features(cases, collectors, case_index, collector_index, scene_time=scene_time)
    ci = features.case_index
    weights = np.asarray(priors.weights, dtype=np.float64)
    by_feature = np.zeros((len(REASON_CODES), len(ci)), dtype=np.float64)
    by_feature[:FEATURE_COUNT] = features.matrix.T * weights[:, None]
    contributions = by_feature.T  # (pairs, reasons) view
    base = _logit(cases.propensity[ci]) - priors.dpd_decay * np.minimum(
        cases.days_past_due[ci] / 365.0, 2.0
    )
    logit = base + by_feature[:FEATURE_COUNT].sum(axis=0)
    probability = _sigmoid(logit)
    if learner is not None and len(ci):
        shift = learner.adjustment(
            case_context(cases, ci),
            collectors.collector_ids[features.collector_index],
            cases.case_ids[ci],
            explore=explore,
        )
        learned = np.clip(probability + shift, PROBABILITY_FLOOR, PROBABILITY_CEILING)
        by_feature[FEATURE_COUNT] = _logit(learned) - _logit(probability)
        probability = learned
    return PairContributions(
        features=features, contributions=contributions, probability=probability
    )


def score_pairs(
    cases: CaseTable,
    collectors: CollectorTable,
    case_index: IntArray,
    collector_index: IntArray,
    *,
    scene_time: datetime,
    priors: MatchPriors = DEFAULT_PRIORS,
    learner: ProbabilityAdjuster | None = None,
    explore: bool = False,
) -> PairScores:
    """Expected value in fen for each listed pair, with its top reasons."""
    parts = pair_contributions(
        cases,
        collectors,
        case_index,
        collector_index,
        scene_time=scene_time,
        priors=priors,
        learner=learner,
        explore=explore,
    )
    features = parts.features
    ci, ki = features.case_index, features.collector_index
    balance = cases.balance_fen[ci].astype(np.float64)
    expected = parts.probability * balance
    travel_km = np.where(np.isfinite(features.distance_km), features.distance_km, 0.0) * 2.0
    cost = (
        collectors.cost_per_case_fen[ki]
        + travel_km * collectors.cost_per_km_fen[ki]
        + expected * collectors.commission_bp[ki] / 10_000.0
    )
    expected_fen = np.rint(expected).astype(np.int64)
    cost_fen = np.rint(cost).astype(np.int64)

    kept = min(REASONS_KEPT, len(REASON_CODES))
    # top reasons by absolute contribution: `kept` arg-max passes beat a row-wise sort
    strength = np.abs(parts.contributions.T).astype(np.float32)  # (reasons, pairs)
    columns = np.arange(len(ci))
    top = np.empty((len(ci), kept), dtype=np.int64)
    logits = np.empty((len(ci), kept), dtype=np.float64)
    for slot in range(kept):
        best = np.argmax(strength, axis=0) if len(ci) else np.zeros(0, dtype=np.int64)
        top[:, slot] = best
        logits[:, slot] = parts.contributions.T[best, columns]
        strength[best, columns] = -1.0
    return PairScores(
        case_index=ci,
        collector_index=ki,
        probability=parts.probability,
        expected_recovery_fen=expected_fen,
        cost_fen=cost_fen,
        value_fen=expected_fen - cost_fen,
        reason_codes=top.astype(np.int64),
        reason_logits=logits,
        distance_km=features.distance_km,
    )


def all_pairs(n_cases: int, n_collectors: int) -> tuple[IntArray, IntArray]:
    """Index arrays for the full cross product (case-major)."""
    case_index = np.repeat(np.arange(n_cases, dtype=np.int64), n_collectors)
    collector_index = np.tile(np.arange(n_collectors, dtype=np.int64), n_cases)
    return case_index, collector_index
