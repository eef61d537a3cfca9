"""Who may act in the field app: whose route a user reads, and whose stop a visit is.

A route sheet is read by its own field agent (or part-time collector), and by admins,
operations managers and compliance auditors (who say whose route); anyone else is refused
(403), and a field collector asking for another's route finds none (404). A visit — check-in,
outcome, uploads — is made by the field collector whose stop it is: the case is on their
route of the day or assigned to them; anyone else's stop is reported as missing (404).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from debtflow.auth.scoping import ALL_CASES_ROLES, Permission, require
from debtflow.case import service as case_service
from debtflow.case.service import CaseNotFound
from debtflow.core.errors import InvalidInput
from debtflow.field import repository
from debtflow.field.errors import NotAFieldCollector, RouteNotFound
from debtflow.models import Case, Collector, Role, User
from debtflow.models.enums import CollectorKind

FIELD_ROLES = frozenset({Role.FIELD_AGENT, Role.PART_TIME_COLLECTOR})
FIELD_KINDS = frozenset({CollectorKind.FIELD_AGENT, CollectorKind.PART_TIME})


def route_collector(session: Session, *, user: User, collector_id: int | None) -> Collector:
    """Whose route ``user`` may read: a field collector their own (another's is 404), an
    admin, manager or auditor anyone's (``collector_id`` required); others 403."""
    require(user, Permission.VIEW_CASES)
    if user.role in FIELD_ROLES:
        if user.collector_id is None or collector_id not in (None, user.collector_id):
            raise RouteNotFound(f"no route of collector {collector_id}")
        wanted = user.collector_id
    elif user.role in ALL_CASES_ROLES:
        if collector_id is None:
            raise InvalidInput("say whose route to show (collector_id)")
        wanted = collector_id
    else:
        raise NotAFieldCollector(f"a {user.role.value} has no field route")
    collector = repository.collector(session, collector_id=wanted)
    if collector is None or collector.kind not in FIELD_KINDS:
        raise RouteNotFound(f"no route of collector {wanted}")
    return collector


def field_collectors(session: Session, *, user: User) -> Sequence[Collector]:
    """The field collectors whose routes ``user`` may read."""
    require(user, Permission.VIEW_CASES)
    if user.role in ALL_CASES_ROLES:
        return repository.field_collectors(session)
    if user.role in FIELD_ROLES and user.collector_id is not None:
        own = repository.collector(session, collector_id=user.collector_id)
        return [own] if own is not None and own.kind in FIELD_KINDS else []
    return []


def field_stop(
    session: Session, *, user: User, case_id: int, day: date, for_update: bool = False
) -> tuple[Collector, Case]:
    """The field collector making a visit on ``case_id``, and the case (row-locked with
    ``for_update``); it must be on their route of ``day`` or assigned to them (else 404, as
    for a missing case)."""
    require(user, Permission.CONTACT_DEBTORS)
    if user.role not in FIELD_ROLES or user.collector_id is None:
        raise NotAFieldCollector("only field agents and part-time collectors record visits")
    collector = repository.collector(session, collector_id=user.collector_id)
    if collector is None:
        raise NotAFieldCollector("the user is not linked to a collector")
    case = case_service.get(session, case_id=case_id, for_update=for_update)
    if case.assigned_collector_id == collector.id:
        return collector, case
    route = repository.route_of(session, collector_id=collector.id, day=day)
    on_route = route is not None and any(
        int(s["case_id"]) == case_id for s in (*route.stops, *route.unvisitable)
    )
    if not on_route:
        raise CaseNotFound(f"case {case_id} does not exist")
    return collector, case
