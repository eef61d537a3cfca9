import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from debtflow.core.strategy.schedules import ScheduleMethod
from debtflow.core.strategy.segmentation import SEGMENT_ORDER, Segment
from debtflow.core.strategy.treatment import (
    Debt,
    LegalAction,
    Mandate,
    PlanRefused,
    TreatmentKind,
    TreatmentRuleError,
    check_mandate,
    load_treatment_rules,
    make_offer,
    parse_treatment_rules,
    propose_plan,
    shipped_treatment_rules,
)
from debtflow.core.strategy.treatment_batch import (
    BREACH_FIRST_PAYMENT,
    BREACH_RELIEF,
    BREACH_TERM,
    KIND_ORDER,
    DebtColumns,
    propose_many,
)

RULES = shipped_treatment_rules()
SHIPPED_TEXT = (
    Path(__file__).parents[3] / "src/debtflow/core/strategy/rules/treatment-v1.toml"
).read_text("utf-8")
DEBT = Debt(
    principal_fen=1_000_000, interest_fen=120_000, penalty_fen=30_000, current_monthly_fen=500_000
)
GENEROUS = Mandate(max_relief_bp=2_000, max_term_months=48, min_first_payment_fen=10_000)


def test_potential_gets_instalments_with_interest_and_penalty_relief() -> None:
    plan = propose_plan(Segment.POTENTIAL, DEBT, GENEROUS, RULES)
    assert plan.kind is TreatmentKind.INSTALMENTS and plan.offer is not None
    offer = plan.offer
    assert offer.interest_relief_fen == 60_000  # 50 % of interest
    assert offer.penalty_relief_fen == 30_000  # all of the penalty
    # 3 months would be 353,334 a month, above 60 % of 500,000; 6 months fits
    assert offer.term_months == 6
    assert offer.schedule.largest_instalment_fen * 10_000 <= 6_000 * 500_000
    assert offer.total_to_pay_fen == DEBT.total_fen - 90_000


def test_hardship_gets_restructuring_with_grace_and_lower_burden() -> None:
    plan = propose_plan(Segment.HARDSHIP, DEBT, GENEROUS, RULES)
    assert plan.kind is TreatmentKind.RESTRUCTURING and plan.offer is not None
    offer = plan.offer
    assert offer.schedule.terms.grace_months == 2
    assert offer.schedule.instalments[0].total_fen == 0
    assert offer.down_payment_fen == offer.due_after_relief_fen * 200 // 10_000
    assert offer.burden().change_bp < 0
    assert offer.total_to_pay_fen == offer.down_payment_fen + offer.schedule.total_fen


def test_risk_gets_legal_referral_and_asset_preservation() -> None:
    plan = propose_plan(Segment.RISK, DEBT, GENEROUS, RULES)
    assert plan.offer is None
    assert plan.actions == (LegalAction.LEGAL_REFERRAL, LegalAction.ASSET_PRESERVATION)


def test_offer_breaking_the_relief_limit_is_refused_with_a_reason() -> None:
    strict = Mandate(max_relief_bp=500, max_term_months=48)
    with pytest.raises(PlanRefused) as refused:
        propose_plan(Segment.POTENTIAL, DEBT, strict, RULES)
    codes = [b.code for b in refused.value.breaches]
    assert codes == ["RELIEF_ABOVE_MANDATE"]
    assert "at most 5.00 %" in str(refused.value)
    assert "超过债权方上限5.00%" in refused.value.breaches[0].zh
    # the refused offer comes with the refusal: what an approver would be asked to allow
    generous = propose_plan(Segment.POTENTIAL, DEBT, GENEROUS, RULES).offer
    assert refused.value.offer == generous
    assert generous is not None and check_mandate(generous, strict) == refused.value.breaches


