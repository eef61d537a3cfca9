"""The agent workbench on the database: the queue in dispatch priority order, what the case
page shows beyond the case itself (strategy in words, plan offer, suggested script, notes)
and logging a contact made now through the compliance gate. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, case_scope, permits, require
from debtflow.case import service as case_service
from debtflow.contact import access as contact_access
from debtflow.conversation import rules as conversation_rules
from debtflow.conversation import service as conversation_service
from debtflow.core.case.lifecycle import FINAL_STATUSES, CaseStatus
from debtflow.core.compliance.personal_data import PersonalDataError, mask_phone
from debtflow.core.conversation.labels import Emotion, Intent, Segment
from debtflow.core.conversation.labels import OverdueCause as ScriptCause
from debtflow.core.conversation.scripts import (
    CaseContext,
    NextAction,
    PlanOffer,
    ScriptLibrary,
    choose_script,
)
from debtflow.core.errors import InvalidInput
from debtflow.core.strategy.explanation import explain
from debtflow.core.strategy.segmentation import Segment as StrategySegment
from debtflow.core.strategy.segmentation import SegmentDecision
from debtflow.core.strategy.treatment import TreatmentKind
from debtflow.db import utcnow
from debtflow.models import (
    Account,
    Case,
    Collector,
    ContactAttempt,
    ContactDecision,
    Creditor,
    Debtor,
    User,
)
from debtflow.models.enums import ContactKind
from debtflow.portal import service as portal_service
from debtflow.portal.service import Arrangements, SignedPlan
from debtflow.strategy import service as strategy_service
from debtflow.strategy.explanations import FINAL_STATUS_WORDS, stored_plan_note
from debtflow.strategy.rules import stored_reasons
from debtflow.strategy.todays_plan import TodaysPlan, stored_plan_differs, todays_plan
from debtflow.workbench import repository

CHANNELS = ("call", "sms", "email", "visit", "ai_voice")


class InvalidContactForm(InvalidInput):
    code = "invalid_contact_form"


# --- the queue --------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueEntry:
    case: Case
    debtor: Debtor
    creditor: Creditor
    collector: Collector | None
    #: expected value of the latest dispatch assignment (fen); None: never dispatched
    value_fen: int | None
    #: the latest gate decision was a deny: until when (None with ``blocked``: no end)
    next_allowed_at: datetime | None
    blocked: bool
    blocked_reasons: tuple[str, ...]


@dataclass(frozen=True)
class Queue:
    entries: Sequence[QueueEntry]
    total: int


def queue(
    session: Session,
    *,
    user: User,
    bucket: str | None = None,
    status: CaseStatus | None = None,
    limit: int = 50,
    offset: int = 0,
    now: datetime | None = None,
) -> Queue:
    """The cases ``user`` may see (agents: theirs; managers, admins, auditors: all) in
    dispatch priority order, with when each debtor may next be contacted as far as the
    latest gate decision about contacting the debtor says (a refused third-party contact
    does not stop the debtor being contacted)."""
    require(user, Permission.VIEW_CASES)
    scope = case_scope(user)
    if not scope.all_cases and scope.collector_id is None:
        return Queue(entries=[], total=0)
    rows, total = repository.queue(
        session,
        collector_id=None if scope.all_cases else scope.collector_id,
        bucket=bucket,
        status=status,
        limit=max(1, min(limit, 500)),
        offset=max(0, offset),
    )
    now = now or utcnow()
    decisions = repository.latest_decisions(session, case_ids=[r[0].id for r in rows])
    entries = []
    for case, debtor, creditor, collector, value_fen in rows:
        until, blocked, reasons = _gate_state(decisions.get(case.id), now=now)
        entries.append(
            QueueEntry(case, debtor, creditor, collector, value_fen, until, blocked, reasons)
        )
    return Queue(entries=entries, total=total)


def _gate_state(
    decision: ContactDecision | None, *, now: datetime
) -> tuple[datetime | None, bool, tuple[str, ...]]:
    """(next allowed time, blocked, reasons) from the latest gate decision about contacting
    the debtor: blocked while a deny is in force — until its next allowed time, or without
    end when it has none."""
    if decision is None or decision.allowed:
        return None, False, ()
    reasons = tuple(decision.reasons)
    if decision.next_allowed_at is None:
        return None, True, reasons
    if decision.next_allowed_at > now:
        return decision.next_allowed_at, True, reasons
    return None, False, ()


# --- the case page ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanView:
    """The case's plan as worked out now (``strategy.todays_plan``: what is owed now, the
    creditor's current mandate), ready to show."""

    kind: str
    repayment_months: int | None
    term_months: int | None
    monthly_fen: int | None
    relief_fen: int | None
    down_payment_fen: int | None
    #: change of the monthly burden in whole percent (negative = lighter)
    burden_change_percent: int | None
    #: mandate limits the offer breaks (relief, term, first_payment): needs approval
    refused: tuple[str, ...]
    legal_actions: tuple[str, ...]

    @property
    def offerable(self) -> bool:
        return self.kind != "legal" and not self.refused and bool(self.monthly_fen)


