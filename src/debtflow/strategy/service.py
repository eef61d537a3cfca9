"""The nightly strategy: score → segment → treat every open case, and explain a case.

The service loads what the pure core needs in chunks, calls it on whole arrays, and writes
back only what changed (running it twice for one date changes nothing the second time).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from debtflow.core.strategy.experiment_file import (
    ExperimentPlan,
)
from debtflow.core.strategy.experiments import assign_many
from debtflow.core.strategy.features import RepaymentHistory, monthly_history_from_json
from debtflow.core.strategy.segmentation import (
    CAUSE_CODES,
    SEGMENT_ORDER,
    CaseColumns,
    OverdueCause,
    Segment,
    SegmentedColumns,
    segment_many,
)
from debtflow.core.strategy.treatment import (
    Debt,
    Mandate,
    TreatmentKind,
    TreatmentRules,
    check_mandate,
    chosen_offer,
)
from debtflow.core.strategy.treatment_batch import (
    BREACH_FIRST_PAYMENT,
    BREACH_RELIEF,
    BREACH_TERM,
    KIND_ORDER,
    MAX_BATCH_FEN,
    DebtColumns,
    propose_many,
)
from debtflow.nightly.service import StepCounts, register_step
from debtflow.strategy import repository, training
from debtflow.strategy.explanations import (  # re-exported: callers use strategy_service.<name>
    CaseExplanation as CaseExplanation,
)
from debtflow.strategy.explanations import (
    NotYetPlanned as NotYetPlanned,
)
from debtflow.strategy.explanations import (
    explain_case as explain_case,
)
from debtflow.strategy.rules import (  # re-exported: callers use strategy_service.<name>
    InvalidStrategyRules as InvalidStrategyRules,
)
from debtflow.strategy.rules import (
    _parse_strategy_rules as _parse_strategy_rules,
)
from debtflow.strategy.rules import (
    experiment_in_force,
    rules_digest,
    strategy_rules,
    variant_treatment_rules,
)
from debtflow.strategy.todays_plan import PLAN_FIELDS as PLAN_FIELDS
from debtflow.strategy.todays_plan import STORED_BREACH_CODES

CHUNK_CASES = 50_000
# Scored histories are put in the training data's units (NT$ of 2005) so that the model's
# log-amount features stay on the scale it learned: 1 CNY ≈ 4.4 TWD, and 100 fen = 1 CNY.
TRAINING_UNITS_PER_FEN = 0.044
BREACH_BITS = (
    (BREACH_RELIEF, "RELIEF_ABOVE_MANDATE"),
    (BREACH_TERM, "TERM_ABOVE_MANDATE"),
    (BREACH_FIRST_PAYMENT, "FIRST_PAYMENT_BELOW_MANDATE"),
)
#: each breach bit with its code as stored in ``case.treatment["refused"]``
BREACH_CODES = tuple((bit, STORED_BREACH_CODES[code]) for bit, code in BREACH_BITS)
DIGEST_BYTES = 12
CAUSE_BY_NAME = {cause.value: CAUSE_CODES[cause] for cause in OverdueCause}
Progress = Callable[[int], None]
"""Called after each chunk with the number of cases done so far."""


@dataclass(frozen=True)
class DebtArrays:
    """A chunk's debts in fen, one row per case (any size: see :func:`_treat`)."""

    principal_fen: np.ndarray
    interest_fen: np.ndarray
    penalty_fen: np.ndarray
    current_monthly_fen: np.ndarray


def _variant_of(experiment: ExperimentPlan, case_id: np.ndarray) -> np.ndarray:
    """Index (into the experiment's variants) of each case's variant: SHA-256 of
    ``key:case id``, stable across runs and machines."""
    index = {name: i for i, name in enumerate(experiment.variant_names)}
    names = assign_many(experiment.experiment, case_id.tolist())
    return np.fromiter((index[n] for n in names), dtype=np.int64, count=len(names))


@dataclass
class ChunkInputs:
    case_id: np.ndarray
    history: RepaymentHistory
    columns_without_score: dict[str, np.ndarray]
    debts: DebtArrays
    creditor_id: np.ndarray
    stored_digest: list[str | None]


