"""All SQL of the debtor portal and of case histories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from debtflow.core.case.lifecycle import FINAL_STATUSES
from debtflow.db import BuiltOnce
from debtflow.models import (
    Account,
    Case,
    ContactAttempt,
    ContactPreference,
    ContactRestriction,
    Creditor,
    Debtor,
    DebtorDispute,
    LegalAdviceRequest,
    Payment,
    PaymentIntent,
    PaymentWebhookEvent,
    PlanInstalment,
    PortalPlan,
    PromiseToPay,
)
from debtflow.models.portal import (
    DISPUTE_OPEN,
    INTENT_PENDING,
    LEGAL_OPEN,
    PLAN_BROKEN,
    PLAN_COMPLETED,
    PLAN_LIVE,
    PLAN_SIGNED,
)


def cases_of_debtor(session: Session, *, debtor_id: int) -> Sequence[tuple[Case, Creditor]]:
    stmt = (
        select(Case, Creditor)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .where(Case.debtor_id == debtor_id)
        .order_by(Case.id)
    )
    return [(r[0], r[1]) for r in session.execute(stmt).all()]


@BuiltOnce
def _accounts_of_cases(dialect: str) -> Select[tuple[Account]]:
    return (
        select(Account)
        .where(Account.case_id.in_(bindparam("case_ids", expanding=True)))
        .order_by(Account.id)
    )


@BuiltOnce
def _accounts_of_cases_for_update(dialect: str) -> Select[tuple[Account]]:
    return _accounts_of_cases.build(dialect).with_for_update()


def accounts_of_cases(
    session: Session, *, case_ids: Sequence[int], for_update: bool = False
) -> Sequence[Account]:
    if not case_ids:
        return []
    stmt = (_accounts_of_cases_for_update if for_update else _accounts_of_cases)(session)
    return session.scalars(stmt, {"case_ids": list(case_ids)}).all()


@BuiltOnce
def _payments_of_case(dialect: str) -> Select[tuple[Payment]]:
    return (
        select(Payment)
        .where(Payment.case_id == bindparam("case_id"))
        .order_by(Payment.paid_at.desc(), Payment.id.desc())
        .limit(bindparam("limit"))
    )


def payments_of_case(session: Session, *, case_id: int, limit: int = 50) -> Sequence[Payment]:
    params = {"case_id": case_id, "limit": limit}
    return session.scalars(_payments_of_case(session), params).all()


@BuiltOnce
def _promises_of_case(dialect: str) -> Select[tuple[PromiseToPay]]:
    return (
        select(PromiseToPay)
        .where(PromiseToPay.case_id == bindparam("case_id"))
        .order_by(PromiseToPay.id.desc())
        .limit(bindparam("limit"))
    )


def promises_of_case(session: Session, *, case_id: int, limit: int = 50) -> Sequence[PromiseToPay]:
    params = {"case_id": case_id, "limit": limit}
    return session.scalars(_promises_of_case(session), params).all()


@BuiltOnce
def _contacts_of_case(dialect: str) -> Select[tuple[ContactAttempt]]:
    return (
        select(ContactAttempt)
        .where(ContactAttempt.case_id == bindparam("case_id"))
        .order_by(ContactAttempt.attempted_at.desc(), ContactAttempt.id.desc())
        .limit(bindparam("limit"))
    )


def contacts_of_case(
    session: Session, *, case_id: int, limit: int = 50
) -> Sequence[ContactAttempt]:
    params = {"case_id": case_id, "limit": limit}
    return session.scalars(_contacts_of_case(session), params).all()


# --- plans, agreements, payments, disputes, legal advice, contact preferences ---------


def case_parties(session: Session, *, case_id: int) -> tuple[Creditor, Debtor]:
    stmt = (
        select(Creditor, Debtor)
        .join(Case, Case.creditor_id == Creditor.id)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .where(Case.id == case_id)
    )
    row = session.execute(stmt).one()
    return row[0], row[1]


def plan_of_case(session: Session, *, case_id: int, for_update: bool = False) -> PortalPlan | None:
    """The case's live plan (chosen, signed or completed; at most one), never a broken one."""
    stmt = select(PortalPlan).where(PortalPlan.case_id == case_id, PortalPlan.status.in_(PLAN_LIVE))
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


@BuiltOnce
def _signed_plan_with_instalments(
    dialect: str,
) -> Select[tuple[PortalPlan, PlanInstalment | None, int]]:
    paid = (
        select(func.coalesce(func.sum(Payment.amount_fen), 0))
        .where(Payment.case_id == PortalPlan.case_id, Payment.recorded_at >= PortalPlan.signed_at)
        .correlate(PortalPlan)
        .scalar_subquery()
    )
    return (
        select(PortalPlan, PlanInstalment, paid)
        .outerjoin(PlanInstalment, PlanInstalment.plan_id == PortalPlan.id)
        .where(
            PortalPlan.case_id == bindparam("case_id"),
            PortalPlan.status.in_((PLAN_SIGNED, PLAN_COMPLETED)),
        )
        .order_by(PlanInstalment.number)
    )


