"""Why a case went to a collector: top reasons of the chosen pair and of the runner-up.

`explain_case` takes scored pairs, picks (or is told) the chosen collector for a case,
finds the best other candidate, and lists what decided between them: the features whose
logit contributions differ most in the chosen collector's favour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from debtflow.core.dispatch.features import CaseTable, CollectorTable, MatchInputError
from debtflow.core.dispatch.match import (
    DEFAULT_PRIORS,
    REASON_CODES,
    REASONS_KEPT,
    MatchPriors,
    MatchReason,
    PairScores,
    ProbabilityAdjuster,
    make_reason,
    pair_contributions,
)


@dataclass(frozen=True)
class CandidateExplanation:
    collector_id: int
    value_fen: int
    probability: float
    reasons: tuple[MatchReason, ...]


@dataclass(frozen=True)
class AssignmentExplanation:
    case_id: int
    chosen: CandidateExplanation
    runner_up: CandidateExplanation | None
    margin_fen: int  # chosen value − runner-up value (0 without a runner-up)
    deciding: tuple[MatchReason, ...]  # in the chosen collector's favour, strongest first


def _candidate(scores: PairScores, collectors: CollectorTable, pair: int) -> CandidateExplanation:
    return CandidateExplanation(
        collector_id=int(collectors.collector_ids[scores.collector_index[pair]]),
        value_fen=int(scores.value_fen[pair]),
        probability=float(scores.probability[pair]),
        reasons=scores.reasons(pair),
    )


def explain_case(
    scores: PairScores,
    cases: CaseTable,
    collectors: CollectorTable,
    *,
    case_id: int,
    scene_time: datetime,
    chosen_collector_id: int | None = None,
    priors: MatchPriors = DEFAULT_PRIORS,
    learner: ProbabilityAdjuster | None = None,
) -> AssignmentExplanation:
    """Explain the assignment of `case_id` (default: to its highest-value candidate)."""
    rows = np.flatnonzero(cases.case_ids == case_id)
    if len(rows) != 1:
        raise MatchInputError(f"case {case_id} is not in the case table")
    pairs = np.flatnonzero(scores.case_index == rows[0])
    if len(pairs) == 0:
        raise MatchInputError(f"case {case_id} has no scored candidates")
    ranked = pairs[np.argsort(-scores.value_fen[pairs], kind="stable")]
    if chosen_collector_id is None:
        chosen = int(ranked[0])
    else:
        matches = [
            int(p)
            for p in ranked
            if collectors.collector_ids[scores.collector_index[p]] == chosen_collector_id
        ]
        if not matches:
            raise MatchInputError(f"collector {chosen_collector_id} is not a candidate")
        chosen = matches[0]
    others = [int(p) for p in ranked if p != chosen]
    if not others:
        return AssignmentExplanation(
            case_id=case_id,
            chosen=_candidate(scores, collectors, chosen),
            runner_up=None,
            margin_fen=0,
            deciding=scores.reasons(chosen),
        )
    runner_up = others[0]
    both = np.array([chosen, runner_up])
    parts = pair_contributions(
        cases,
        collectors,
        scores.case_index[both],
        scores.collector_index[both],
        scene_time=scene_time,
        priors=priors,
        learner=learner,
    )
    difference = parts.contributions[0] - parts.contributions[1]
    order = np.argsort(-difference, kind="stable")
    deciding = tuple(
        make_reason(REASON_CODES[int(i)], float(difference[i]))
        for i in order[:REASONS_KEPT]
        if difference[i] > 1e-9
    )
    return AssignmentExplanation(
        case_id=case_id,
        chosen=_candidate(scores, collectors, chosen),
        runner_up=_candidate(scores, collectors, runner_up),
        margin_fen=int(scores.value_fen[chosen] - scores.value_fen[runner_up]),
        deciding=deciding,
    )


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def render_explanation(explanation: AssignmentExplanation, *, language: str = "en") -> str:
    """Plain text for a manager, in English (`en`) or simplified Chinese (`zh`)."""
    if language not in ("en", "zh"):
        raise MatchInputError("language must be 'en' or 'zh'")
    zh = language == "zh"

    def text(reason: MatchReason) -> str:
        return reason.zh if zh else reason.en

    chosen = explanation.chosen
    lines = [
        (
            f"案件 {explanation.case_id} → 催收员 {chosen.collector_id}，预期价值 "
            f"{_yuan(chosen.value_fen)}（回款概率 {chosen.probability:.0%}）"
            if zh
            else f"case {explanation.case_id} → collector {chosen.collector_id}, expected value "
            f"{_yuan(chosen.value_fen)} (recovery probability {chosen.probability:.0%})"
        )
    ]
    lines += [f"  {'+' if r.logit > 0 else '-'} {text(r)}" for r in chosen.reasons]
    runner = explanation.runner_up
    if runner is not None:
        lines.append(
            f"次选：催收员 {runner.collector_id}，预期价值 {_yuan(runner.value_fen)}，"
            f"差额 {_yuan(explanation.margin_fen)}"
            if zh
            else f"runner-up: collector {runner.collector_id}, expected value "
            f"{_yuan(runner.value_fen)}, {_yuan(explanation.margin_fen)} less"
        )
        lines.append("决定因素：" if zh else "deciding:")
        lines += [f"  * {text(r)}" for r in explanation.deciding]
    return "\n".join(lines)
