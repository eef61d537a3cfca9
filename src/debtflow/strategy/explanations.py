"""``debtflow case explain``: a case's score, segment, the reasons stored with the decision
and its plan in words (PIPL art. 24) — the plan worked out now (``todays_plan``), saying when
it is not the one the night stored; or, as on the case page, the plan the debtor signed in
the portal when there is one (no other plan is proposed beside it); or, for a settled,
closed or written-off case, that no plan applies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from debtflow.config import get_settings
from debtflow.core.case.lifecycle import FINAL_STATUSES, CaseStatus
from debtflow.core.errors import Conflict
from debtflow.core.money import fen_to_yuan
from debtflow.core.strategy.explanation import explain
from debtflow.core.strategy.segmentation import Segment, SegmentDecision
from debtflow.strategy import repository
from debtflow.strategy.rules import stored_reasons, strategy_rules
from debtflow.strategy.todays_plan import TodaysPlan, stored_plan_differs, todays_plan

if TYPE_CHECKING:
    from debtflow.portal.arrangements import SignedPlan


#: a final status in words (zh, en)
FINAL_STATUS_WORDS = {
    CaseStatus.SETTLED: ("已结清", "settled"),
    CaseStatus.CLOSED: ("已关闭", "closed"),
    CaseStatus.WRITTEN_OFF: ("已核销", "written off"),
}


@dataclass(frozen=True)
class CaseExplanation:
    case_id: int
    #: None only for a final case the nightly run never scored
    propensity: float | None
    segment: str | None
    reason_codes: tuple[str, ...]
    treatment: dict[str, Any]
    zh: str
    en: str
    status: str = CaseStatus.ACTIVE.value
    #: what the plan words describe: ``offer`` (worked out now), ``signed`` (the debtor's
    #: signed plan) or ``none`` (a final case)
    plan: str = "offer"


class NotYetPlanned(Conflict):
    code = "not_yet_planned"


def explain_case(session: Session, *, case_id: int) -> CaseExplanation:
    """Score, segment, reasons and the plan in words (PIPL art. 24). The plan is the one the
    case page shows: the plan the debtor signed in the portal when there is one, else the
    plan worked out now; a settled, closed or written-off case has none, and says so."""
    from debtflow.case import service as case_service
    from debtflow.portal import service as portal_service

    case = case_service.get_with_accounts(session, case_id=case_id)
    final = case.status in FINAL_STATUSES
    planned = case.segment is not None and case.propensity is not None
    if not planned and not final:
        raise NotYetPlanned(
            f"case {case_id} has no score or segment yet; run `debtflow nightly` first"
        )
    zh: list[str] = []
    en: list[str] = []
    if final:
        status_zh, status_en = FINAL_STATUS_WORDS[case.status]
        zh.append(f"案件{case_id}{status_zh}：不适用任何还款方案。")
        en.append(f"Case {case_id} is {status_en}: no repayment plan applies.")
    agreed = None if final else portal_service.signed_plan_of(session, case_id=case.id)
    if planned:
        assert case.segment is not None and case.propensity is not None
        segmentation, _ = strategy_rules()
        decision = SegmentDecision(
            segment=Segment(case.segment),
            rule=case.segment_rule or "",
            rules_version=(case.strategy_rules or "").split("+")[0],
            reasons=stored_reasons(case.segment_reasons, segmentation),
            rule_zh=segmentation.name_zh(case.segment_rule),
        )
        if final or agreed is not None:
            words = explain(case.propensity, decision)  # no plan of the strategy's
            extra = signed_plan_words(agreed) if agreed is not None else None
            zh += _before_rights(words.zh, extra[0] if extra else None)
            en += _before_rights(words.en, extra[1] if extra else None)
        else:
            creditor = repository.case_inputs(session, case_id=case_id)[2]
            today = todays_plan(case=case, creditor=creditor, accounts=case.accounts)
            assert today is not None  # the case has a segment
            words = explain(case.propensity, decision, today.plan, today.refusal)
            stale = stored_plan_note(case.treatment, today, case.strategy_on)
            zh += [words.zh, *([stale[0]] if stale else [])]
            en += [words.en, *([stale[1]] if stale else [])]
    return CaseExplanation(
        case_id=case.id,
        propensity=case.propensity,
        segment=case.segment,
        reason_codes=tuple(case.segment_reasons or ()),
        treatment=dict(case.treatment or {}),
        zh="\n".join(zh),
        en="\n".join(en),
        status=case.status.value,
        plan="none" if final else "signed" if agreed is not None else "offer",
    )


def _before_rights(text: str, line: str | None) -> list[str]:
    """The explanation's lines with ``line`` put before its last one (the debtor's right to
    a human review, which closes every explanation)."""
    lines = text.splitlines()
    return lines if line is None else [*lines[:-1], line, lines[-1]]


def signed_plan_words(plan: SignedPlan) -> tuple[str, str]:
    """(zh, en) words for the plan the debtor signed in the portal."""
    zone = ZoneInfo(get_settings().default_timezone)
    day = plan.signed_at.astimezone(zone).date().isoformat() if plan.signed_at else "?"
    signer_zh = f"（签署人：{plan.signer_name}）" if plan.signer_name else ""
    signer_en = f" ({plan.signer_name})" if plan.signer_name else ""
    relief, total, paid = (
        fen_to_yuan(plan.relief_fen),
        fen_to_yuan(plan.total_fen),
        fen_to_yuan(plan.paid_fen),
    )
    zh = (
        f"债务人已于{day}在自助还款平台签署还款方案{signer_zh}：{plan.term_months}期，"
        f"减免{relief}元"
        + (f"，首付{fen_to_yuan(plan.down_payment_fen)}元" if plan.down_payment_fen else "")
        + f"，应还合计{total}元，已还{paid}元"
    )
    en = (
        f"The debtor signed a plan in the portal on {day}{signer_en}: {plan.term_months} "
        f"months, relief of {relief} yuan"
        + (
            f", {fen_to_yuan(plan.down_payment_fen)} yuan down payment"
            if plan.down_payment_fen
            else ""
        )
        + f", {total} yuan in all, {paid} yuan paid"
    )
    if not plan.in_force:
        return zh + "，已全部还清。", en + "; it is paid in full."
    if plan.next_due_on is not None:
        due = fen_to_yuan(plan.next_due_fen)
        zh += f"，月供{fen_to_yuan(plan.monthly_fen)}元，下一期{plan.next_due_on}应还{due}元"
        en += (
            f"; {fen_to_yuan(plan.monthly_fen)} yuan a month, next payment "
            f"{plan.next_due_on}: {due} yuan"
        )
    return (
        zh + "。该方案执行期间不另行提供其他方案。",
        en + ". No other plan is offered while it is in force.",
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