def test_offer_breaking_term_and_first_payment_lists_both() -> None:
    # potential plans start with an ordinary instalment: a minimum above it is a breach
    strict = Mandate(max_relief_bp=10_000, max_term_months=2, min_first_payment_fen=DEBT.total_fen)
    with pytest.raises(PlanRefused) as refused:
        propose_plan(Segment.POTENTIAL, DEBT, strict, RULES)
    assert {b.code for b in refused.value.breaches} == {
        "TERM_ABOVE_MANDATE",
        "FIRST_PAYMENT_BELOW_MANDATE",
    }
    # a hardship plan's down payment is raised to such a minimum instead: only the term
    hardship = Mandate(max_relief_bp=10_000, max_term_months=12, min_first_payment_fen=50_000)
    with pytest.raises(PlanRefused) as refused:
        propose_plan(Segment.HARDSHIP, DEBT, hardship, RULES)
    assert [b.code for b in refused.value.breaches] == ["TERM_ABOVE_MANDATE"]


def test_relief_exactly_at_the_limit_is_allowed() -> None:
    debt = Debt(principal_fen=9_000, interest_fen=1_000, penalty_fen=0, current_monthly_fen=1)
    offer = make_offer(debt, months=1, interest_relief_bp=10_000)
    assert check_mandate(offer, Mandate(max_relief_bp=1_000, max_term_months=1)) == ()
    assert check_mandate(offer, Mandate(max_relief_bp=999, max_term_months=1))


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(0, 10**9),
    interest=st.integers(0, 10**8),
    penalty=st.integers(0, 10**7),
    months=st.integers(1, 48),
    interest_relief=st.integers(0, 10_000),
    penalty_relief=st.integers(0, 10_000),
    down=st.integers(0, 10_000),
    method=st.sampled_from(ScheduleMethod),
)
def test_offer_never_loses_or_invents_a_fen(
    principal: int,
    interest: int,
    penalty: int,
    months: int,
    interest_relief: int,
    penalty_relief: int,
    down: int,
    method: ScheduleMethod,
) -> None:
    debt = Debt(principal, interest, penalty, current_monthly_fen=1)
    offer = make_offer(
        debt,
        months=months,
        interest_relief_bp=interest_relief,
        penalty_relief_bp=penalty_relief,
        down_payment_bp=down,
        method=method,
    )
    assert offer.interest_relief_fen <= interest * interest_relief / 10_000
    assert offer.down_payment_fen + offer.schedule.terms.principal_fen == offer.due_after_relief_fen
    assert offer.total_to_pay_fen == debt.total_fen - offer.relief_fen  # zero rate: no interest


def test_bad_debts_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative integer"):
        Debt(principal_fen=-1, interest_fen=0, penalty_fen=0, current_monthly_fen=0)
    with pytest.raises(ValueError, match="non-negative integer"):
        Debt(principal_fen=10.5, interest_fen=0, penalty_fen=0, current_monthly_fen=0)  # type: ignore[arg-type]


def _document() -> dict[str, Any]:
    return tomllib.loads(SHIPPED_TEXT)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["potential"].update(kind="legal"), "takes kind instalments"),
        (lambda d: d["potential"].update(terms=[6, 3]), "shortest first"),
        (lambda d: d["potential"].update(interest_relief_bp=12_000), "interest_relief_bp"),
        (lambda d: d["hardship"].update(monthly_rate="0.0000000001"), "decimal places"),
        (lambda d: d["hardship"].update(method="balloon"), "balloon"),
        (lambda d: d["hardship"].update(cashback=1), "unknown keys: cashback"),
        (lambda d: d["risk"].update(actions=["repossess"]), "repossess"),
        (lambda d: d.pop("risk"), r"no \[risk\] section"),
    ],
)
def test_bad_treatment_rules_are_refused(edit: Any, message: str) -> None:
    document = _document()
    edit(document)
    with pytest.raises(TreatmentRuleError, match=message):
        parse_treatment_rules(document)


def test_a_rule_file_not_in_utf8_is_refused_and_a_bom_is_dropped(tmp_path: Path) -> None:
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe x")
    with pytest.raises(TreatmentRuleError, match="bin.toml: not UTF-8"):
        load_treatment_rules(binary)
    with_bom = tmp_path / "bom.toml"
    with_bom.write_bytes(b"\xef\xbb\xbf" + SHIPPED_TEXT.encode("utf-8"))
    assert load_treatment_rules(with_bom) == RULES