def _income_stable(chunk: repository.OpenCases) -> np.ndarray:
    """Known income that covers other debts and living costs, with an employer; for a
    business, known revenue."""
    committed = chunk.other_debts_fen + chunk.monthly_spending_fen
    person = (
        (chunk.monthly_income_fen > 0) & chunk.has_employer & (chunk.monthly_income_fen > committed)
    )
    return np.where(chunk.is_business, chunk.monthly_revenue_fen != 0, person)


def _inputs(
    chunk: repository.OpenCases,
    accounts: repository.CaseAccounts,
    broken: dict[int, int],
    streaks: dict[int, int],
    *,
    months: int,
    as_of: date,
) -> ChunkInputs:
    ids = chunk.case_id
    n = ids.size
    at = np.searchsorted(ids, accounts.case_id)
    inside = at < n
    inside[inside] = ids[at[inside]] == accounts.case_id[inside]  # accounts of open cases only
    at = at[inside]

    def per_case(values: np.ndarray) -> np.ndarray:
        total = np.zeros(n, dtype=np.int64)
        np.add.at(total, at, values[inside])
        return total

    principal = per_case(accounts.principal_fen)
    interest = per_case(accounts.interest_fen)
    penalty = per_case(accounts.penalty_fen + accounts.fees_fen)
    monthly = per_case(accounts.instalment_fen)
    # the largest account (first of equals) carries the history and the credit line
    rows = np.flatnonzero(inside)
    order = np.lexsort((rows, -accounts.principal_fen[rows], at))
    first_of_case = np.r_[True, at[order][1:] != at[order][:-1]] if order.size else order
    main = rows[order][first_of_case]
    main_case = at[order][first_of_case]
    credit_limit = np.zeros(n, dtype=np.int64)
    line = np.where(
        accounts.credit_limit_fen[main] > 0,
        accounts.credit_limit_fen[main],
        accounts.original_fen[main],
    )
    credit_limit[main_case] = np.rint(line * TRAINING_UNITS_PER_FEN).astype(np.int64)
    texts: list[str | None] = [None] * n
    for case_index, account_index in zip(main_case.tolist(), main.tolist(), strict=True):
        texts[case_index] = accounts.history[account_index]
    status, statement, paid = monthly_history_from_json(texts, months)
    statement = np.rint(statement * TRAINING_UNITS_PER_FEN).astype(np.int64)
    paid = np.rint(paid * TRAINING_UNITS_PER_FEN).astype(np.int64)
    days_old = (np.datetime64(as_of, "D") - chunk.birth_date).astype(np.float64)
    age = np.where(np.isnat(chunk.birth_date), np.nan, days_old / 365.25)
    id_list = ids.tolist()
    return ChunkInputs(
        case_id=ids,
        history=RepaymentHistory(
            status=status,
            statement_amount=statement,
            paid_amount=paid,
            credit_limit=credit_limit,
            age_years=age,
        ),
        columns_without_score={
            "days_past_due": chunk.days_past_due,
            "overdue_cause": np.array([CAUSE_BY_NAME[c] for c in chunk.overdue_cause], np.int8),
            "failed_contact_streak": np.array([streaks.get(i, 0) for i in id_list], np.int64),
            "broken_promises": np.array([broken.get(i, 0) for i in id_list], np.int64),
            "late_months": (status >= 1).sum(axis=1).astype(np.int64),
            "income_stable": _income_stable(chunk),
        },
        debts=DebtArrays(principal, interest, penalty, monthly),
        creditor_id=chunk.creditor_id,
        stored_digest=chunk.strategy_digest,
    )


@dataclass(frozen=True)
class PlanColumns:
    """Treatment headline of every case of a chunk, as arrays (see :class:`BatchPlans`)."""

    kind: np.ndarray
    values: np.ndarray
    """(n, 7) int64: term, repayment months, relief, down payment, first payment, largest
    instalment, burden change (bp)."""
    breaches: np.ndarray


