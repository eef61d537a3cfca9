"""Compliance operations on behalf of a signed-in user: the user's role decides what they may
do, and their name is what the record keeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from debtflow.auth.scoping import NotPermitted, Permission, require
from debtflow.case import service as case_service
from debtflow.compliance import personal_data, report, repository, service
from debtflow.compliance.service import DecisionNotFound
from debtflow.core.compliance.personal_data import ViewerRole
from debtflow.models import ContactRestriction, DenyOverride, Role, User

VIEWER_ROLE: dict[Role, ViewerRole] = {
    Role.ADMIN: ViewerRole.SUPERVISOR,
    Role.OPERATIONS_MANAGER: ViewerRole.SUPERVISOR,
    Role.ONLINE_AGENT: ViewerRole.COLLECTOR,
    Role.FIELD_AGENT: ViewerRole.COLLECTOR,
    Role.PART_TIME_COLLECTOR: ViewerRole.COLLECTOR,
    Role.COMPLIANCE_AUDITOR: ViewerRole.COMPLIANCE_OFFICER,
    Role.PARTNER: ViewerRole.PARTNER,
}


def grant_override(
    session: Session, *, user: User, decision_id: int, written_reason: str
) -> DenyOverride:
    require(user, Permission.OVERRIDE_DENIALS)
    decision = repository.decision(session, decision_id=decision_id)
    if decision is None:
        raise DecisionNotFound(f"gate decision {decision_id} does not exist")
    case_service.get_for_user(session, case_id=decision.case_id, user=user)
    return service.grant_override(
        session, decision_id=decision_id, supervisor=user.username, written_reason=written_reason
    )


def set_restriction(
    session: Session, *, user: User, debtor_id: int, **restriction: Any
) -> ContactRestriction:
    require(user, Permission.SET_RESTRICTIONS)
    return service.set_restriction(
        session, debtor_id=debtor_id, set_by=user.username, **restriction
    )


def show_personal_data(
    session: Session,
    *,
    user: User,
    case_id: int,
    kind: str,
    purpose: str,
    contact_point_id: int | None = None,
) -> personal_data.ShownPersonalData:
    role = VIEWER_ROLE.get(user.role)
    if role is None:
        raise NotPermitted(f"a {user.role.value} may not view collection personal data")
    case_service.get_for_user(session, case_id=case_id, user=user)
    return personal_data.show(
        session,
        case_id=case_id,
        kind=kind,
        viewer=user.username,
        role=role.value,
        purpose=purpose,
        collector_id=user.collector_id,
        contact_point_id=contact_point_id,
    )


def compliance_report(
    session: Session, *, user: User, since: datetime, until: datetime
) -> report.ComplianceReport:
    require(user, Permission.AUDIT_COMPLIANCE)
    return report.compliance_report(session, since=since, until=until)