def test_batch_headlines_match_the_one_case_plans() -> None:
    rng = np.random.default_rng(11)
    n = 600
    principal = rng.integers(0, 5_000_000, n)
    interest = rng.integers(0, 500_000, n)
    penalty = rng.integers(0, 100_000, n)
    current = rng.integers(0, 800_000, n)
    segment = rng.integers(0, 3, n).astype(np.int8)
    mandate = Mandate(max_relief_bp=800, max_term_months=30, min_first_payment_fen=20_000)
    document = _document()
    document["potential"]["monthly_rate"] = "0.004"  # exercise the annuity with interest
    document["potential"]["method"] = "equal_principal"
    for variant in (RULES, parse_treatment_rules(document)):
        batch = propose_many(
            segment, DebtColumns(principal, interest, penalty, current), mandate, variant
        )
        for k in range(n):
            seg = SEGMENT_ORDER[segment[k]]
            debt = Debt(int(principal[k]), int(interest[k]), int(penalty[k]), int(current[k]))
            assert KIND_ORDER[batch.kind[k]] is variant.by_segment[seg].kind
            try:
                plan = propose_plan(seg, debt, mandate, variant)
            except PlanRefused as refused:
                bits = {
                    "RELIEF_ABOVE_MANDATE": BREACH_RELIEF,
                    "TERM_ABOVE_MANDATE": BREACH_TERM,
                    "FIRST_PAYMENT_BELOW_MANDATE": BREACH_FIRST_PAYMENT,
                }
                assert batch.breaches[k] == sum(bits[b.code] for b in refused.breaches)
                continue
            assert batch.breaches[k] == 0
            if plan.offer is None:
                continue
            offer = plan.offer
            assert batch.term_months[k] == offer.term_months
            assert batch.relief_fen[k] == offer.relief_fen
            assert batch.down_payment_fen[k] == offer.down_payment_fen
            assert batch.first_payment_fen[k] == offer.first_payment_fen
            assert batch.largest_instalment_fen[k] == offer.schedule.largest_instalment_fen
            if debt.current_monthly_fen > 0:
                assert batch.burden_change_bp[k] == offer.burden().change_bp


def test_batch_and_one_case_agree_on_long_terms_at_high_rates() -> None:
    """Where half-up rounding of the level payment would repay the loan before its last
    month, both paths take one fen less a month, so no instalment is empty."""
    rng = np.random.default_rng(5)
    n = 120
    principal = rng.integers(1_000, 2_000_000_000, n)
    zero = np.zeros(n, dtype=np.int64)
    current = rng.integers(1, 800_000, n)
    segment = np.full(n, SEGMENT_ORDER.index(Segment.HARDSHIP), dtype=np.int8)
    mandate = Mandate(max_relief_bp=10_000, max_term_months=360, min_first_payment_fen=0)
    document = _document()
    document["hardship"].update(
        monthly_rate="0.05", terms=[360], grace_months=0, target_burden_bp=100_000
    )
    rules = parse_treatment_rules(document)
    batch = propose_many(segment, DebtColumns(principal, zero, zero, current), mandate, rules)
    for k in range(n):
        debt = Debt(int(principal[k]), 0, 0, int(current[k]))
        offer = propose_plan(Segment.HARDSHIP, debt, mandate, rules).offer
        assert offer is not None
        totals = [i.total_fen for i in offer.schedule.instalments]
        assert min(totals) > 0, "no empty month"
        assert batch.first_payment_fen[k] == offer.first_payment_fen
        assert batch.largest_instalment_fen[k] == offer.schedule.largest_instalment_fen


def test_batch_refuses_amounts_beyond_its_exact_range() -> None:
    big = np.array([10**11], dtype=np.int64)
    zero = np.zeros(1, dtype=np.int64)
    with pytest.raises(ValueError, match="between 0 and"):
        DebtColumns(big, zero, zero, zero)
    with pytest.raises(ValueError, match="int64"):
        DebtColumns(zero.astype(np.float64), zero, zero, zero)  # type: ignore[arg-type]