def _treat(
    segment: np.ndarray,
    inputs: ChunkInputs,
    mandates: dict[int, repository.Mandate],
    rules: TreatmentRules,
) -> PlanColumns:
    """Offer headlines, one propose_many call per creditor mandate."""
    n = segment.shape[0]
    kind = np.zeros(n, dtype=np.int8)
    values = np.zeros((n, len(PLAN_FIELDS)), dtype=np.int64)
    breaches = np.zeros(n, dtype=np.int64)
    debts = inputs.debts
    total = debts.principal_fen + debts.interest_fen + debts.penalty_fen
    columns = (debts.principal_fen, debts.interest_fen, debts.penalty_fen)
    exact = np.all(
        [(a >= 0) & (a <= MAX_BATCH_FEN) for a in (*columns, debts.current_monthly_fen)], axis=0
    )
    for creditor in np.unique(inputs.creditor_id).tolist():
        mandate = mandates[creditor]
        everyone = np.flatnonzero(inputs.creditor_id == creditor)
        idx = everyone[exact[everyone]]
        if idx.size:
            part = DebtColumns(
                debts.principal_fen[idx],
                debts.interest_fen[idx],
                debts.penalty_fen[idx],
                debts.current_monthly_fen[idx],
            )
            plans = propose_many(
                segment[idx],
                part,
                Mandate(mandate.max_relief_bp, mandate.max_term_months, 0),
                rules,
                min_first_payment_fen=-(-total[idx] * mandate.min_first_payment_bp // 10_000),
            )
            kind[idx] = plans.kind
            for column, name in enumerate(PLAN_FIELDS):
                values[idx, column] = getattr(plans, name)
            breaches[idx] = plans.breaches.astype(np.int64)
        # beyond the batch's exact int64 range (over 100 million yuan): one case at a time
        for row in everyone[~exact[everyone]].tolist():
            debt = Debt(*(int(a[row]) for a in (*columns, debts.current_monthly_fen)))
            minimum = -(-debt.total_fen * mandate.min_first_payment_bp // 10_000)  # Python int
            kind[row], values[row], breaches[row] = _treat_one(
                SEGMENT_ORDER[int(segment[row])],
                debt,
                Mandate(mandate.max_relief_bp, mandate.max_term_months, minimum),
                rules,
            )
    legal = kind == KIND_ORDER.index(TreatmentKind.LEGAL)
    values[legal] = 0
    breaches[legal] = 0
    return PlanColumns(kind=kind, values=values, breaches=breaches)


def _treat_one(
    segment: Segment, debt: Debt, mandate: Mandate, rules: TreatmentRules
) -> tuple[int, list[int], int]:
    """(kind, PLAN_FIELDS values, breach bits) of one case, as :func:`propose_many` gives them."""
    rule = rules.by_segment[segment]
    if rule.kind is TreatmentKind.LEGAL:
        return KIND_ORDER.index(rule.kind), [0] * len(PLAN_FIELDS), 0
    offer = chosen_offer(debt, rule, mandate.min_first_payment_fen)
    bits = {code: bit for bit, code in BREACH_BITS}
    breach = sum(bits[b.code] for b in check_mandate(offer, mandate))
    values = [
        offer.term_months,
        offer.term_months - rule.grace_months,
        offer.relief_fen,
        offer.down_payment_fen,
        offer.first_payment_fen,
        offer.schedule.largest_instalment_fen,
        offer.burden().change_bp if debt.current_monthly_fen > 0 else 0,
    ]
    return KIND_ORDER.index(rule.kind), values, breach


def _treatment_texts(
    rows: np.ndarray, segment: np.ndarray, plans: PlanColumns, rules: TreatmentRules
) -> list[str]:
    """The stored treatment JSON of ``rows`` (what ``json.dumps(plan, sort_keys=True)`` gives),
    built from one template: legal treatment is the segment's action list."""
    legal_kind = KIND_ORDER.index(TreatmentKind.LEGAL)
    legal_text = {
        index: _json(
            {
                "kind": TreatmentKind.LEGAL.value,
                "actions": [a.value for a in rules.by_segment[seg].actions],
            }
        )
        for index, seg in enumerate(SEGMENT_ORDER)
        if rules.by_segment[seg].kind is TreatmentKind.LEGAL
    }
    kind_text = [json.dumps(k.value) for k in KIND_ORDER]
    refused_text = [
        json.dumps([code for bit, code in BREACH_CODES if bits & bit]) for bits in range(8)
    ]
    template = (
        '{"burden_change_bp": %d, "down_payment_fen": %d, "first_payment_fen": %d, '
        '"kind": %s, "largest_instalment_fen": %d, "refused": %s, "relief_fen": %d, '
        '"repayment_months": %d, "term_months": %d}'
    )
    out = []
    for k, seg, (term, repay, relief, down, first, largest, burden), bits in zip(
        plans.kind[rows].tolist(),
        segment[rows].tolist(),
        plans.values[rows].tolist(),
        plans.breaches[rows].tolist(),
        strict=True,
    ):
        if k == legal_kind:
            out.append(legal_text[seg])
        else:
            out.append(
                template
                % (
                    burden,
                    down,
                    first,
                    kind_text[k],
                    largest,
                    refused_text[bits],
                    relief,
                    repay,
                    term,
                )  # fmt: skip
            )
    return out


def _treat_by_variant(
    segment: np.ndarray,
    inputs: ChunkInputs,
    mandates: dict[int, repository.Mandate],
    rules: list[TreatmentRules],
    variant: np.ndarray,
) -> PlanColumns:
    """:func:`_treat` of each variant's cases with the variant's treatment rules."""
    n = segment.shape[0]
    kind = np.zeros(n, dtype=np.int8)
    values = np.zeros((n, len(PLAN_FIELDS)), dtype=np.int64)
    breaches = np.zeros(n, dtype=np.int64)
    debts = inputs.debts
    for index, variant_rules in enumerate(rules):
        idx = np.flatnonzero(variant == index)
        if not idx.size:
            continue
        part = replace(
            inputs,  # _treat reads only the debts and the creditors
            debts=DebtColumns(
                debts.principal_fen[idx],
                debts.interest_fen[idx],
                debts.penalty_fen[idx],
                debts.current_monthly_fen[idx],
            ),
            creditor_id=inputs.creditor_id[idx],
        )
        plans = _treat(segment[idx], part, mandates, variant_rules)
        kind[idx] = plans.kind
        values[idx] = plans.values
        breaches[idx] = plans.breaches
    return PlanColumns(kind=kind, values=values, breaches=breaches)


def _treatment_texts_by_variant(
    rows: np.ndarray,
    segment: np.ndarray,
    plans: PlanColumns,
    rules: list[TreatmentRules],
    variant: np.ndarray,
) -> list[str]:
    """:func:`_treatment_texts` of ``rows``, each with its variant's rules (a legal
    treatment lists the actions of those rules)."""
    out: list[str] = [""] * rows.size
    of_row = variant[rows]
    for index, variant_rules in enumerate(rules):
        at = np.flatnonzero(of_row == index)
        if at.size:
            texts = _treatment_texts(rows[at], segment, plans, variant_rules)
            for position, text in zip(at.tolist(), texts, strict=True):
                out[position] = text
    return out


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _digests(
    salt: str,
    propensity_ten_thousandths: np.ndarray,
    segmented: SegmentedColumns,
    plans: PlanColumns,
    variant: np.ndarray | None = None,
) -> list[str]:
    """Fingerprint of each case's whole result: model and rule versions (``salt``), score,
    segment and rule, every treatment figure and, in an experiment, the case's variant."""
    matrix = np.ascontiguousarray(
        np.column_stack(
            [
                propensity_ten_thousandths,
                segmented.segment.astype(np.int64),
                segmented.rule.astype(np.int64),
                plans.kind.astype(np.int64),
                plans.values,
                plans.breaches,
                *([] if variant is None else [variant]),
            ]
        ).astype("<i8")
    )
    key = hashlib.blake2b(salt.encode(), digest_size=32).digest()
    width = matrix.shape[1] * 8
    raw = matrix.tobytes()
    return [
        hashlib.blake2b(raw[at : at + width], digest_size=DIGEST_BYTES, key=key).hexdigest()
        for at in range(0, len(raw), width)
    ]


def plan_cases(session: Session, as_of: date, *, progress: Progress | None = None) -> StepCounts:
    """Nightly step: propensity, segment with reasons, and treatment for every open case.

    Reads the open cases in chunks of :data:`CHUNK_CASES` through the driver, scores a chunk
    with one booster call, segments and treats it on arrays, and writes only the cases whose
    result fingerprint changed."""
    model = training.current_model()
    model_label = training.model_label(model)
    segmentation, treatment = strategy_rules()
    rules_label = f"{segmentation.version}+{treatment.version}"
    rule_names = [r.name for r in segmentation.rules]
    rule_reasons = [_json([reason.code for reason in r.reasons]) for r in segmentation.rules]
    segment_names = [s.value for s in SEGMENT_ORDER]
    # the rules' content, not only their labels: an operator who edits a rule and keeps the
    # version string still gets every case re-decided
    salt = f"{model_label}|{rules_label}|{rules_digest(segmentation, treatment)}"
    experiment = experiment_in_force()
    if experiment is not None and not experiment.running_on(as_of):
        experiment = None  # not started: every case as without an experiment
    variant_rules = variant_treatment_rules(experiment, treatment)
    variant_labels = [f"{segmentation.version}+{rules.version}" for rules in variant_rules]
    if experiment is not None:
        salt += (
            "|"
            + experiment.key
            + "".join(
                f"|{v.name}:{v.weight_bp}:{rules.version}:{rules_digest(segmentation, rules)}"
                for v, rules in zip(experiment.experiment.variants, variant_rules, strict=True)
            )
        )
    mandates = repository.creditor_mandates(session)
    seen = changed = 0
    for chunk in repository.open_case_chunks(session, size=CHUNK_CASES):
        first, last = int(chunk.case_id[0]), int(chunk.case_id[-1])
        inputs = _inputs(
            chunk,
            repository.accounts_between(session, first=first, last=last),
            repository.broken_promises_between(session, first=first, last=last),
            repository.failed_contact_streaks_between(session, first=first, last=last),
            months=model.metadata.months,
            as_of=as_of,
        )
        score = np.rint(model.score(inputs.history) * 10_000).astype(np.int64)
        segmented = segment_many(
            CaseColumns(propensity=score / 10_000, **inputs.columns_without_score), segmentation
        )
        if experiment is None:
            variant = None
            plans = _treat(segmented.segment, inputs, mandates, treatment)
        else:
            variant = _variant_of(experiment, inputs.case_id)
            plans = _treat_by_variant(segmented.segment, inputs, mandates, variant_rules, variant)
        digests = _digests(salt, score, segmented, plans, variant)
        rows = np.array(
            [d != s for d, s in zip(digests, inputs.stored_digest, strict=True)], dtype=bool
        ).nonzero()[0]
        if variant is None:
            texts = _treatment_texts(rows, segmented.segment, plans, treatment)
            labels = [rules_label] * rows.size
            in_experiment: list[tuple[str | None, str | None]] = [(None, None)] * rows.size
        else:
            texts = _treatment_texts_by_variant(
                rows, segmented.segment, plans, variant_rules, variant
            )
            assert experiment is not None
            names = experiment.variant_names
            labels = [variant_labels[v] for v in variant[rows].tolist()]
            in_experiment = [(experiment.key, names[v]) for v in variant[rows].tolist()]
        results = zip(
            inputs.case_id[rows].tolist(),
            (score[rows] / 10_000).tolist(),
            segmented.segment[rows].tolist(),
            segmented.rule[rows].tolist(),
            texts,
            [digests[i] for i in rows.tolist()],
            labels,
            in_experiment,
            strict=True,
        )
        repository.save_strategy(
            session,
            [
                (
                    case_id,
                    propensity,
                    model_label,
                    segment_names[segment],
                    rule_names[rule],
                    rule_reasons[rule],
                    treatment_text,
                    label,
                    digest,
                    experiment_key,
                    experiment_variant,
                )  # fmt: skip
                for (
                    case_id,
                    propensity,
                    segment,
                    rule,
                    treatment_text,
                    digest,
                    label,
                    (experiment_key, experiment_variant),
                ) in results
            ],
            strategy_on=as_of,
        )
        seen += int(chunk.case_id.size)
        changed += int(rows.size)
        if progress is not None:
            progress(seen)
    return {"cases_scored": seen, "strategy_updated": changed}


register_step("strategy", 50, plan_cases)