@dataclass(frozen=True)
class StrategyView:
    planned: bool
    segment: str | None
    reason_codes: tuple[str, ...]
    propensity: float | None
    #: the explanation of ``debtflow case explain``, line by line
    zh: tuple[str, ...]
    en: tuple[str, ...]
    #: the plan worked out now (None: not planned yet, or nothing is owed)
    plan: PlanView | None
    #: the plan the nightly run stored is not the one shown (the creditor changed its
    #: limits, a payment came in): the stored one is replaced at the next run
    stored_plan_differs: bool = False
    #: the plan the debtor signed in the portal: the arrangement in force (or paid in
    #: full); with one, ``plan`` is None — no fresh plan is proposed beside it
    agreed: SignedPlan | None = None


@dataclass(frozen=True)
class ThirdParty:
    contact_point_id: int
    label: str


@dataclass(frozen=True)
class CaseDesk:
    """Everything the case page shows beyond the case row and its history."""

    strategy: StrategyView
    script: NextAction
    third_parties: Sequence[ThirdParty]
    can_work: bool
    can_contact: bool
    #: what the debtor arranged or asked for in the portal (signed plan, disputes in force,
    #: open legal-advice requests)
    arrangements: Arrangements | None = None


def plan_view(today: TodaysPlan | None) -> PlanView | None:
    """Today's plan of a case as a plan to show — refused breaches and all: a refused offer
    is shown as what would need approval; the monthly change in whole percent of the exact
    amounts, as the explanation words it. None when the case is not planned yet or nothing
    is owed."""
    if today is None:
        return None
    if today.kind is TreatmentKind.LEGAL:
        actions = today.plan.actions if today.plan is not None else ()
        return PlanView(
            kind=today.kind.value,
            repayment_months=None,
            term_months=None,
            monthly_fen=None,
            relief_fen=None,
            down_payment_fen=None,
            burden_change_percent=None,
            refused=(),
            legal_actions=tuple(a.value for a in actions),
        )
    offer = today.offer
    if offer is None or today.debt.total_fen <= 0:
        return None
    return PlanView(
        kind=today.kind.value,
        repayment_months=offer.term_months - offer.schedule.terms.grace_months,
        term_months=offer.term_months,
        monthly_fen=offer.schedule.largest_instalment_fen,
        relief_fen=offer.relief_fen,
        down_payment_fen=offer.down_payment_fen,
        burden_change_percent=(
            offer.burden().change_percent if today.debt.current_monthly_fen > 0 else None
        ),
        refused=today.refused,
        legal_actions=(),
    )


