"""Plain-language explanation of an automated strategy decision (PIPL art. 24).

``debtflow case explain CASE`` shows what the nightly cycle decided about a case and why: the
propensity score, the segment with the reasons of the rule that decided it, and the plan offered
(or why an offer was refused).  :func:`explain` turns those into zh-CN and English text; it
reads nothing and decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from debtflow.core.money import fen_to_yuan
from debtflow.core.strategy.segmentation import Segment, SegmentDecision
from debtflow.core.strategy.treatment import (
    LegalAction,
    MandateBreach,
    TreatmentKind,
    TreatmentPlan,
)

SEGMENT_NAMES = {
    Segment.POTENTIAL: ("potential", "潜力客户"),
    Segment.HARDSHIP: ("hardship", "困难客户"),
    Segment.RISK: ("risk", "风险客户"),
}
ACTION_NAMES = {
    LegalAction.LEGAL_REFERRAL: ("referral to a law firm", "转交律师事务所"),
    LegalAction.ASSET_PRESERVATION: ("pre-litigation asset preservation", "诉前财产保全"),
}


@dataclass(frozen=True)
class Explanation:
    zh: str
    en: str


def _percent(probability: float) -> int:
    return int(round(probability * 100))


def explain(
    propensity: float,
    decision: SegmentDecision,
    plan: TreatmentPlan | None = None,
    refusal: tuple[MandateBreach, ...] = (),
) -> Explanation:
    """zh-CN and English text for a case's score, segment, reasons and plan."""
    if not 0.0 <= propensity <= 1.0:
        raise ValueError("propensity must be a probability between 0 and 1")
    seg_en, seg_zh = SEGMENT_NAMES[decision.segment]
    rule_zh = decision.rule_zh or decision.rule
    zh = [
        f"还款可能性评分：{_percent(propensity)}%（模型预测下月还款的概率）。",
        f"客户分层：{seg_zh}（规则“{rule_zh}”，规则版本 {decision.rules_version}）。",
        "原因：" + "".join(r.zh for r in decision.reasons),
    ]
    en = [
        f"Propensity to pay: {_percent(propensity)} % "
        "(the model's probability of a payment next month).",
        f'Segment: {seg_en} (rule "{decision.rule}", rules {decision.rules_version}).',
        "Reasons: " + " ".join(r.en for r in decision.reasons),
    ]
    if refusal:
        zh.append("未提供还款方案，因为超出债权方授权：" + "；".join(b.zh for b in refusal) + "。")
        en.append(
            "No repayment plan was offered because it would break the creditor's mandate: "
            + "; ".join(b.en for b in refusal)
            + "."
        )
    elif plan is not None and plan.kind is TreatmentKind.LEGAL:
        zh.append("处理方式：" + "、".join(ACTION_NAMES[a][1] for a in plan.actions) + "。")
        en.append("Treatment: " + ", ".join(ACTION_NAMES[a][0] for a in plan.actions) + ".")
    elif plan is not None and plan.offer is not None:
        offer = plan.offer
        burden = offer.burden() if offer.debt.current_monthly_fen > 0 else None
        kind_zh = "分期还款" if plan.kind is TreatmentKind.INSTALMENTS else "债务重组"
        kind_en = "instalments" if plan.kind is TreatmentKind.INSTALMENTS else "restructuring"
        grace = offer.schedule.terms.grace_months
        zh_plan = (
            f"方案：{kind_zh}，减免{fen_to_yuan(offer.relief_fen)}元，"
            f"应还合计{fen_to_yuan(offer.total_to_pay_fen)}元"
        )
        en_plan = (
            f"Plan: {kind_en}, relief of {fen_to_yuan(offer.relief_fen)} yuan, "
            f"{fen_to_yuan(offer.total_to_pay_fen)} yuan to pay in all"
        )
        if offer.down_payment_fen:
            zh_plan += f"，签约时首付{fen_to_yuan(offer.down_payment_fen)}元"
            en_plan += f", {fen_to_yuan(offer.down_payment_fen)} yuan on signing"
        if grace:
            zh_plan += f"，前{grace}个月宽限期"
            en_plan += f", {grace} grace months first"
        zh_plan += f"，月供最高{fen_to_yuan(offer.schedule.largest_instalment_fen)}元"
        en_plan += f", at most {fen_to_yuan(offer.schedule.largest_instalment_fen)} yuan a month"
        if burden is not None:
            zh_plan += f"（{burden.describe_zh()}）"
            en_plan += f" ({burden.describe_en()})"
        zh.append(zh_plan + "。")
        en.append(en_plan + ".")
    zh.append("您有权要求人工复核此自动化决定，或拒绝仅由自动化方式作出的决定。")
    en.append(
        "You may ask for a person to review this automated decision, or refuse a decision "
        "made by automated means alone."
    )
    return Explanation(zh="\n".join(zh), en="\n".join(en))
