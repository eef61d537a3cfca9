"""The nightly strategy: score → segment → treat every open case, and explain a case.

The service loads what the pure core needs in chunks, calls it on whole arrays, and writes
back only what changed (running it twice for one date changes nothing the second time).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.core.errors import Conflict
from debtflow.core.strategy.explanation import explain
from debtflow.core.strategy.features import RepaymentHistory
from debtflow.core.strategy.segmentation import (
    CAUSE_CODES,
    SEGMENT_ORDER,
    CaseColumns,
    OverdueCause,
    Segment,
    SegmentationRules,
    SegmentDecision,
    load_rules,
    segment_many,
    shipped_rules,
)
from debtflow.core.strategy.treatment import (
    Debt,
    Mandate,
    PlanRefused,
    TreatmentKind,
    TreatmentRules,
    load_treatment_rules,
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
from debtflow.nightly.service import StepCounts, register_step
from debtflow.strategy import repository, training

CHUNK_CASES = 20_000
# Scored histories are put in the training data's units (NT$ of 2005) so that the model's
# log-amount features stay on the scale it learned: 1 CNY ≈ 4.4 TWD, and 100 fen = 1 CNY.
TRAINING_UNITS_PER_FEN = 0.044
BREACH_CODES = (
    (BREACH_RELIEF, "relief"),
    (BREACH_TERM, "term"),
    (BREACH_FIRST_PAYMENT, "first_payment"),
)


def strategy_rules() -> tuple[SegmentationRules, TreatmentRules]:
    """The rule files in force: the operator's (settings) or the shipped ones."""
    settings = get_settings()
    segmentation = (
        load_rules(settings.segmentation_rules) if settings.segmentation_rules else shipped_rules()
    )
    treatment = (
        load_treatment_rules(settings.treatment_rules)
        if settings.treatment_rules
        else shipped_treatment_rules()
    )
    return segmentation, treatment


def _income_stable(rows: Sequence[Any]) -> np.ndarray:
    """Known income that covers other debts and living costs, with an employer; for a
    business, known revenue."""
    out = np.zeros(len(rows), dtype=bool)
    for i, r in enumerate(rows):
        if r.debtor_type == "business":
            out[i] = bool(r.monthly_revenue_fen)
        elif r.monthly_income_fen and r.employer:
            committed = (r.other_debts_fen or 0) + (r.monthly_spending_fen or 0)
            out[i] = r.monthly_income_fen > committed
    return out


@dataclass
class ChunkInputs:
    history: RepaymentHistory
    columns_without_score: dict[str, np.ndarray]
    debts: DebtColumns
    min_first_payment_bp: np.ndarray
    mandates: list[tuple[int, int]]


def _inputs(
    rows: Sequence[Any],
    accounts: Sequence[tuple[Any, ...]],
    broken: dict[int, int],
    streaks: dict[int, int],
    *,
    months: int,
    as_of: date,
) -> ChunkInputs:
    n = len(rows)
    position = {r.id: i for i, r in enumerate(rows)}
    status = np.full((n, months), -2, dtype=np.int64)
    statement = np.zeros((n, months), dtype=np.int64)
    paid = np.zeros((n, months), dtype=np.int64)
    credit_limit = np.zeros(n, dtype=np.int64)
    principal = np.zeros(n, dtype=np.int64)
    interest = np.zeros(n, dtype=np.int64)
    penalty = np.zeros(n, dtype=np.int64)
    monthly = np.zeros(n, dtype=np.int64)
    main_principal = np.full(n, -1, dtype=np.int64)
    main_history: list[str | None] = [None] * n
    for case_id, prin, inter, fees, pen, inst, limit, original, history in accounts:
        i = position.get(case_id)
        if i is None:
            continue  # account of a case that is not open
        principal[i] += prin
        interest[i] += inter
        penalty[i] += pen + fees
        monthly[i] += inst
        if prin > main_principal[i]:  # the largest account carries the history
            main_principal[i] = prin
            credit_limit[i] = round((limit or original) * TRAINING_UNITS_PER_FEN)
            main_history[i] = history
    for i, text in enumerate(main_history):
        if not text:
            continue
        for m, month in enumerate(json.loads(text)[:months]):
            status[i, m] = month["status"]
            statement[i, m] = month["statement_fen"]
            paid[i, m] = month["paid_fen"]
    statement = np.round(statement * TRAINING_UNITS_PER_FEN).astype(np.int64)
    paid = np.round(paid * TRAINING_UNITS_PER_FEN).astype(np.int64)
    age = np.array(
        [(as_of - r.birth_date).days / 365.25 if r.birth_date else np.nan for r in rows],
        dtype=np.float64,
    )
    cause_code = {cause.value: CAUSE_CODES[cause] for cause in OverdueCause}
    return ChunkInputs(
        history=RepaymentHistory(
            status=status,
            statement_amount=statement,
            paid_amount=paid,
            credit_limit=credit_limit,
            age_years=age,
        ),
        columns_without_score={
            "days_past_due": np.array([r.days_past_due for r in rows], dtype=np.int64),
            "overdue_cause": np.array(
                [cause_code[str(r.overdue_cause)] for r in rows], dtype=np.int8
            ),
            "failed_contact_streak": np.array([streaks.get(r.id, 0) for r in rows], np.int64),
            "broken_promises": np.array([broken.get(r.id, 0) for r in rows], dtype=np.int64),
            "late_months": (status >= 1).sum(axis=1).astype(np.int64),
            "income_stable": _income_stable(rows),
        },
        debts=DebtColumns(principal, interest, penalty, monthly),
        min_first_payment_bp=np.array([r.min_first_payment_bp for r in rows], dtype=np.int64),
        mandates=[(r.max_relief_bp, r.max_term_months) for r in rows],
    )


