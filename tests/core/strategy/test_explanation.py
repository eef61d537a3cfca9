from dataclasses import replace

import pytest

from debtflow.core.strategy.explanation import explain
from debtflow.core.strategy.segmentation import (
    CaseProfile,
    OverdueCause,
    segment_case,
    shipped_rules,
)
from debtflow.core.strategy.treatment import (
    Debt,
    Mandate,
    PlanRefused,
    propose_plan,
    shipped_treatment_rules,
)

SEGMENTS = shipped_rules()
TREATMENTS = shipped_treatment_rules()
DEBT = Debt(
    principal_fen=1_000_000, interest_fen=120_000, penalty_fen=30_000, current_monthly_fen=500_000
)
MANDATE = Mandate(max_relief_bp=2_000, max_term_months=48)


def test_potential_case_is_explained_in_both_languages() -> None:
    decision = segment_case(CaseProfile(days_past_due=12, propensity=0.83), SEGMENTS)
    plan = propose_plan(decision.segment, DEBT, MANDATE, TREATMENTS)
    text = explain(0.83, decision, plan)
    assert "还款可能性评分：83%" in text.zh
    assert "潜力客户" in text.zh and "逾期不超过30天" in text.zh
    assert "分6期，月供减少" in text.zh and "减免900.00元" in text.zh
    assert "Propensity to pay: 83 %" in text.en
    assert "Segment: potential" in text.en and "6 instalments, \u2212" in text.en
    assert "review this automated decision" in text.en


def test_risk_case_names_the_legal_actions() -> None:
    decision = segment_case(
        CaseProfile(days_past_due=95, overdue_cause=OverdueCause.DELIBERATE), SEGMENTS
    )
    plan = propose_plan(decision.segment, DEBT, MANDATE, TREATMENTS)
    text = explain(0.05, decision, plan)
    assert "风险客户" in text.zh and "诉前财产保全" in text.zh
    assert "pre-litigation asset preservation" in text.en


def test_refused_offer_is_explained_with_the_mandate_reason() -> None:
    decision = segment_case(CaseProfile(days_past_due=12, propensity=0.83), SEGMENTS)
    with pytest.raises(PlanRefused) as refused:
        propose_plan(
            decision.segment, DEBT, Mandate(max_relief_bp=100, max_term_months=48), TREATMENTS
        )
    text = explain(0.83, decision, refusal=refused.value.breaches)
    assert "超出债权方授权" in text.zh and "上限1.00%" in text.zh
    assert "break the creditor's mandate" in text.en


def test_probability_outside_zero_to_one_is_refused() -> None:
    decision = segment_case(CaseProfile(days_past_due=12), SEGMENTS)
    with pytest.raises(ValueError, match="probability"):
        explain(1.5, decision)


def test_the_chinese_explanation_quotes_the_rules_chinese_name() -> None:
    decision = segment_case(CaseProfile(days_past_due=12, propensity=0.83), SEGMENTS)
    text = explain(0.83, decision)
    assert "规则“早期逾期、可能还款”" in text.zh and "early, likely to pay" not in text.zh
    assert 'rule "early, likely to pay"' in text.en
    unnamed = replace(decision, rule_zh=None)  # a rule file without name_zh
    assert "规则“early, likely to pay”" in explain(0.83, unnamed).zh
