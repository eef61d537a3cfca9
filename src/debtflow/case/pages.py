"""HTML pages for cases; they call the same services as the JSON API."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from debtflow.case import service
from debtflow.core.case.lifecycle import CaseStatus
from debtflow.web.deps import TEMPLATES, DbSession

router = APIRouter(include_in_schema=False)


@router.get("/cases", response_class=HTMLResponse)
def case_list(
    request: Request,
    session: DbSession,
    bucket: str | None = Query(None, max_length=8),
    status: CaseStatus | None = None,
    page: int = Query(1, ge=1),
) -> HTMLResponse:
    per_page = 50
    listing = service.list_cases(
        session, bucket=bucket or None, status=status, limit=per_page, offset=(page - 1) * per_page
    )
    return TEMPLATES.TemplateResponse(
        request,
        "cases.html",
        {
            "listing": listing,
            "bucket": bucket or "",
            "status": status.value if status else "",
            "statuses": [s.value for s in CaseStatus],
            "buckets": service.bucket_names(),
            "page": page,
            "pages": max(1, -(-listing.total // per_page)),
        },
    )
