"""Standing stops on contacting a debtor — do-not-contact, dispute, hardship cooling-off,
legal hold, attorney — for one case or every case of the debtor: recorded, lifted, and read
(the gate in ``service.py`` reads them as flags; a dispute also stops promises and field
visits). Re-exported by ``service.py``. Services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from debtflow.compliance import repository
from debtflow.core.compliance.contact import ContactFlag
from debtflow.core.errors import Conflict, InvalidInput, NotFound
from debtflow.db import utcnow
from debtflow.models import Case, ContactRestriction, Debtor


class InvalidContact(InvalidInput):
    """A contact ask or a restriction that cannot be taken as given."""

    code = "invalid_contact"


class CaseUnderDispute(Conflict):
    """A dispute holds the case: collection waits until the dispute has been dealt with, so
    no promise to pay is recorded and no field visit requested meanwhile (contacts are denied
    by the gate's ``dispute`` flag)."""

    code = "case_under_dispute"


def require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidContact(f"{what} must carry a time zone, got {moment.isoformat()}")


def set_restriction(
    session: Session,
    *,
    debtor_id: int,
    flag: str,
    reason: str,
    set_by: str,
    case_id: int | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    now: datetime | None = None,
) -> ContactRestriction:
    """Record a standing stop: do_not_contact, dispute, hardship_cooling_off, legal_hold or
    attorney (for one case, or every case of the debtor when ``case_id`` is None)."""
    now = now or utcnow()
    if flag not in {member.value for member in ContactFlag}:
        names = ", ".join(member.value for member in ContactFlag)
        raise InvalidContact(f"unknown restriction {flag!r}; expected one of: {names}")
    if not reason.strip() or not set_by.strip():
        raise InvalidContact("a restriction needs a reason and who set it")
    for moment in (starts_at, ends_at):
        if moment is not None:
            require_aware(moment, "restriction time")
    if session.get(Debtor, debtor_id) is None:
        raise NotFound(f"debtor {debtor_id} does not exist")
    if case_id is not None:
        case = session.get(Case, case_id)
        if case is None or case.debtor_id != debtor_id:
            raise InvalidContact(f"case {case_id} is not a case of debtor {debtor_id}")
    start = starts_at or now
    if ends_at is not None and ends_at <= start:
        raise InvalidContact("a restriction must end after it starts")
    row = ContactRestriction(
        debtor_id=debtor_id,
        case_id=case_id,
        flag=flag,
        reason=reason.strip(),
        starts_at=start,
        ends_at=ends_at,
        set_by=set_by.strip(),
    )
    repository.add(session, row)
    session.flush()
    return row


def lift_restriction(
    session: Session, *, restriction_id: int, lifted_by: str, now: datetime | None = None
) -> ContactRestriction:
    """Lift a standing stop; a debtor's portal dispute that set it is closed with it."""
    row = repository.restriction(session, restriction_id=restriction_id)
    if row is None:
        raise NotFound(f"restriction {restriction_id} does not exist")
    if row.lifted_at is not None:
        raise Conflict(f"restriction {restriction_id} was already lifted")
    row.lifted_at = now or utcnow()
    row.lifted_by = lifted_by
    session.flush()
    # a debtor's dispute is closed with the restriction it put on the case (the restriction
    # keeps who lifted it and when), so the debtor may dispute the case again
    repository.close_disputes_of_restriction(session, restriction_id=row.id)
    return row


def disputes_in_force(
    session: Session, *, case: Case, at: datetime
) -> Sequence[ContactRestriction]:
    """The ``dispute`` restrictions holding ``case`` at ``at`` (one on the case or on every
    case of its debtor, started, not ended, not lifted): the same notion as the gate's
    ``dispute`` flag — a debtor's portal dispute, or one an agent or officer recorded."""
    require_aware(at, "the time")
    return repository.disputes_in_force(session, debtor_id=case.debtor_id, case_id=case.id, at=at)


def refuse_while_disputed(session: Session, *, case: Case, at: datetime, act: str) -> None:
    """Raise :class:`CaseUnderDispute` when a dispute holds ``case`` at ``at``: while a debt
    is disputed it is verified, not collected (no promise to pay, no field visit). ``act``
    says what was refused, for the message."""
    held = disputes_in_force(session, case=case, at=at)
    if held:
        raise CaseUnderDispute(
            f"case {case.id} is disputed (since {held[0].starts_at:%Y-%m-%d}): {act} until "
            "the dispute has been dealt with and its restriction lifted"
        )
