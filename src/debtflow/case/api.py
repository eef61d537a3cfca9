"""JSON routes for cases: dependencies in, one service call, response out."""

from __future__ import annotations

from fastapi import APIRouter, Query

from debtflow.case import service
from debtflow.case.schemas import CasePage, CaseRead
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.web.deps import DbSession

router = APIRouter(prefix="/api/cases", tags=["cases"])


def to_read(row: tuple) -> CaseRead:  # type: ignore[type-arg]
    case, debtor, creditor, collector = row
    return CaseRead(
        id=case.id,
        creditor_code=creditor.code,
        debtor_name=debtor.name,
        status=case.status,
        bucket=case.bucket,
        days_past_due=case.days_past_due,
        outstanding_fen=case.outstanding_fen,
        channel=case.channel.value,
        overdue_cause=case.overdue_cause.value,
        assigned_collector=collector.name if collector is not None else None,
        aged_on=case.aged_on,
    )


@router.get("", response_model=CasePage)
def list_cases(
    session: DbSession,
    bucket: str | None = Query(None, max_length=8),
    status: CaseStatus | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> CasePage:
    listing = service.list_cases(session, bucket=bucket, status=status, limit=limit, offset=offset)
    return CasePage(
        items=[to_read(r) for r in listing.rows], total=listing.total, limit=limit, offset=offset
    )


@router.get("/{case_id}", response_model=CaseRead)
def get_case(case_id: int, session: DbSession) -> CaseRead:
    return to_read(service.get_row(session, case_id=case_id))
