"""``debtflow case explain``: a case's score, segment, the reasons stored with the decision
and its plan in words (PIPL art. 24), saying when the plan worked out now is not the one
the night stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from debtflow.core.errors import Conflict
from debtflow.core.money import fen_to_yuan
from debtflow.core.strategy.explanation import explain
from debtflow.core.strategy.segmentation import Segment, SegmentDecision
from debtflow.core.strategy.treatment import (
    Debt,
    Mandate,
    PlanRefused,
    TreatmentKind,
    propose_plan,
)
from debtflow.strategy import repository
from debtflow.strategy.rules import stored_reasons, strategy_rules, treatment_rules_for


@dataclass(frozen=True)
class CaseExplanation:
    case_id: int
    propensity: float
    segment: str
    reason_codes: tuple[str, ...]
    treatment: dict[str, Any]
    zh: str
    en: str


class NotYetPlanned(Conflict):
    code = "not_yet_planned"


def explain_case(session: Session, *, case_id: int) -> CaseExplanation:
    """Score, segment, reasons and the plan in words (PIPL art. 24)."""
    from debtflow.case import service as case_service

    case = case_service.get_with_accounts(session, case_id=case_id)
    if case.segment is None or case.propensity is None:
        raise NotYetPlanned(
            f"case {case_id} has no score or segment yet; run `debtflow nightly` first"
        )
    row = repository.case_inputs(session, case_id=case_id)
    creditor = row[2]
    segmentation, _ = strategy_rules()
    treatment = treatment_rules_for(case.experiment_key, case.experiment_variant)
    segment = Segment(case.segment)
    reasons = stored_reasons(case.segment_reasons, segmentation)
    decision = SegmentDecision(
        segment=segment,
        rule=case.segment_rule or "",
        rules_version=(case.strategy_rules or "").split("+")[0],
        reasons=reasons,
    )
    debt = Debt(
        principal_fen=sum(a.principal_fen for a in case.accounts),
        interest_fen=sum(a.interest_fen for a in case.accounts),
        penalty_fen=sum(a.penalty_fen + a.fees_fen for a in case.accounts),
        current_monthly_fen=sum(a.instalment_fen for a in case.accounts),
    )
    mandate = Mandate(
        creditor.max_relief_bp,
        creditor.max_term_months,
        -(-debt.total_fen * creditor.min_first_payment_bp // 10_000),
    )
    plan = None
    refusal: tuple[Any, ...] = ()
    try:
        plan = propose_plan(segment, debt, mandate, treatment)
    except PlanRefused as refused:
        refusal = refused.breaches
    words = explain(case.propensity, decision, plan, refusal)
    stale = _stored_plan_differs(case.treatment or {}, plan, refusal, case.strategy_on)
    return CaseExplanation(
        case_id=case.id,
        propensity=case.propensity,
        segment=case.segment,
        reason_codes=tuple(case.segment_reasons or ()),
        treatment=dict(case.treatment or {}),
        zh=words.zh + (f"\n{stale[0]}" if stale else ""),
        en=words.en + (f"\n{stale[1]}" if stale else ""),
    )


def _stored_plan_differs(
    stored: dict[str, Any], plan: Any, refusal: tuple[Any, ...], planned_on: date | None
) -> tuple[str, str] | None:
    """(zh, en) words when the plan worked out now (today's balance, the creditor's limits
    now) is not the one the nightly run stored — the stored one stands until the next run."""
    if stored.get("kind") in (None, TreatmentKind.LEGAL.value):
        return None
    offer = plan.offer if plan is not None else None
    was_refused = bool(stored.get("refused"))
    if was_refused == bool(refusal) and (
        offer is None
        or (stored.get("term_months"), stored.get("relief_fen"), stored.get("first_payment_fen"))
        == (offer.term_months, offer.relief_fen, offer.first_payment_fen)
    ):
        return None
    if was_refused:
        what_en = "no plan offered (" + ", ".join(stored["refused"]) + ")"
        what_zh = "未提供方案（" + "、".join(stored["refused"]) + "）"
    else:
        relief = fen_to_yuan(int(stored.get("relief_fen", 0)))
        what_en = f"{stored.get('term_months')} months, relief {relief} yuan"
        what_zh = f"{stored.get('term_months')}期，减免{relief}元"
    day = planned_on.isoformat() if planned_on else "?"
    return (
        f"注意：以上方案按今天的欠款和债权方当前的授权计算；{day}夜间处理保存的方案为{what_zh}，"
        "将在下一次夜间处理时更新。",
        f"Note: the plan above is worked out from today's balance and the creditor's limits now; "
        f"the plan the nightly run stored on {day} is {what_en} and is replaced at the next run.",
    )