def _digest(result: dict[str, Any]) -> str:
    return hashlib.blake2b(repr(sorted(result.items())).encode(), digest_size=12).hexdigest()


def plan_cases(session: Session, as_of: date) -> StepCounts:
    """Nightly step: propensity, segment with reasons, and treatment for every open case."""
    model = training.current_model()
    model_label = training.model_label(model)
    segmentation, treatment = strategy_rules()
    rules_label = f"{segmentation.version}+{treatment.version}"
    rule_names = [r.name for r in segmentation.rules]
    rule_reasons = [[reason.code for reason in r.reasons] for r in segmentation.rules]
    segment_names = [s.value for s in SEGMENT_ORDER]
    seen = changed = 0
    for rows in repository.open_case_chunks(session, size=CHUNK_CASES):
        first, last = rows[0].id, rows[-1].id
        inputs = _inputs(
            rows,
            repository.accounts_between(session, first=first, last=last),
            repository.broken_promises_between(session, first=first, last=last),
            repository.failed_contact_streaks_between(session, first=first, last=last),
            months=model.metadata.months,
            as_of=as_of,
        )
        propensity = np.round(model.score(inputs.history), 4).tolist()
        segmented = segment_many(
            CaseColumns(propensity=np.array(propensity), **inputs.columns_without_score),
            segmentation,
        )
        plans = _treat(segmented.segment, inputs, treatment)
        segments = segmented.segment.tolist()
        rules_of = segmented.rule.tolist()
        updates = []
        for i, row in enumerate(rows):
            result = {
                "propensity": propensity[i],
                "propensity_model": model_label,
                "segment": segment_names[segments[i]],
                "segment_rule": rule_names[rules_of[i]],
                "segment_reasons": rule_reasons[rules_of[i]],
                "treatment": plans[i],
                "strategy_rules": rules_label,
            }
            digest = _digest(result)
            seen += 1
            if digest != row.strategy_digest:
                updates.append(
                    {"id": row.id, **result, "strategy_on": as_of, "strategy_digest": digest}
                )
        repository.save_strategy(session, updates)
        changed += len(updates)
    return {"cases_scored": seen, "strategy_updated": changed}


def _treat(segment: np.ndarray, inputs: ChunkInputs, rules: TreatmentRules) -> list[dict[str, Any]]:
    n = segment.shape[0]
    out: list[dict[str, Any]] = [{} for _ in range(n)]
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, mandate in enumerate(inputs.mandates):
        groups[mandate].append(i)
    for (relief_bp, term), members in groups.items():
        idx = np.array(members, dtype=np.int64)
        debts = DebtColumns(
            inputs.debts.principal_fen[idx],
            inputs.debts.interest_fen[idx],
            inputs.debts.penalty_fen[idx],
            inputs.debts.current_monthly_fen[idx],
        )
        plans = propose_many(segment[idx], debts, Mandate(relief_bp, term, 0), rules)
        total = debts.principal_fen + debts.interest_fen + debts.penalty_fen
        for j, i in enumerate(members):
            kind = KIND_ORDER[int(plans.kind[j])]
            if kind is TreatmentKind.LEGAL:
                rule = rules.by_segment[SEGMENT_ORDER[int(segment[i])]]
                out[i] = {"kind": kind.value, "actions": [a.value for a in rule.actions]}
                continue
            breaches = int(plans.breaches[j])
            minimum = -(-int(total[j]) * int(inputs.min_first_payment_bp[i]) // 10_000)
            if int(plans.first_payment_fen[j]) < minimum:
                breaches |= BREACH_FIRST_PAYMENT
            out[i] = {
                "kind": kind.value,
                "term_months": int(plans.term_months[j]),
                "repayment_months": int(plans.repayment_months[j]),
                "relief_fen": int(plans.relief_fen[j]),
                "down_payment_fen": int(plans.down_payment_fen[j]),
                "first_payment_fen": int(plans.first_payment_fen[j]),
                "largest_instalment_fen": int(plans.largest_instalment_fen[j]),
                "burden_change_bp": int(plans.burden_change_bp[j]),
                "refused": [code for bit, code in BREACH_CODES if breaches & bit],
            }
    return out


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
    segmentation, treatment = strategy_rules()
    segment = Segment(case.segment)
    rule = next((r for r in segmentation.rules if r.name == case.segment_rule), None)
    reasons = rule.reasons if rule is not None else ()
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
    return CaseExplanation(
        case_id=case.id,
        propensity=case.propensity,
        segment=case.segment,
        reason_codes=tuple(case.segment_reasons or ()),
        treatment=dict(case.treatment or {}),
        zh=words.zh,
        en=words.en,
    )


register_step("strategy", 50, plan_cases)