def strategy_view(
    *,
    case: Case,
    creditor: Creditor,
    accounts: Sequence[Account],
    agreed: SignedPlan | None = None,
) -> StrategyView:
    """Segment, reasons and plan of the strategy, in words — the explanation of
    ``debtflow case explain`` (``strategy_service.explain_case``) computed from the rows
    the case page has already read (``accounts``: all of the case's accounts) and the
    cached rules, without reading the case again; an unplanned case says so. The plan is
    the one worked out now from what is owed and the creditor's current mandate
    (``todays_plan``), never the night's stored one when that no longer holds — unless the
    debtor signed a plan (``agreed``): that is the arrangement, and no other is proposed
    (nor worded in the explanation). A settled, closed or written-off case proposes no plan
    either and says so, as ``case explain`` does."""
    today = todays_plan(case=case, creditor=creditor, accounts=accounts)
    final = case.status in FINAL_STATUSES
    if agreed is not None or final:
        plan, differs = None, False
    else:
        plan = plan_view(today)
        differs = plan is not None and stored_plan_differs(case.treatment, today)
    closed: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if final:
        status_zh, status_en = FINAL_STATUS_WORDS[case.status]
        closed = (
            (f"案件{case.id}{status_zh}：不适用任何还款方案。",),
            (f"Case {case.id} is {status_en}: no repayment plan applies.",),
        )
    if today is None or case.segment is None or case.propensity is None:
        return StrategyView(False, None, (), None, closed[0], closed[1], plan, differs, agreed)
    segmentation, _ = strategy_service.strategy_rules()
    decision = SegmentDecision(
        segment=StrategySegment(case.segment),
        rule=case.segment_rule or "",
        rules_version=(case.strategy_rules or "").split("+")[0],
        reasons=stored_reasons(case.segment_reasons, segmentation),
        rule_zh=segmentation.name_zh(case.segment_rule),
    )
    if agreed is not None or final:
        words, note = explain(case.propensity, decision), None
    else:
        words = explain(case.propensity, decision, today.plan, today.refusal)
        note = stored_plan_note(case.treatment, today, case.strategy_on)
    return StrategyView(
        planned=True,
        segment=case.segment,
        reason_codes=tuple(case.segment_reasons or ()),
        propensity=case.propensity,
        zh=closed[0] + tuple(words.zh.splitlines()) + ((note[0],) if note else ()),
        en=closed[1] + tuple(words.en.splitlines()) + ((note[1],) if note else ()),
        plan=plan,
        stored_plan_differs=differs,
        agreed=agreed,
    )


def script_library() -> ScriptLibrary:
    """The script library in force (``DEBTFLOW_SCRIPT_LIBRARY`` or the shipped one; parsed
    again when the file changes)."""
    return conversation_rules.script_library()


def _script_cause(case: Case) -> ScriptCause | None:
    try:
        return ScriptCause(case.overdue_cause.value)
    except ValueError:
        return None


def case_context(
    *,
    case: Case,
    debtor: Debtor,
    creditor: Creditor,
    agent: User,
    plan: PlanView | None,
    current_monthly_fen: int,
    agreed: SignedPlan | None = None,
) -> CaseContext:
    """What a script may quote about the case. ``plan`` is the case's plan as worked out now
    (:func:`plan_view` of ``todays_plan``: within the creditor's current mandate, or marked
    refused), never the night's stored one. It is quoted only when the mandate allows it
    and it lowers or keeps a known monthly payment — and never when the debtor signed a
    plan (``agreed``): a script then speaks of that one (its next payment)."""
    offer = None
    if (
        agreed is None
        and plan is not None
        and plan.offerable
        and plan.repayment_months
        and plan.monthly_fen
        and current_monthly_fen > 0
        and plan.monthly_fen <= current_monthly_fen  # the heaviest instalment, never more
    ):
        offer = PlanOffer(
            instalment_count=plan.repayment_months,
            instalment_fen=plan.monthly_fen,
            current_monthly_fen=current_monthly_fen,
        )
    segment = None
    if case.segment in {s.value for s in Segment}:
        segment = Segment(case.segment)
    return CaseContext(
        debtor_name=debtor.name,
        creditor_name=creditor.name,
        agent_name=agent.display_name,
        outstanding_fen=case.outstanding_fen,
        segment=segment,
        plan=offer,
        agreed=None if agreed is None else agreed.script_terms(),
    )


