"""Why a case is with its collector: the stored reasons, the runner-up and the margin,
overrides and history, in words a manager can read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from debtflow.core.dispatch.explain import (
    CHOSEN,
    RUNNER_UP,
    DecidingReason,
    deciding_reason,
)
from debtflow.core.dispatch.match import (
    PRIOR_WEIGHTS,
    REASON_CODES,
    MatchReason,
    make_reason,
)
from debtflow.core.money import fen_to_yuan
from debtflow.dispatch import repository
from debtflow.dispatch.errors import CaseNotFound, NotYetDispatched
from debtflow.dispatch.scoring import local_zone

# ------------------------------------------------------------------ explanations


@dataclass(frozen=True)
class CollectorName:
    collector_id: int
    code: str
    name: str


@dataclass(frozen=True)
class DispatchExplanation:
    case_id: int
    how: str
    assigned_at: datetime
    collector: CollectorName
    value_fen: int
    probability: float
    reasons: tuple[MatchReason, ...]
    runner_up: CollectorName | None
    runner_up_value_fen: int | None
    margin_fen: int | None
    deciding: tuple[DecidingReason, ...]
    fits: bool
    unmet: tuple[str, ...]
    override_by: str | None
    override_reason: str | None
    assignments_in_history: int
    en: str
    zh: str


def _yuan(fen: int) -> str:
    return fen_to_yuan(fen, symbol=True)


def _reasons(stored: Sequence[dict[str, Any]]) -> tuple[MatchReason, ...]:
    return tuple(
        make_reason(str(r["code"]), float(r["logit"]))
        for r in stored
        if r.get("code") in REASON_CODES
    )


def _deciding(stored: Sequence[dict[str, Any]]) -> tuple[DecidingReason, ...]:
    """Deciding reasons as stored, each said of the collector it is about. Rows written
    before ``about`` was stored: a feature with a negative prior can only have favoured the
    chosen collector by counting against the runner-up; the others are read as before."""
    out: list[DecidingReason] = []
    for r in stored:
        code = r.get("code")
        if code not in REASON_CODES:
            continue
        about = r.get("about")
        if about not in (CHOSEN, RUNNER_UP):
            about = RUNNER_UP if PRIOR_WEIGHTS.get(str(code), 0.0) < 0 else CHOSEN
        out.append(deciding_reason(str(code), float(r["logit"]), about))
    return tuple(out)


def _why_less(how: str, collector_id: int, previous_collector_id: int | None) -> tuple[str, str]:
    """Why a plan (not a manager) gave the case to a collector worth less than the
    runner-up. The nightly plan maximises the total over all cases within capacities: the
    runner-up's room, up to its fair share, went to cases that gain more there. A real-time
    placement takes the best collector with room, counting the continuity bonus for the
    case's previous collector and the fairness penalty above a collector's fair share."""
    if how == "realtime":
        if collector_id == previous_collector_id:
            return (
                "the runner-up is worth more here, but the case went back to its previous "
                "collector: a move has to gain more than the continuity threshold",
                "次选预期价值更高，但案件回到原催收员：换人须超过连续性门槛",
            )
        return (
            "the runner-up is worth more here, but it is above its fair share of capacity "
            "and every case more costs its fairness penalty",
            "次选预期价值更高，但其工作量已超过公平份额，每多一件都要计公平性惩罚",
        )
    return (
        "the runner-up is worth more here but had no room: the plan filled its capacity "
        "(up to its fair share) with cases that gain more with it",
        "次选预期价值更高，但没有余量：整体方案已将其容量（公平份额内）分给收益更高的案件",
    )


HOW_TEXT = {
    "nightly": ("nightly plan", "夜间统一分案"),
    "realtime": ("real-time assignment", "实时分案"),
    "override": ("manager override", "主管手工调整"),
}


def explain(session: Session, *, case_id: int) -> DispatchExplanation:
    """Why the case is with its collector: reasons, runner-up and margin, as stored."""
    if repository.case_row(session, case_id=case_id) is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    history = repository.assignment_history(session, case_id=case_id)
    if not history:
        raise NotYetDispatched(
            f"case {case_id} has not been dispatched yet; run `debtflow nightly` or "
            "`debtflow dispatch assign CASE`"
        )
    latest = history[-1]
    names = repository.collectors_by_id(
        session, [latest.collector_id, latest.runner_up_collector_id or latest.collector_id]
    )

    def name(collector_id: int | None) -> CollectorName | None:
        if collector_id is None:
            return None
        row = names.get(collector_id)
        return CollectorName(collector_id, row.code if row else "?", row.name if row else "?")

    chosen = name(latest.collector_id)
    assert chosen is not None
    runner = name(latest.runner_up_collector_id)
    record = (
        repository.override_of(session, assignment_id=latest.id)
        if latest.how == "override"
        else None
    )
    reasons = _reasons(latest.reasons)
    deciding = _deciding(latest.deciding)
    how_en, how_zh = HOW_TEXT.get(latest.how, (latest.how, latest.how))
    zone = local_zone()
    local = latest.assigned_at.astimezone(zone)
    when = f"{local:%Y-%m-%d %H:%M} {zone}"  # the business zone, named
    en = [
        f"case {case_id} → {chosen.code} {chosen.name} ({how_en}, {when}): "
        f"expected value {_yuan(latest.value_fen)}, recovery probability "
        f"{latest.probability:.0%}",
        *(f"  {'+' if r.logit > 0 else '-'} {r.en}" for r in reasons),
    ]
    zh = [
        f"案件 {case_id} → {chosen.code} {chosen.name}（{how_zh}，{when}）："
        f"预期价值 {_yuan(latest.value_fen)}，回款概率 {latest.probability:.0%}",
        *(f"  {'+' if r.logit > 0 else '-'} {r.zh}" for r in reasons),
    ]
    if runner is not None and latest.runner_up_value_fen is not None:
        margin = latest.margin_fen or 0
        en.append(
            f"runner-up: {runner.code} {runner.name}, expected value "
            f"{_yuan(latest.runner_up_value_fen)}; margin {_yuan(margin)}"
        )
        zh.append(
            f"次选：{runner.code} {runner.name}，预期价值 {_yuan(latest.runner_up_value_fen)}；"
            f"差额 {_yuan(margin)}"
        )
        if margin == 0:
            en.append("  (equally valued: the plan chose between them by the collectors' loads)")
            zh.append("  （两者预期价值相同：按催收员工作量均衡分配）")
        elif margin < 0 and latest.how != "override":
            why_en, why_zh = _why_less(
                latest.how, latest.collector_id, latest.previous_collector_id
            )
            en.append(f"  ({why_en})")
            zh.append(f"  （{why_zh}）")
        if deciding:
            en.append("deciding:")
            en += [f"  * {r.en}" for r in deciding]
            zh.append("决定因素：")
            zh += [f"  * {r.zh}" for r in deciding]
    else:
        en.append("no other eligible collector")
        zh.append("没有其他符合条件的催收员")
    if record is not None:
        en.append(f"override by {record.by}: {record.reason}")
        zh.append(f"{record.by} 手工调整，原因：{record.reason}")
    if not latest.fits:
        en.append("does not fit the case's needs: " + ", ".join(latest.unmet))
        zh.append("不满足案件需要：" + "、".join(latest.unmet))
    en.append(f"assignments kept in history: {len(history)}")
    zh.append(f"历史分案记录：{len(history)} 条")
    return DispatchExplanation(
        case_id=case_id,
        how=latest.how,
        assigned_at=latest.assigned_at,
        collector=chosen,
        value_fen=latest.value_fen,
        probability=latest.probability,
        reasons=reasons,
        runner_up=runner,
        runner_up_value_fen=latest.runner_up_value_fen,
        margin_fen=latest.margin_fen,
        deciding=deciding,
        fits=latest.fits,
        unmet=tuple(latest.unmet),
        override_by=record.by if record else None,
        override_reason=record.reason if record else None,
        assignments_in_history=len(history),
        en="\n".join(en),
        zh="\n".join(zh),
    )
