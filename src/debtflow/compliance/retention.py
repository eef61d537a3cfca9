"""Deletion requests against the retention rules: contact and compliance records are kept
2 years (CN) / 3 years (US) after the last contact activity, longer under a legal hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from debtflow.compliance import repository, retention_records
from debtflow.compliance.service import pack_named, zone_named
from debtflow.core.compliance.contact import ContactFlag
from debtflow.core.compliance.retention import DeletionVerdict, deletion_decision
from debtflow.core.errors import NotFound
from debtflow.db import utcnow


@dataclass(frozen=True)
class DeletionOutcome:
    verdict: DeletionVerdict
    keep_until: date | None
    deleted: dict[str, int] = field(default_factory=dict)


def request_deletion(
    session: Session,
    *,
    debtor_id: int,
    apply: bool,
    now: datetime | None = None,
    today: date | None = None,
) -> DeletionOutcome:
    """May the debtor's contact records be deleted today? When ``apply`` and the law allows, delete
    them in the caller's transaction (``retention_records.CONTACT_RECORDS``: call alerts,
    conversation analyses, field check-ins and their file rows, QA samples, attempts, overrides,
    decisions, portal disputes, restrictions, the personal-data view log — of every case of the
    debtor); ``deleted`` counts the rows per table. Promises, payments and the evidence log stay.

    The retention years count from the date of the last contact activity (attempt,
    decision, field check-in or visit outcome, conversation analysis, call alert, dispute) in the
    debtor's own time zone (the database hands the time back in UTC), and ``today`` is the
    debtor's date too: by default the date of ``now`` in the debtor's zone, not the
    business zone's.

    The strictest creditor wins: the longest retention of the packs of the debtor's cases.
    An active legal-hold restriction keeps everything.
    """
    cases = repository.cases_of_debtor(session, debtor_id=debtor_id)
    if not cases:
        raise NotFound(f"debtor {debtor_id} has no cases")
    moment = now or utcnow()
    legal_hold = any(
        row.flag == ContactFlag.LEGAL_HOLD and (row.ends_at is None or row.ends_at > moment)
        for case, _creditor in cases
        for row in repository.active_restrictions(
            session, debtor_id=debtor_id, case_id=case.id, at=moment
        )
    )
    last = retention_records.last_contact_activity(session, debtor_id=debtor_id)
    if last is None:
        if legal_hold:
            return DeletionOutcome(DeletionVerdict.KEEP_LEGAL_HOLD, None)
        deleted = (
            retention_records.delete_contact_records(session, debtor_id=debtor_id) if apply else {}
        )
        return DeletionOutcome(DeletionVerdict.DELETE, None, deleted)
    zone = zone_named(
        retention_records.debtor_timezone(session, debtor_id=debtor_id) or "", debtor_id=debtor_id
    )
    decisions = [
        deletion_decision(
            last_activity=last,
            jurisdiction=pack_named(creditor.compliance_pack).jurisdiction,
            zone=zone,
            today=today or moment.astimezone(zone).date(),
            legal_hold=legal_hold,
            minimum_years=pack_named(creditor.compliance_pack).retention_years,
        )
        for _case, creditor in cases
    ]
    strictest = max(decisions, key=lambda d: (not d.may_delete, d.keep_until))
    if not strictest.may_delete or not apply:
        return DeletionOutcome(strictest.verdict, strictest.keep_until)
    deleted = retention_records.delete_contact_records(session, debtor_id=debtor_id)
    return DeletionOutcome(strictest.verdict, strictest.keep_until, deleted)
