"""The SQL of retention and deletion requests: when a debtor's last contact activity took
place, and the deletion of their contact and compliance records (docs/compliance-operations.md,
"Retention and deletion requests")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Delete, Select, delete, func, or_, select
from sqlalchemy.orm import Session

from debtflow.models import (
    CallAlert,
    Case,
    ContactAttempt,
    ContactDecision,
    ContactRestriction,
    ConversationAnalysis,
    Debtor,
    DebtorDispute,
    DenyOverride,
    FieldCheckin,
    FieldVisitFile,
    PersonalDataView,
    QaSample,
)


def debtor_timezone(session: Session, *, debtor_id: int) -> str | None:
    return session.scalar(select(Debtor.timezone).where(Debtor.id == debtor_id))


@dataclass(frozen=True)
class DebtorRecords:
    """One debtor's rows as subqueries of ids, for the statements of a deletion request:
    read when each statement runs, so a row is still found after the rows pointing at it
    are gone and before it goes itself."""

    debtor_id: int
    case_ids: Select[tuple[int]]
    attempt_ids: Select[tuple[int]]
    decision_ids: Select[tuple[int]]
    restriction_ids: Select[tuple[int]]
    checkin_ids: Select[tuple[int]]

    @classmethod
    def of(cls, debtor_id: int) -> DebtorRecords:
        case_ids = select(Case.id).where(Case.debtor_id == debtor_id)
        attempt_ids = select(ContactAttempt.id).where(ContactAttempt.debtor_id == debtor_id)
        decision_ids = select(ContactDecision.id).where(ContactDecision.debtor_id == debtor_id)
        restriction_ids = select(ContactRestriction.id).where(
            ContactRestriction.debtor_id == debtor_id
        )
        # a visit to one of the debtor's cases; by its decision and attempt too, so that
        # no check-in is left pointing at a row the deletion removes
        checkin_ids = select(FieldCheckin.id).where(
            or_(
                FieldCheckin.case_id.in_(case_ids),
                FieldCheckin.decision_id.in_(decision_ids),
                FieldCheckin.attempt_id.in_(attempt_ids),
            )
        )
        return cls(debtor_id, case_ids, attempt_ids, decision_ids, restriction_ids, checkin_ids)


#: What a deletion request deletes (docs/compliance-operations.md, "Retention and deletion
#: requests"): one entry per table, in foreign-key order — a table comes before every table
#: it points at, so no statement finds a row still pointed at. Nothing that is kept points
#: at a row deleted here (a check-in points at its promise to pay, which stays), and the
#: evidence log is never touched. A new table of contact records is one more entry.
CONTACT_RECORDS: tuple[tuple[str, Callable[[DebtorRecords], Delete]], ...] = (
    # derived from the debtor's conversations: of their calls, or of their cases
    ("call_alert", lambda d: delete(CallAlert).where(CallAlert.case_id.in_(d.case_ids))),
    (
        "conversation_analysis",
        lambda d: delete(ConversationAnalysis).where(
            or_(
                ConversationAnalysis.case_id.in_(d.case_ids),
                ConversationAnalysis.contact_attempt_id.in_(d.attempt_ids),
            )
        ),
    ),
    (
        "field_visit_file",
        lambda d: delete(FieldVisitFile).where(FieldVisitFile.checkin_id.in_(d.checkin_ids)),
    ),
    ("field_checkin", lambda d: delete(FieldCheckin).where(FieldCheckin.id.in_(d.checkin_ids))),
    ("qa_sample", lambda d: delete(QaSample).where(QaSample.contact_attempt_id.in_(d.attempt_ids))),
    (
        "contact_attempt",
        lambda d: delete(ContactAttempt).where(ContactAttempt.debtor_id == d.debtor_id),
    ),
    (
        "deny_override",
        lambda d: delete(DenyOverride).where(DenyOverride.decision_id.in_(d.decision_ids)),
    ),
    (
        "contact_decision",
        lambda d: delete(ContactDecision).where(ContactDecision.debtor_id == d.debtor_id),
    ),
    # the restriction is the dispute's hold on contacts; the link cannot be NULL
    (
        "debtor_dispute",
        lambda d: delete(DebtorDispute).where(
            or_(
                DebtorDispute.debtor_id == d.debtor_id,
                DebtorDispute.restriction_id.in_(d.restriction_ids),
            )
        ),
    ),
    (
        "contact_restriction",
        lambda d: delete(ContactRestriction).where(ContactRestriction.debtor_id == d.debtor_id),
    ),
    (
        "personal_data_view",
        lambda d: delete(PersonalDataView).where(PersonalDataView.debtor_id == d.debtor_id),
    ),
)

#: the tables a deletion request deletes from, in the order it does
CONTACT_RECORD_TABLES: tuple[str, ...] = tuple(table for table, _statement in CONTACT_RECORDS)


def last_contact_activity(session: Session, *, debtor_id: int) -> datetime | None:
    """When the debtor's latest contact activity took place (None: never): a contact
    attempt, a gate decision, a field visit (its check-in or outcome), a conversation
    analysis of one of their cases or contacts, an alert raised during one of their calls,
    or a dispute they filed — each of the records a deletion request deletes that says when
    something happened."""
    d = DebtorRecords.of(debtor_id)
    latest = (
        select(func.max(ContactAttempt.attempted_at)).where(ContactAttempt.debtor_id == debtor_id),
        select(func.max(ContactDecision.decided_at)).where(ContactDecision.debtor_id == debtor_id),
        select(func.max(FieldCheckin.checked_in_at)).where(FieldCheckin.id.in_(d.checkin_ids)),
        select(func.max(FieldCheckin.outcome_at)).where(FieldCheckin.id.in_(d.checkin_ids)),
        select(func.max(ConversationAnalysis.analysed_at)).where(
            or_(
                ConversationAnalysis.case_id.in_(d.case_ids),
                ConversationAnalysis.contact_attempt_id.in_(d.attempt_ids),
            )
        ),
        select(func.max(DebtorDispute.created_at)).where(DebtorDispute.debtor_id == debtor_id),
        select(func.max(CallAlert.raised_at)).where(CallAlert.case_id.in_(d.case_ids)),
    )
    row = session.execute(select(*(stmt.scalar_subquery() for stmt in latest))).one()
    moments = [moment for moment in row if moment is not None]
    return max(moments) if moments else None


def delete_contact_records(session: Session, *, debtor_id: int) -> dict[str, int]:
    """Delete the debtor's contact and compliance records (``CONTACT_RECORDS``, in that
    order, in the caller's transaction); rows deleted per table, every table named."""
    records = DebtorRecords.of(debtor_id)
    counts: dict[str, int] = {}
    for table, statement in CONTACT_RECORDS:
        stmt = statement(records).execution_options(synchronize_session=False)
        result = session.execute(stmt)
        counts[table] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return counts