def script_context(session: Session, *, case_id: int, user: User) -> CaseContext:
    """What a script chosen for a case may quote, as on the case page (:func:`desk`): the plan
    worked out now when the mandate allows it and it lowers the monthly payment, the signed
    plan's next payment when the debtor signed one, no plan for a settled, closed or
    written-off case — for the conversation API and call alerts, which read what the debtor
    says on a call of this case (404 for a case out of ``user``'s reach)."""
    case, debtor, creditor, _collector = case_service.get_row_for_user(
        session, case_id=case_id, user=user
    )
    accounts = case_service.get_with_accounts(session, case_id=case_id).accounts
    # the reach was checked above; the plan alone, not the disputes and requests beside it
    agreed = portal_service.signed_plan_of(session, case_id=case.id)
    strategy = strategy_view(case=case, creditor=creditor, accounts=accounts, agreed=agreed)
    return case_context(
        case=case,
        debtor=debtor,
        creditor=creditor,
        agent=user,
        plan=strategy.plan,
        current_monthly_fen=sum(a.instalment_fen for a in accounts),
        agreed=agreed,
    )


def opening_script(*, case: Case, context: CaseContext) -> NextAction:
    """The script to open with before the debtor has said anything: chosen by segment and
    cause from the library in force, willingness taken as the case's propensity score."""
    return choose_script(
        script_library(),
        emotion=Emotion.NEUTRAL,
        intent=Intent.OTHER,
        case=context,
        cause=_script_cause(case),
        willingness=case.propensity if case.propensity is not None else 0.5,
    )


def desk(
    session: Session,
    *,
    case: Case,
    debtor: Debtor,
    creditor: Creditor,
    user: User,
    accounts: Sequence[Account],
    arrangements: Arrangements | None = None,
) -> CaseDesk:
    """The workbench parts of a case page; ``case`` was read through the case service's
    scoping (``get_row_for_user``), ``accounts`` are all of its accounts, ``arrangements``
    what the debtor did in the portal (``portal_service.arrangements_of_case``). The plan
    is worked out once, now, and both shown and quoted — or, when the debtor signed one,
    that plan is shown and spoken of instead."""
    agreed = arrangements.plan if arrangements is not None else None
    strategy = strategy_view(case=case, creditor=creditor, accounts=accounts, agreed=agreed)
    context = case_context(
        case=case,
        debtor=debtor,
        creditor=creditor,
        agent=user,
        plan=strategy.plan,
        current_monthly_fen=sum(a.instalment_fen for a in accounts),
        agreed=agreed,
    )
    third_parties = []
    for point in repository.third_party_points(session, debtor_id=debtor.id):
        shown = "***"
        if point.kind == ContactKind.PHONE:
            try:
                shown = mask_phone(point.value)
            except PersonalDataError:
                shown = "—"
        who = " ".join(p for p in (point.relation, point.contact_name) if p)
        third_parties.append(ThirdParty(point.id, f"{who or point.kind.value} · {shown}"))
    return CaseDesk(
        strategy=strategy,
        script=opening_script(case=case, context=context),
        third_parties=third_parties,
        can_work=permits(user, Permission.RECORD_PROMISE),
        can_contact=permits(user, Permission.CONTACT_DEBTORS),
        arrangements=arrangements,
    )


@dataclass(frozen=True)
class ScriptReading:
    """What the debtor just said, as the conversation service reads it, and the script
    it suggests next."""

    emotion: str | None
    intent: str | None
    willingness: float | None
    script: NextAction


