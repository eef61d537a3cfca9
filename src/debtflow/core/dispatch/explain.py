"""Why a case went to a collector: top reasons of the chosen pair and of the runner-up.

`explain_case` takes scored pairs, picks (or is told) the chosen collector for a case,
finds the best other candidate, and lists what decided between them: the features whose
logit contributions differ most in the chosen collector's favour.

A deciding feature is worded as what is true of the pair: when it counts *for* the chosen
collector (its own contribution is positive) it is said of the chosen one ("signs of
deliberate default and a legal-minded collector"); otherwise the chosen collector only
lacks a drawback the runner-up has (an online agent against a law firm on a plain case),
and it is said of the runner-up ("against the runner-up: too early for a law firm").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np

from debtflow.core.dispatch.features import CaseTable, CollectorTable, FloatArray, MatchInputError
from debtflow.core.dispatch.match import (
    DEFAULT_PRIORS,
    REASON_CODES,
    REASON_TEXT,
    REASONS_KEPT,
    MatchPriors,
    MatchReason,
    PairScores,
    ProbabilityAdjuster,
    pair_contributions,
)
from debtflow.core.money import fen_to_yuan

Side = Literal["chosen", "runner_up"]
CHOSEN: Side = "chosen"
RUNNER_UP: Side = "runner_up"
RUNNER_UP_PREFIX = ("against the runner-up: ", "次选不利：")


@dataclass(frozen=True)
class DecidingReason:
    """A feature that set the chosen collector apart from the runner-up. ``logit`` is the
    chosen pair's contribution minus the runner-up's (> 0); ``about`` says whose property
    the text describes: ``chosen`` (it counts for the chosen pair) or ``runner_up`` (it
    counts against the runner-up, which the chosen collector does not share as much)."""

    code: str
    logit: float
    about: Side
    en: str
    zh: str


def deciding_reason(code: str, logit: float, about: Side) -> DecidingReason:
    """The words for one deciding feature, true of the collector it is about."""
    if about not in (CHOSEN, RUNNER_UP):
        raise MatchInputError(f"a deciding reason is about 'chosen' or 'runner_up', not {about!r}")
    en_for, en_against, zh_for, zh_against = REASON_TEXT[code]
    if about == CHOSEN:
        return DecidingReason(code=code, logit=logit, about=about, en=en_for, zh=zh_for)
    en_prefix, zh_prefix = RUNNER_UP_PREFIX
    return DecidingReason(
        code=code, logit=logit, about=about, en=en_prefix + en_against, zh=zh_prefix + zh_against
    )


def deciding_between(chosen: FloatArray, runner_up: FloatArray) -> tuple[DecidingReason, ...]:
    """The features (rows of per-reason logit contributions, order of REASON_CODES) that
    favour the chosen pair most, strongest first, each said of the collector it is true of:
    of the chosen one where its own contribution is positive, else of the runner-up (whose
    contribution is then negative, since it is below the chosen one's)."""
    difference = np.asarray(chosen, dtype=np.float64) - np.asarray(runner_up, dtype=np.float64)
    order = np.argsort(-difference, kind="stable")
    return tuple(
        deciding_reason(
            REASON_CODES[int(i)],
            float(difference[i]),
            CHOSEN if chosen[i] > 1e-12 else RUNNER_UP,
        )
        for i in order[:REASONS_KEPT]
        if difference[i] > 1e-9
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
    # in the chosen collector's favour, strongest first (without a runner-up: the chosen
    # pair's own reasons, for or against it)
    deciding: tuple[DecidingReason, ...]


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
            deciding=tuple(
                DecidingReason(code=r.code, logit=r.logit, about=CHOSEN, en=r.en, zh=r.zh)
                for r in scores.reasons(chosen)
            ),
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
    deciding = deciding_between(parts.contributions[0], parts.contributions[1])
    return AssignmentExplanation(
        case_id=case_id,
        chosen=_candidate(scores, collectors, chosen),
        runner_up=_candidate(scores, collectors, runner_up),
        margin_fen=int(scores.value_fen[chosen] - scores.value_fen[runner_up]),
        deciding=deciding,
    )


def _yuan(fen: int) -> str:
    return fen_to_yuan(fen, symbol=True)


def render_explanation(explanation: AssignmentExplanation, *, language: str = "en") -> str:
    """Plain text for a manager, in English (`en`) or simplified Chinese (`zh`)."""
    if language not in ("en", "zh"):
        raise MatchInputError("language must be 'en' or 'zh'")
    zh = language == "zh"

    def text(reason: MatchReason | DecidingReason) -> str:
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
