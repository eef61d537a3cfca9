"""``debtflow case explain``: a case's score, segment, the reasons stored with the decision
and its plan in words (PIPL art. 24) — the plan worked out now (``todays_plan``), saying when
it is not the one the night stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from debtflow.core.errors import Conflict
from debtflow.core.money import fen_to_yuan
from debtflow.core.strategy.explanation import explain
from debtflow.core.strategy.segmentation import Segment, SegmentDecision
from debtflow.strategy import repository
from debtflow.strategy.rules import stored_reasons, strategy_rules
from debtflow.strategy.todays_plan import TodaysPlan, stored_plan_differs, todays_plan


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
    decision = SegmentDecision(
        segment=Segment(case.segment),
        rule=case.segment_rule or "",
        rules_version=(case.strategy_rules or "").split("+")[0],
        reasons=stored_reasons(case.segment_reasons, segmentation),
        rule_zh=segmentation.name_zh(case.segment_rule),
    )
    today = todays_plan(case=case, creditor=creditor, accounts=case.accounts)
    assert today is not None  # the case has a segment
    words = explain(case.propensity, decision, today.plan, today.refusal)
    stale = stored_plan_note(case.treatment, today, case.strategy_on)
    return CaseExplanation(
        case_id=case.id,
        propensity=case.propensity,
        segment=case.segment,
        reason_codes=tuple(case.segment_reasons or ()),
        treatment=dict(case.treatment or {}),
        zh=words.zh + (f"\n{stale[0]}" if stale else ""),
        en=words.en + (f"\n{stale[1]}" if stale else ""),
    )


def stored_plan_note(
    stored: dict[str, Any] | None, today: TodaysPlan, planned_on: date | None
) -> tuple[str, str] | None:
    """(zh, en) words when the plan worked out now (today's balance, the creditor's limits
    now) is not the one the nightly run stored — the stored one stays on the case until the
    next run, but what is shown and quoted is today's."""
    if stored is None or not stored_plan_differs(stored, today):
        return None
    was_refused = bool(stored.get("refused"))
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