def test_monthly_rate_string_in_rules_is_exact() -> None:
    assert RULES.by_segment[Segment.HARDSHIP].monthly_rate == Decimal("0.003")


def test_a_creditors_minimum_first_payment_raises_the_down_payment_not_the_relief() -> None:
    """The shipped hardship rule pays 2 % of what is due after relief on signing; a creditor
    asking 2 % of the whole debt first is met by a larger down payment, not a refusal."""
    debt = Debt(1_000_000, 10_000, 0, 100_000)
    minimum = -(-debt.total_fen * 200 // 10_000)  # 2 % of the total, rounded up
    mandate = Mandate(max_relief_bp=3_000, max_term_months=48, min_first_payment_fen=minimum)
    plan = propose_plan(Segment.HARDSHIP, debt, mandate, RULES)
    offer = plan.offer
    assert offer is not None
    assert offer.down_payment_fen == minimum == offer.first_payment_fen
    assert offer.relief_fen == 3_000  # 30 % of the interest, unchanged
    assert offer.down_payment_fen + offer.schedule.total_fen >= offer.due_after_relief_fen
    assert sum(i.principal_fen for i in offer.schedule.instalments) == (
        offer.due_after_relief_fen - offer.down_payment_fen
    )
    # a plan whose first payment is an ordinary instalment is not bent: it is refused
    document = _document()
    document["potential"].update(terms=[12], target_burden_bp=100_000)
    rules = parse_treatment_rules(document)
    steep = Mandate(max_relief_bp=10_000, max_term_months=48, min_first_payment_fen=500_000)
    with pytest.raises(PlanRefused) as refused:
        propose_plan(Segment.POTENTIAL, debt, steep, rules)
    assert [b.code for b in refused.value.breaches] == ["FIRST_PAYMENT_BELOW_MANDATE"]
    # nor is a minimum at or above what is due: that is no plan
    whole = Mandate(max_relief_bp=3_000, max_term_months=48, min_first_payment_fen=2_000_000)
    with pytest.raises(PlanRefused):
        propose_plan(Segment.HARDSHIP, debt, whole, RULES)


def test_batch_raises_the_down_payment_per_case_as_the_one_case_plan_does() -> None:
    rng = np.random.default_rng(23)
    n = 300
    principal = rng.integers(1_000, 5_000_000, n)
    interest = rng.integers(0, 500_000, n)
    penalty = rng.integers(0, 100_000, n)
    current = rng.integers(0, 800_000, n)
    segment = np.full(n, SEGMENT_ORDER.index(Segment.HARDSHIP), dtype=np.int8)
    total = principal + interest + penalty
    bp = rng.choice([0, 100, 200, 300, 2_000], n)
    minimum = -(-total * bp // 10_000)
    loose = Mandate(max_relief_bp=10_000, max_term_months=60, min_first_payment_fen=0)
    batch = propose_many(
        segment, DebtColumns(principal, interest, penalty, current), loose, RULES, minimum
    )
    raised = 0
    for k in range(n):
        debt = Debt(int(principal[k]), int(interest[k]), int(penalty[k]), int(current[k]))
        mandate = Mandate(10_000, 60, int(minimum[k]))
        try:
            offer = propose_plan(Segment.HARDSHIP, debt, mandate, RULES).offer
        except PlanRefused:
            assert batch.breaches[k] != 0
            continue
        assert offer is not None and batch.breaches[k] == 0
        assert batch.down_payment_fen[k] == offer.down_payment_fen
        assert batch.first_payment_fen[k] == offer.first_payment_fen
        assert batch.term_months[k] == offer.term_months
        assert batch.largest_instalment_fen[k] == offer.schedule.largest_instalment_fen
        raised += offer.down_payment_fen == minimum[k] > 0
    assert raised > 50, "the minimum decided many down payments"