def script_for_reply(session: Session, *, case_id: int, user: User, said: str) -> ScriptReading:
    """The next script for what the debtor just said on a case in ``user``'s reach (the
    conversation service: emotion x intent x segment)."""
    require(user, Permission.VIEW_CASES)
    case, debtor, creditor, _collector = case_service.get_row_for_user(
        session, case_id=case_id, user=user
    )
    text = said.strip()
    if not text:
        raise InvalidInput("type what the debtor said")
    if len(text) > 2000:
        raise InvalidInput("at most 2,000 characters")
    accounts = case_service.get_with_accounts(session, case_id=case.id).accounts
    agreed = portal_service.signed_plan_of_case(session, case_id=case.id, user=user)
    context = case_context(
        case=case,
        debtor=debtor,
        creditor=creditor,
        agent=user,
        plan=(
            None
            if agreed is not None
            else plan_view(todays_plan(case=case, creditor=creditor, accounts=accounts))
        ),
        current_monthly_fen=sum(a.instalment_fen for a in accounts),
        agreed=agreed,
    )
    readings, _summary = conversation_service.analyze([("debtor", text)], case=context)
    reading = readings[0]
    action = reading["next_action"]
    return ScriptReading(
        emotion=reading.get("emotion"),
        intent=reading.get("intent"),
        willingness=reading.get("willingness"),
        script=NextAction(
            script_id=action["script_id"],
            library_version=action["library_version"],
            purpose=action["purpose"],
            text=action["text"],
            purpose_zh=action.get("purpose_zh"),
        ),
    )


# --- actions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactResult:
    """The gate's decision, and the logged attempt when it allowed the contact."""

    decision: ContactDecision
    attempt: ContactAttempt | None

    @property
    def logged(self) -> bool:
        return self.attempt is not None


def log_contact_now(
    session: Session,
    *,
    user: User,
    case_id: int,
    channel: str,
    contact_point_id: int | None = None,
    connected: bool,
    conversation: bool = False,
    outcome: str | None = None,
    note: str | None = None,
    debtor_unreachable: bool = False,
    now: datetime | None = None,
) -> ContactResult:
    """A contact made now: ask the compliance gate first (the decision is stored either
    way); on a deny nothing is logged and the result carries the reasons and the next
    allowed time; on an allow the attempt is logged against the decision (which appends
    it to the evidence log). ``contact_point_id`` names a third party (None: the debtor);
    ``conversation``: the right person was spoken to (counts only on a connected contact)."""
    if channel not in CHANNELS:
        raise InvalidContactForm(f"unknown channel {channel!r}; one of: {', '.join(CHANNELS)}")
    if outcome is not None and len(outcome) > 40:
        raise InvalidContactForm("the outcome is at most 40 characters")
    if note is not None and len(note) > 2000:
        raise InvalidContactForm("the note is at most 2,000 characters")
    moment = now or utcnow()
    script_text = None
    if contact_point_id is not None:  # a third party hears only the identity-safe script
        script_text = choose_script(
            script_library(), emotion=Emotion.NEUTRAL, intent=Intent.THIRD_PARTY, case=CaseContext()
        ).text
    decision = contact_access.request_contact(
        session,
        user=user,
        case_id=case_id,
        channel=channel,
        planned_at=moment,
        target="debtor" if contact_point_id is None else "third_party",
        contact_point_id=contact_point_id,
        debtor_unreachable=debtor_unreachable,
        script_text=script_text,
        now=moment,
    )
    if not decision.allowed:
        return ContactResult(decision=decision, attempt=None)
    attempt = contact_access.log_contact(
        session,
        user=user,
        decision_id=decision.id,
        attempted_at=moment,
        connected=connected,
        conversation=connected and conversation,
        outcome=outcome or None,
        note=note or None,
        now=moment,
    )
    return ContactResult(decision=decision, attempt=attempt)
