"""Whose case a debtor acts on: their own, and nobody else's.

Every portal operation on one case — its page, plans, payments, disputes and requests —
starts here: staff are refused (403) and another debtor's case is reported as missing (404),
as ``case.service.get_for_user`` scopes it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from debtflow.auth.scoping import Permission, require
from debtflow.case import service as case_service
from debtflow.models import Case, User


def own_case(session: Session, *, case_id: int, user: User, for_update: bool = False) -> Case:
    """A case of the signed-in debtor (403 for staff, 404 for anybody else's case)."""
    require(user, Permission.VIEW_OWN_DEBTS)
    return case_service.get_for_user(session, case_id=case_id, user=user, for_update=for_update)