def signed_plan_with_instalments(
    session: Session, *, case_id: int
) -> tuple[PortalPlan, list[PlanInstalment], int] | None:
    """The case's signed (or completed) plan, its instalments in order and what was booked
    on the case since it was signed (as ``booked_on_case_since``), in one statement; None
    when the debtor has signed none (or only one since broken)."""
    rows = session.execute(_signed_plan_with_instalments(session), {"case_id": case_id}).all()
    if not rows:
        return None
    return rows[0][0], [r[1] for r in rows if r[1] is not None], int(rows[0][2] or 0)


def last_broken_plan(session: Session, *, case_id: int) -> PortalPlan | None:
    stmt = (
        select(PortalPlan)
        .where(PortalPlan.case_id == case_id, PortalPlan.status == PLAN_BROKEN)
        .order_by(PortalPlan.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def signed_plans_of_open_cases(session: Session) -> Sequence[tuple[int, int, str | None]]:
    """(plan id, case id, debtor time zone) of every signed plan on a case not final."""
    stmt = (
        select(PortalPlan.id, PortalPlan.case_id, Debtor.timezone)
        .join(Case, Case.id == PortalPlan.case_id)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .where(PortalPlan.status == PLAN_SIGNED, Case.status.not_in(FINAL_STATUSES))
        .order_by(PortalPlan.id)
    )
    return [(r[0], r[1], r[2]) for r in session.execute(stmt).all()]


def plan_by_id(session: Session, *, plan_id: int, for_update: bool = False) -> PortalPlan | None:
    stmt = select(PortalPlan).where(PortalPlan.id == plan_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def instalments_of_plan(session: Session, *, plan_id: int) -> Sequence[PlanInstalment]:
    stmt = (
        select(PlanInstalment)
        .where(PlanInstalment.plan_id == plan_id)
        .order_by(PlanInstalment.number)
    )
    return session.scalars(stmt).all()


def replace_instalments(session: Session, *, plan_id: int, rows: Sequence[PlanInstalment]) -> None:
    session.execute(delete(PlanInstalment).where(PlanInstalment.plan_id == plan_id))
    session.add_all(rows)


def booked_on_case_since(session: Session, *, case_id: int, since: datetime) -> int:
    """What the payments *booked* on the case at or after ``since`` add up to, whenever the
    money was paid (``recorded_at``, not ``paid_at``): a payment booked before a plan was
    signed already lowered what the plan was worked out on; one booked after it counts
    towards the plan even when the provider or the bank says it was paid earlier."""
    stmt = select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(
        Payment.case_id == case_id, Payment.recorded_at >= since
    )
    return int(session.scalar(stmt) or 0)


def intent_by_key(session: Session, *, user_id: int, idempotency_key: str) -> PaymentIntent | None:
    stmt = select(PaymentIntent).where(
        PaymentIntent.user_id == user_id, PaymentIntent.idempotency_key == idempotency_key
    )
    return session.scalars(stmt).one_or_none()


def open_intents_fen(session: Session, *, case_id: int, since: datetime) -> int:
    """What payments started on the case at or after ``since`` and not yet settled add up to."""
    stmt = select(func.coalesce(func.sum(PaymentIntent.amount_fen), 0)).where(
        PaymentIntent.case_id == case_id,
        PaymentIntent.status == INTENT_PENDING,
        PaymentIntent.created_at >= since,
    )
    return int(session.scalar(stmt) or 0)


def latest_open_intent(
    session: Session, *, case_id: int, user_id: int, since: datetime
) -> PaymentIntent | None:
    """The user's latest payment started on the case at or after ``since`` and not yet
    settled."""
    stmt = (
        select(PaymentIntent)
        .where(
            PaymentIntent.case_id == case_id,
            PaymentIntent.user_id == user_id,
            PaymentIntent.status == INTENT_PENDING,
            PaymentIntent.created_at >= since,
        )
        .order_by(PaymentIntent.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def intent_by_provider_id(
    session: Session, *, provider_payment_id: str, for_update: bool = False
) -> PaymentIntent | None:
    stmt = select(PaymentIntent).where(PaymentIntent.provider_payment_id == provider_payment_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def intents_of_case(session: Session, *, case_id: int, limit: int = 20) -> Sequence[PaymentIntent]:
    stmt = (
        select(PaymentIntent)
        .where(PaymentIntent.case_id == case_id)
        .order_by(PaymentIntent.id.desc())
        .limit(limit)
    )
    return session.scalars(stmt).all()


def intents_with_status(
    session: Session, *, status: str, limit: int = 200
) -> Sequence[PaymentIntent]:
    stmt = (
        select(PaymentIntent)
        .where(PaymentIntent.status == status)
        .order_by(PaymentIntent.id.desc())
        .limit(limit)
    )
    return session.scalars(stmt).all()


def record_event_once(session: Session, *, values: dict[str, object]) -> int | None:
    """Insert a webhook event unless (provider, event_id) is already there; the id of the
    new row, or None for a duplicate. On PostgreSQL a concurrent insert of the same pair
    waits for the first transaction and then inserts nothing."""
    dialect = session.connection().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(PaymentWebhookEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(PaymentWebhookEvent.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def set_event_outcome(session: Session, *, event_row_id: int, outcome: str) -> None:
    session.execute(
        update(PaymentWebhookEvent)
        .where(PaymentWebhookEvent.id == event_row_id)
        .values(outcome=outcome)
    )


def disputes_of_case(session: Session, *, case_id: int) -> Sequence[DebtorDispute]:
    stmt = (
        select(DebtorDispute)
        .where(DebtorDispute.case_id == case_id)
        .order_by(DebtorDispute.id.desc())
    )
    return session.scalars(stmt).all()


def open_dispute_of_case(session: Session, *, case_id: int) -> DebtorDispute | None:
    """A dispute of the case still open: its status says so and the contact restriction
    it put on the case is not lifted (one lifted before lifting closed disputes still
    reads ``open``)."""
    stmt = (
        select(DebtorDispute)
        .join(ContactRestriction, ContactRestriction.id == DebtorDispute.restriction_id)
        .where(
            DebtorDispute.case_id == case_id,
            DebtorDispute.status == DISPUTE_OPEN,
            ContactRestriction.lifted_at.is_(None),
        )
        .limit(1)
    )
    return session.scalars(stmt).first()


def disputes_of_restrictions(
    session: Session, *, restriction_ids: Sequence[int]
) -> dict[int, DebtorDispute]:
    """The debtors' portal disputes that put these restrictions on, by restriction id."""
    if not restriction_ids:
        return {}
    stmt = select(DebtorDispute).where(DebtorDispute.restriction_id.in_(list(restriction_ids)))
    return {row.restriction_id: row for row in session.scalars(stmt).all()}


def legal_requests_of_case(
    session: Session, *, case_id: int, status: str | None = None
) -> Sequence[LegalAdviceRequest]:
    """The case's legal-advice requests, newest first; with ``status``, only those in it."""
    stmt = select(LegalAdviceRequest).where(LegalAdviceRequest.case_id == case_id)
    if status is not None:
        stmt = stmt.where(LegalAdviceRequest.status == status)
    return session.scalars(stmt.order_by(LegalAdviceRequest.id.desc())).all()


def same_legal_request(
    session: Session,
    *,
    case_id: int,
    question: str,
    contact_channel: str,
    contact_time: str,
    since: datetime,
) -> LegalAdviceRequest | None:
    """The latest open legal-advice request on the case made at or after ``since`` with
    exactly this question, channel and time."""
    stmt = (
        select(LegalAdviceRequest)
        .where(
            LegalAdviceRequest.case_id == case_id,
            LegalAdviceRequest.question == question,
            LegalAdviceRequest.contact_channel == contact_channel,
            LegalAdviceRequest.contact_time == contact_time,
            LegalAdviceRequest.created_at >= since,
            LegalAdviceRequest.status == LEGAL_OPEN,
        )
        .order_by(LegalAdviceRequest.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def legal_request(
    session: Session, *, request_id: int, for_update: bool = False
) -> LegalAdviceRequest | None:
    stmt = select(LegalAdviceRequest).where(LegalAdviceRequest.id == request_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one_or_none()


def legal_requests(
    session: Session, *, status: str | None = None, limit: int = 200
) -> Sequence[tuple[LegalAdviceRequest, Debtor, Creditor]]:
    """Legal-advice requests with their debtor and creditor, newest first; with
    ``status``, only those in it."""
    stmt = (
        select(LegalAdviceRequest, Debtor, Creditor)
        .join(Debtor, Debtor.id == LegalAdviceRequest.debtor_id)
        .join(Case, Case.id == LegalAdviceRequest.case_id)
        .join(Creditor, Creditor.id == Case.creditor_id)
    )
    if status is not None:
        stmt = stmt.where(LegalAdviceRequest.status == status)
    stmt = stmt.order_by(LegalAdviceRequest.created_at.desc(), LegalAdviceRequest.id.desc())
    return [(r[0], r[1], r[2]) for r in session.execute(stmt.limit(limit)).all()]


def contact_preference(session: Session, *, debtor_id: int) -> ContactPreference | None:
    stmt = select(ContactPreference).where(ContactPreference.debtor_id == debtor_id)
    return session.scalars(stmt).one_or_none()
