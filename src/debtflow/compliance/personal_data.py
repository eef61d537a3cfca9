"""Personal data shown by role: only the collector currently assigned to the case sees a
full phone or ID number, and every such view is logged (who, what, when, why)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from debtflow.compliance import repository
from debtflow.core.case.lifecycle import OPEN_STATUSES
from debtflow.core.compliance.personal_data import FieldKind, ViewerRole, ViewLevel, show_field
from debtflow.core.errors import InvalidInput, NotFound
from debtflow.db import utcnow
from debtflow.models import PersonalDataView
from debtflow.models.enums import ContactKind

#: A full view must say why, in at least this many characters.
MIN_PURPOSE_CHARACTERS = 4


@dataclass(frozen=True)
class ShownPersonalData:
    text: str | None
    level: ViewLevel
    view_id: int | None  # the log row, when the full value was shown


def show(
    session: Session,
    *,
    case_id: int,
    kind: str,
    viewer: str,
    role: str,
    purpose: str,
    collector_id: int | None = None,
    contact_point_id: int | None = None,
    now: datetime | None = None,
) -> ShownPersonalData:
    """The debtor's phone (``contact_point_id``) or ID number as ``viewer`` may see it.

    Full only for a collector whose id is the case's assigned collector while the case is
    open; then the view is logged with ``purpose``. Everyone else gets the masked or hidden
    value of ``debtflow.core.compliance.personal_data.MASKING_POLICY``.
    """
    try:
        field_kind = FieldKind(kind)
        viewer_role = ViewerRole(role)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if not viewer.strip():
        raise InvalidInput("say who is viewing")
    found = repository.case_with_creditor(session, case_id=case_id)
    if found is None:
        raise NotFound(f"case {case_id} does not exist")
    case, _creditor, debtor = found
    if field_kind is FieldKind.PHONE:
        if contact_point_id is None:
            raise InvalidInput("name the contact point whose phone number is shown")
        point = repository.contact_point(session, contact_point_id=contact_point_id)
        if point is None or point.debtor_id != debtor.id:
            raise NotFound(f"contact point {contact_point_id} is not on case {case_id}")
        if point.kind is not ContactKind.PHONE:
            raise InvalidInput(
                f"contact point {contact_point_id} is an e-mail address, not a phone"
            )
        value = point.value
    else:
        value = debtor.id_number
    assigned = (
        viewer_role is ViewerRole.COLLECTOR
        and collector_id is not None
        and case.assigned_collector_id == collector_id
        and case.status in OPEN_STATUSES
    )
    shown = show_field(value, field_kind, role=viewer_role, assigned_collector=assigned)
    if not shown.must_log_view:
        return ShownPersonalData(shown.text, shown.level, None)
    if len(purpose.strip()) < MIN_PURPOSE_CHARACTERS:
        raise InvalidInput("viewing full personal data needs a purpose (why you need it)")
    view = PersonalDataView(
        debtor_id=debtor.id,
        case_id=case.id,
        contact_point_id=contact_point_id,
        field=field_kind.value,
        viewer=viewer.strip(),
        viewer_role=viewer_role.value,
        collector_id=collector_id,
        purpose=purpose.strip(),
        viewed_at=now or utcnow(),
    )
    repository.add(session, view)
    session.flush()
    return ShownPersonalData(shown.text, shown.level, view.id)


def views_of_debtor(session: Session, *, debtor_id: int) -> Sequence[PersonalDataView]:
    """The audit trail: every full view of this debtor's personal data, oldest first."""
    return repository.views_of_debtor(session, debtor_id=debtor_id)
