"""Case operations: reading, listing and moving a case through its lifecycle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from debtflow import evidence
from debtflow.case import repository
from debtflow.core.case.lifecycle import CaseStatus, check_transition
from debtflow.core.errors import NotFound
from debtflow.core.evidence.leaf import LeafKind
from debtflow.db import utcnow
from debtflow.models import Case, CaseStatusChange, Collector, Creditor, Debtor, User
from debtflow.models.enums import Channel


class CaseNotFound(NotFound):
    code = "case_not_found"


def get(session: Session, *, case_id: int, for_update: bool = False) -> Case:
    case = repository.get(session, case_id=case_id, for_update=for_update)
    if case is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    return case


def get_with_accounts(session: Session, *, case_id: int) -> Case:
    case = repository.get_with_accounts(session, case_id=case_id)
    if case is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    return case


@dataclass(frozen=True)
class CaseListing:
    rows: Sequence[tuple[Case, Debtor, Creditor, Collector | None]]
    total: int


def list_cases(
    session: Session,
    *,
    bucket: str | None = None,
    status: CaseStatus | None = None,
    collector_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> CaseListing:
    rows, total = repository.list_cases(
        session,
        bucket=bucket,
        status=status,
        collector_id=collector_id,
        limit=max(1, min(limit, 500)),
        offset=max(0, offset),
    )
    return CaseListing(rows=rows, total=total)


def get_row(session: Session, *, case_id: int) -> tuple[Case, Debtor, Creditor, Collector | None]:
    row = repository.get_row(session, case_id=case_id)
    if row is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    return row


def list_for_user(
    session: Session,
    *,
    user: User,
    bucket: str | None = None,
    status: CaseStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> CaseListing:
    """The cases ``user`` may see (see ``debtflow.auth.scoping``), highest priority first:
    most days past due, then oldest case."""
    from debtflow.auth.scoping import Permission, case_scope, require

    require(user, Permission.VIEW_CASES)
    scope = case_scope(user)
    if scope.all_cases:
        return list_cases(session, bucket=bucket, status=status, limit=limit, offset=offset)
    if scope.collector_id is None:
        return CaseListing(rows=[], total=0)
    return list_cases(
        session,
        bucket=bucket,
        status=status,
        collector_id=scope.collector_id,
        limit=limit,
        offset=offset,
    )


def get_row_for_user(
    session: Session, *, case_id: int, user: User
) -> tuple[Case, Debtor, Creditor, Collector | None]:
    """One case as ``get_row``, if ``user`` may see it; a case out of reach is reported
    exactly like a missing one (404), so ids reveal nothing."""
    from debtflow.auth.scoping import Permission, require

    require(user, Permission.VIEW_CASES)
    row = get_row(session, case_id=case_id)
    _check_reach(row[0], user)
    return row


def get_for_user(session: Session, *, case_id: int, user: User, for_update: bool = False) -> Case:
    """The case, if ``user`` may see it (404 otherwise, as for a missing case)."""
    case = get(session, case_id=case_id, for_update=for_update)
    _check_reach(case, user)
    return case


def check_reach(session: Session, *, case_id: int, user: User) -> None:
    """Refuse (404, as for a missing case) a case ``user`` may not see — for a caller that
    needs the check, not the case: a case this session holds is checked as it is, otherwise
    two columns are read instead of the whole case."""
    held = session.identity_map.get(session.identity_key(Case, case_id))
    if isinstance(held, Case):
        _check_reach(held, user)
        return
    check_read_reach(user, case_id=case_id, reach=repository.reach(session, case_id=case_id))


def check_read_reach(user: User, *, case_id: int, reach: tuple[int, int | None] | None) -> None:
    """``check_reach`` for a caller that read the case's (debtor id, assigned collector id)
    along with something else in one statement; ``reach`` None: the case does not exist.
    404 either way, as for a missing case."""
    if reach is None:
        raise CaseNotFound(f"case {case_id} does not exist")
    _check_scope(user, case_id=case_id, debtor_id=reach[0], assigned_collector_id=reach[1])


def _check_reach(case: Case, user: User) -> None:
    _check_scope(
        user,
        case_id=case.id,
        debtor_id=case.debtor_id,
        assigned_collector_id=case.assigned_collector_id,
    )


def _check_scope(
    user: User, *, case_id: int, debtor_id: int, assigned_collector_id: int | None
) -> None:
    from debtflow.auth.scoping import case_scope

    scope = case_scope(user)
    if not scope.covers(assigned_collector_id=assigned_collector_id, debtor_id=debtor_id):
        raise CaseNotFound(f"case {case_id} does not exist")


def bucket_names() -> tuple[str, ...]:
    from debtflow.config import get_settings
    from debtflow.core.strategy.buckets import BucketScheme

    return BucketScheme.from_edges(get_settings().bucket_edges).names


def transition(
    session: Session,
    *,
    case_id: int,
    to: CaseStatus,
    reason: str | None = None,
    actor: str = "system",
) -> Case:
    """Move a case to ``to`` if the lifecycle allows it; record who, when and why."""
    case = get(session, case_id=case_id, for_update=True)
    apply_transition(session, case, to=to, reason=reason, actor=actor)
    return case


def apply_transition(
    session: Session, case: Case, *, to: CaseStatus, reason: str | None, actor: str
) -> None:
    check_transition(case.status, to, hold_reason=reason, held_from=case.held_from)
    previous = case.status
    if to == CaseStatus.ON_HOLD:
        case.held_from = previous
        case.hold_reason = reason
    elif previous == CaseStatus.ON_HOLD:
        case.held_from = None
        case.hold_reason = None
    if to == CaseStatus.LEGAL:
        case.channel = Channel.LEGAL
    if to in (CaseStatus.SETTLED, CaseStatus.CLOSED, CaseStatus.WRITTEN_OFF):
        case.closed_at = utcnow()
    case.status = to
    repository.add_status_change(
        session,
        CaseStatusChange(
            case_id=case.id, from_status=previous, to_status=to, reason=reason, actor=actor
        ),
    )
    session.flush()
    evidence.append(
        session,
        kind=LeafKind.CASE_STATUS,
        case_id=case.id,
        occurred_at=utcnow(),
        payload={
            "actor": actor,
            "from_status": previous.value,
            "reason": reason,
            "to_status": to.value,
        },
    )


def status_history(session: Session, *, case_id: int) -> Sequence[CaseStatusChange]:
    get(session, case_id=case_id)
    return repository.status_history(session, case_id=case_id)
