"""Roles, what each may do, and which cases each may reach. Services call these; pages
and routes only mirror them.

- admin, operations manager and compliance auditor reach every case (the auditor reads
  only: no promises, no changes);
- online agents, field agents, part-time collectors and partners (law firms,
  investigators) reach only the cases assigned to their ``collector`` row;
- a debtor reaches only their own debts, through the portal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from debtflow.core.errors import Forbidden
from debtflow.models import Role, User

__all__ = ["CaseScope", "Permission", "Role", "case_scope", "permits", "require"]


class Permission(StrEnum):
    VIEW_CASES = "view_cases"
    RECORD_PROMISE = "record_promise"
    WRITE_NOTES = "write_notes"
    CONTACT_DEBTORS = "contact_debtors"
    OVERRIDE_DENIALS = "override_denials"
    SET_RESTRICTIONS = "set_restrictions"
    AUDIT_COMPLIANCE = "audit_compliance"
    VIEW_OWN_DEBTS = "view_own_debts"
    VIEW_LEGAL_REQUESTS = "view_legal_requests"
    HANDLE_LEGAL_REQUESTS = "handle_legal_requests"
    VIEW_REPORTS = "view_reports"
    RECONCILE_PAYMENTS = "reconcile_payments"


#: writing a note is part of working a case (the compliance auditor reads only)
_COLLECTING = frozenset(
    {
        Permission.VIEW_CASES,
        Permission.RECORD_PROMISE,
        Permission.WRITE_NOTES,
        Permission.CONTACT_DEBTORS,
    }
)
_SUPERVISING = _COLLECTING | {
    Permission.OVERRIDE_DENIALS,
    Permission.SET_RESTRICTIONS,
    Permission.AUDIT_COMPLIANCE,
}

#: managers also see debtors' legal-advice requests (and record that one was handled), the
#: dashboard and payments that need reconciling
_MANAGING = _SUPERVISING | {
    Permission.VIEW_LEGAL_REQUESTS,
    Permission.HANDLE_LEGAL_REQUESTS,
    Permission.VIEW_REPORTS,
    Permission.RECONCILE_PAYMENTS,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: _MANAGING,
    Role.OPERATIONS_MANAGER: _MANAGING,
    Role.ONLINE_AGENT: _COLLECTING,
    Role.FIELD_AGENT: _COLLECTING,
    Role.PART_TIME_COLLECTOR: _COLLECTING,
    Role.PARTNER: _COLLECTING,
    Role.COMPLIANCE_AUDITOR: frozenset(
        {
            Permission.VIEW_CASES,
            Permission.SET_RESTRICTIONS,
            Permission.AUDIT_COMPLIANCE,
            Permission.VIEW_REPORTS,
        }
    ),
    Role.DEBTOR: frozenset({Permission.VIEW_OWN_DEBTS}),
}

ALL_CASES_ROLES = frozenset({Role.ADMIN, Role.OPERATIONS_MANAGER, Role.COMPLIANCE_AUDITOR})


class NotPermitted(Forbidden):
    code = "not_permitted"


def permits(user: User, permission: Permission) -> bool:
    return user.active and permission in ROLE_PERMISSIONS.get(user.role, frozenset())


def require(user: User, permission: Permission) -> None:
    if not permits(user, permission):
        raise NotPermitted(f"a {user.role.value} may not {permission.value.replace('_', ' ')}")


@dataclass(frozen=True)
class CaseScope:
    """The cases a user reaches: all, those assigned to one collector, one debtor's, or
    none (a collector role not linked to a collector row)."""

    all_cases: bool = False
    collector_id: int | None = None
    debtor_id: int | None = None

    def covers(self, *, assigned_collector_id: int | None, debtor_id: int) -> bool:
        if self.all_cases:
            return True
        if self.collector_id is not None:
            return assigned_collector_id == self.collector_id
        if self.debtor_id is not None:
            return debtor_id == self.debtor_id
        return False

    @property
    def empty(self) -> bool:
        return not self.all_cases and self.collector_id is None and self.debtor_id is None


def case_scope(user: User) -> CaseScope:
    if not user.active:
        return CaseScope()
    if user.role in ALL_CASES_ROLES:
        return CaseScope(all_cases=True)
    if user.role == Role.DEBTOR:
        return CaseScope(debtor_id=user.debtor_id)
    return CaseScope(collector_id=user.collector_id)
